package test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/odatagw/odatagw/server/app"
)

// k8sObject is the part of a manifest the checks read.
type k8sObject struct {
	APIVersion string                `yaml:"apiVersion"`
	Kind       string                `yaml:"kind"`
	Metadata   struct{ Name string } `yaml:"metadata"`
	Data       map[string]string     `yaml:"data"`
	StringData map[string]string     `yaml:"stringData"`
	Spec       struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
					RunAsUser    int  `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []struct {
					Args  []string `yaml:"args"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					EnvFrom []struct {
						SecretRef struct{ Name string } `yaml:"secretRef"`
					} `yaml:"envFrom"`
					Readiness k8sProbe `yaml:"readinessProbe"`
					Liveness  k8sProbe `yaml:"livenessProbe"`
					Resources struct {
						Requests map[string]string `yaml:"requests"`
						Limits   map[string]string `yaml:"limits"`
					} `yaml:"resources"`
					SecurityContext struct {
						ReadOnlyRootFilesystem   bool `yaml:"readOnlyRootFilesystem"`
						AllowPrivilegeEscalation bool `yaml:"allowPrivilegeEscalation"`
					} `yaml:"securityContext"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name      string                `yaml:"name"`
					ConfigMap struct{ Name string } `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		ScaleTargetRef struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		MinReplicas  int `yaml:"minReplicas"`
		MaxReplicas  int `yaml:"maxReplicas"`
		MinAvailable int `yaml:"minAvailable"`
	} `yaml:"spec"`
	// Service selectors are a plain map under spec.selector.
	raw map[string]any
}

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// TestKubernetesManifests parses deploy/kubernetes and checks them
// against the gateway itself: the ConfigMap's odatagw.yaml and the
// Secret's variables load (strictly) into the configuration they mean, the
// container port is the configured listen port, the probe paths answer on
// a running gateway, and the objects refer to each other by the right names.
func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "deploy", "kubernetes")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", dir, err)
	}
	objs := map[string]*k8sObject{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var raw map[string]any
			_ = yaml.Unmarshal(b, &raw)
			o.raw = raw
			if o.Kind == "" || o.APIVersion == "" {
				t.Fatalf("%s: no kind/apiVersion", f)
			}
			objs[o.Kind] = &o
		}
	}
	for _, kind := range []string{"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Kustomization"} {
		if objs[kind] == nil {
			t.Fatalf("no %s in %s", kind, dir)
		}
	}
	dep, svc, cm, sec := objs["Deployment"], objs["Service"], objs["ConfigMap"], objs["Secret"]
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	ctr := pod.Containers[0]

	// The configuration the pod gets: the ConfigMap's file (through the
	// container's --config) and the Secret's variables (envFrom).
	if len(ctr.VolumeMounts) != 1 || len(pod.Volumes) != 1 || pod.Volumes[0].ConfigMap.Name != cm.Metadata.Name ||
		ctr.VolumeMounts[0].Name != pod.Volumes[0].Name {
		t.Fatalf("the ConfigMap is not mounted: %+v %+v", ctr.VolumeMounts, pod.Volumes)
	}
	if len(ctr.Args) != 2 || ctr.Args[0] != "--config" || filepath.Dir(ctr.Args[1]) != ctr.VolumeMounts[0].MountPath || cm.Data[filepath.Base(ctr.Args[1])] == "" {
		t.Fatalf("args %q do not name the ConfigMap's file", ctr.Args)
	}
	if len(ctr.EnvFrom) != 1 || ctr.EnvFrom[0].SecretRef.Name != sec.Metadata.Name {
		t.Fatalf("envFrom does not name the Secret")
	}
	cfgPath := filepath.Join(t.TempDir(), "odatagw.yaml")
	if err := os.WriteFile(cfgPath, []byte(cm.Data[filepath.Base(ctr.Args[1])]), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, err := app.Load("serve", app.Sources{Args: []string{"--config", cfgPath}, Env: func(k string) string { return sec.StringData[k] }})
	if err != nil {
		t.Fatalf("the ConfigMap and Secret do not load: %v", err)
	}
	for name, ok := range map[string]bool{
		"ODATAGW_TOKEN_KEY": c.TokenKey == sec.StringData["ODATAGW_TOKEN_KEY"] && len(c.TokenKey) >= 16,
		"ODATAGW_DB":        c.DB == sec.StringData["ODATAGW_DB"],
		"ODATAGW_READ_DB":   len(c.ReadDB) == 1 && c.ReadDB[0] == sec.StringData["ODATAGW_READ_DB"],
	} {
		if !ok {
			t.Errorf("Secret variable %s not taken by the gateway", name)
		}
	}
	if len(sec.StringData) != 3 {
		t.Errorf("Secret has %d variables, the test checks 3", len(sec.StringData))
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil || host != "0.0.0.0" {
		t.Fatalf("listen %q: must listen on all interfaces in a pod", c.Listen)
	}
	if !c.CSRF.Enabled || !c.Metrics {
		t.Errorf("csrf and metrics should be on")
	}
	if grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second; grace <= c.ShutdownTimeout+5*time.Second {
		t.Errorf("terminationGracePeriodSeconds %s not above shutdown_timeout %s + preStop 5s", grace, c.ShutdownTimeout)
	}

	// Ports: the container's named port is the listen port; the probes
	// and the Service use it by name.
	if len(ctr.Ports) != 1 || strconv.Itoa(ctr.Ports[0].ContainerPort) != port {
		t.Fatalf("containerPort %+v, listen port %s", ctr.Ports, port)
	}
	portName := ctr.Ports[0].Name
	if svc.Spec.Ports[0].TargetPort != portName {
		t.Errorf("Service targetPort %q, container port %q", svc.Spec.Ports[0].TargetPort, portName)
	}

	// Probes: the paths answer 200 on a running gateway (the demo
	// database), readiness on /readyz and liveness on /healthz.
	g := start(t, func() app.Config {
		d := app.Default()
		d.Listen = "127.0.0.1:0"
		d.DemoPath = filepath.Join(t.TempDir(), "demo.sqlite")
		d.LogLevel = "warn"
		return d
	}())
	for _, p := range []struct {
		name       string
		probe      k8sProbe
		want, body string
	}{
		{"readiness", ctr.Readiness, "/readyz", `"ready"`},
		{"liveness", ctr.Liveness, "/healthz", `"ok"`},
	} {
		if p.probe.HTTPGet.Path != p.want || p.probe.HTTPGet.Port != portName {
			t.Errorf("%s probe %+v, want %s on port %q", p.name, p.probe.HTTPGet, p.want, portName)
		}
		if r := g.do("GET", p.probe.HTTPGet.Path, nil); r.Status != 200 || !strings.Contains(string(r.Body), p.body) {
			t.Errorf("%s probe %s: %d %s", p.name, p.probe.HTTPGet.Path, r.Status, r.Body)
		}
	}

	// Security and resources.
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 ||
		!ctr.SecurityContext.ReadOnlyRootFilesystem || ctr.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("pod must run as non-root with a read-only root filesystem: %+v %+v", pod.SecurityContext, ctr.SecurityContext)
	}
	if ctr.Resources.Requests["cpu"] == "" || ctr.Resources.Requests["memory"] == "" || ctr.Resources.Limits["memory"] == "" {
		t.Errorf("resources: %+v", ctr.Resources)
	}
	// The image's user (distroless nonroot) is the pod's.
	df, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil || !strings.Contains(string(df), ":nonroot") || pod.SecurityContext.RunAsUser != 65532 {
		t.Errorf("Dockerfile base is not distroless :nonroot (uid 65532) or runAsUser %d differs", pod.SecurityContext.RunAsUser)
	}

	// References between objects.
	labels := dep.Spec.Template.Metadata.Labels
	matches := func(sel map[string]string) bool {
		for k, v := range sel {
			if labels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	svcSel := map[string]string{}
	if spec, ok := svc.raw["spec"].(map[string]any); ok {
		if sel, ok := spec["selector"].(map[string]any); ok {
			for k, v := range sel {
				svcSel[k] = v.(string)
			}
		}
	}
	hpa, pdb := objs["HorizontalPodAutoscaler"], objs["PodDisruptionBudget"]
	for name, ok := range map[string]bool{
		"Deployment selector":   matches(dep.Spec.Selector.MatchLabels),
		"Service selector":      matches(svcSel),
		"PodDisruptionBudget":   matches(pdb.Spec.Selector.MatchLabels) && pdb.Spec.MinAvailable >= 1,
		"HPA target":            hpa.Spec.ScaleTargetRef.Kind == "Deployment" && hpa.Spec.ScaleTargetRef.Name == dep.Metadata.Name,
		"HPA keeps two or more": hpa.Spec.MinReplicas >= 2 && hpa.Spec.MaxReplicas >= hpa.Spec.MinReplicas && pdb.Spec.MinAvailable < hpa.Spec.MinReplicas,
	} {
		if !ok {
			t.Errorf("%s does not match", name)
		}
	}
}
