// Package golden compares test output with golden files and rewrites them
// when the tests run with -update:
//
//	golden.Assert(t, filepath.Join("testdata", "x.golden"), got)
//
//	go test ./pkg -run TestX -update   # accept the new output, then review git diff
//
// It is imported by tests only; it owns the one -update flag of the module.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the output of the tests")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Assert compares got with the golden file at path (relative paths are
// relative to the package directory, where go test runs). With -update it
// writes got to path instead, creating directories as needed. A difference
// or a missing file is reported with t.Errorf: the test goes on.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Errorf("golden: %v", err)
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Errorf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("golden: %v\nto create it: %s", err, updateCommand(t))
		return
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("output differs from %s (- golden file, + output):\n%s\nif the new output is right: %s (then review git diff)",
		path, Diff(string(want), string(got)), updateCommand(t))
}

// updateCommand is the go test command that rewrites the golden files of
// the running test.
func updateCommand(t testing.TB) string {
	pkg := "."
	if wd, err := os.Getwd(); err == nil {
		if root := moduleRoot(wd); root != "" {
			if rel, err := filepath.Rel(root, wd); err == nil {
				pkg = "./" + filepath.ToSlash(rel)
			}
		}
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test %s -run '%s' -update", pkg, strings.Join(parts, "/"))
}

func moduleRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Diff returns a line diff of want and got: lines only in want start with
// "- ", lines only in got with "+ ", and up to three unchanged lines around
// each change with "  "; "@@ line n @@" starts each hunk with its line
// number in want. Long diffs are cut after maxDiffLines lines.
func Diff(want, got string) string {
	switch {
	case want == got:
		return ""
	case strings.TrimRight(want, "\n") == strings.TrimRight(got, "\n"):
		return fmt.Sprintf("  (only the trailing newlines differ: %d in the golden file, %d in the output)",
			len(want)-len(strings.TrimRight(want, "\n")), len(got)-len(strings.TrimRight(got, "\n")))
	case strings.ReplaceAll(want, "\r\n", "\n") == strings.ReplaceAll(got, "\r\n", "\n"):
		return "  (only the line endings differ: \\r\\n against \\n)"
	}
	if strings.HasSuffix(want, "\n") && strings.HasSuffix(got, "\n") {
		want, got = want[:len(want)-1], got[:len(got)-1]
	}
	ops := diffLines(strings.Split(want, "\n"), strings.Split(got, "\n"))
	show := make([]bool, len(ops))
	for i, op := range ops {
		if op.kind != ' ' {
			for j := max(0, i-contextLines); j <= min(len(ops)-1, i+contextLines); j++ {
				show[j] = true
			}
		}
	}
	var out []string
	for i, op := range ops {
		if !show[i] {
			continue
		}
		if i == 0 || !show[i-1] {
			out = append(out, fmt.Sprintf("@@ line %d @@", op.line+1))
		}
		out = append(out, string(op.kind)+" "+op.text)
	}
	if len(out) > maxDiffLines {
		n := len(out) - maxDiffLines
		out = append(out[:maxDiffLines], fmt.Sprintf("... (%d more diff lines)", n))
	}
	return strings.Join(out, "\n")
}

const (
	contextLines = 3
	maxDiffLines = 80
	maxLCSCells  = 4 << 20 // beyond this the middle is shown as replaced wholesale
)

type diffOp struct {
	kind byte // ' ', '-', '+'
	text string
	line int // line index in want (for '+', the line it is inserted before)
}

// diffLines is a longest-common-subsequence line diff (after stripping the
// common prefix and suffix, which keeps it cheap for the usual small change).
func diffLines(a, b []string) []diffOp {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	var ops []diffOp
	for i := 0; i < p; i++ {
		ops = append(ops, diffOp{' ', a[i], i})
	}
	ma, mb := a[p:len(a)-s], b[p:len(b)-s]
	if len(ma)*len(mb) > maxLCSCells {
		for i, l := range ma {
			ops = append(ops, diffOp{'-', l, p + i})
		}
		for _, l := range mb {
			ops = append(ops, diffOp{'+', l, p + len(ma)})
		}
	} else {
		// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
		lcs := make([][]int, len(ma)+1)
		for i := range lcs {
			lcs[i] = make([]int, len(mb)+1)
		}
		for i := len(ma) - 1; i >= 0; i-- {
			for j := len(mb) - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(ma) || j < len(mb) {
			switch {
			case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
				ops = append(ops, diffOp{' ', ma[i], p + i})
				i++
				j++
			case i < len(ma) && (j == len(mb) || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, diffOp{'-', ma[i], p + i})
				i++
			default:
				ops = append(ops, diffOp{'+', mb[j], p + i})
				j++
			}
		}
	}
	for i := len(a) - s; i < len(a); i++ {
		ops = append(ops, diffOp{' ', a[i], i})
	}
	return ops
}
