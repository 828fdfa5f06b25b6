package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/odatagw/odatagw/server/auth"
)

const usage = `odatagw - an OData 4.0 gateway for Salesforce Connect

Usage:
  odatagw serve [flags]                run the gateway (no --db: the embedded demo database)
  odatagw config [flags]               print the effective configuration, secrets masked
  odatagw introspect [flags] [--json]  list entity sets with their Salesforce field types and warnings
  odatagw check URL [check flags]      validate an OData 4 service (ours or another) for Salesforce Connect
  odatagw salesforce-bundle [flags]    write Salesforce metadata for this service (sf project deploy)
  odatagw track install|status|remove [flags]
                                       prepare, show or undo change capture for sets with track_changes
                                       (delta links; needs DDL rights, serve never does)
  odatagw hash-password                read a password on stdin, print a bcrypt hash for auth.basic
  odatagw hash-api-key                 read an API key on stdin, print its hash for auth.api_keys
  odatagw version                      print the version

Flags of serve, config, introspect, salesforce-bundle and track:
`

// Main runs the command line; it returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		Usage(stderr)
		return 2
	}
	cmd, rest := args[0], args[1:]
	src := Sources{Args: rest, Env: getenv, Stderr: stderr}
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "odatagw %s\n", Version)
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		Usage(stdout)
		return 0
	case "serve":
		c, extra, err := Load("serve", src)
		if err != nil {
			fmt.Fprintln(stderr, "odatagw:", err)
			return 2
		}
		if len(extra) > 0 {
			fmt.Fprintf(stderr, "odatagw serve: unexpected arguments %q\n", extra)
			return 2
		}
		return serve(c, stderr)
	case "config":
		c, _, err := Load("config", src)
		if err != nil {
			fmt.Fprintln(stderr, "odatagw:", err)
			return 2
		}
		if err := c.Print(stdout); err != nil {
			fmt.Fprintln(stderr, "odatagw:", err)
			return 1
		}
		return 0
	case "introspect":
		return introspect(rest, stdout, stderr, getenv)
	case "check":
		return runCheck(rest, stdout, stderr, getenv)
	case "salesforce-bundle":
		return bundle(rest, stdout, stderr, getenv)
	case "track":
		return track(rest, stdout, stderr, getenv)
	case "hash-password":
		pw, err := readSecret(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "odatagw:", err)
			return 1
		}
		h, err := auth.HashPassword(pw)
		if err != nil {
			fmt.Fprintln(stderr, "odatagw:", err)
			return 1
		}
		fmt.Fprintln(stdout, h)
		return 0
	case "hash-api-key":
		k, err := readSecret(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "odatagw:", err)
			return 1
		}
		fmt.Fprintln(stdout, auth.HashAPIKey(k))
		return 0
	}
	fmt.Fprintf(stderr, "odatagw: unknown command %q\n\n", cmd)
	fmt.Fprint(stderr, usage)
	return 2
}

func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("nothing on stdin")
	}
	return line, nil
}

// serve runs until SIGINT/SIGTERM, then drains in-flight requests.
func serve(c Config, stderr io.Writer) int {
	log := NewLogger(c, stderr)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	g, err := Start(ctx, c, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			if err := g.Reload(context.Background()); err != nil {
				log.Error().Err(err).Msg("reload failed; still serving the previous model/certificate")
			} else {
				log.Info().Int("entity_sets", len(g.Model.Sets)).Msg("reloaded")
			}
		case err := <-g.Done():
			if err != nil {
				log.Error().Err(err).Msg("listener failed")
				return 1
			}
			return 0
		case <-ctx.Done():
			log.Info().Msg("shutting down: draining in-flight requests")
			sctx, scancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
			err := g.Shutdown(sctx)
			scancel()
			if err != nil {
				log.Error().Err(err).Msg("shutdown")
				return 1
			}
			log.Info().Msg("stopped")
			return 0
		}
	}
}
