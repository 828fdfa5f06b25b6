package app

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/odatagw/odatagw/adapters"
)

// track runs `odatagw track install|status|remove`: it prepares (or
// undoes) change capture in the database for the sets configured with
// track_changes (all the sets named with --set, when given). It needs DDL
// rights; serving does not.
func track(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] != "install" && args[0] != "status" && args[0] != "remove" {
		fmt.Fprintln(stderr, "usage: odatagw track install|status|remove [--config F] [--db ... --schemas ...]")
		return 2
	}
	verb := args[0]
	c, extra, err := Load("track", Sources{Args: args[1:], Env: getenv, Stderr: stderr})
	if err != nil {
		fmt.Fprintln(stderr, "odatagw:", err)
		return 2
	}
	if len(extra) > 0 {
		fmt.Fprintf(stderr, "odatagw track: unexpected arguments %q\n", extra)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ad, model, _, code := openModel(ctx, c, stderr)
	if code != 0 {
		return code
	}
	defer ad.Close()
	admin, ok := ad.(adapters.TrackAdmin)
	if !ok {
		fmt.Fprintln(stderr, "odatagw: this database backend cannot track changes")
		return 1
	}
	sets := c.trackedSets(model)
	if len(sets) == 0 {
		fmt.Fprintln(stderr, "odatagw: no set is configured with track_changes: true (sets: {<table>: {track_changes: true}})")
		return 2
	}
	switch verb {
	case "install":
		err = admin.InstallTracking(ctx, sets)
	case "remove":
		err = admin.RemoveTracking(ctx, sets)
	}
	if err != nil {
		fmt.Fprintln(stderr, "odatagw:", err)
		return 1
	}
	st, err := admin.TrackingStatus(ctx, sets)
	if err != nil {
		fmt.Fprintln(stderr, "odatagw:", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SET\tINSTALLED\tLOG ENTRIES\tOLDEST")
	for _, s := range st {
		oldest := "-"
		if !s.Oldest.IsZero() {
			oldest = s.Oldest.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%s\n", s.Set, s.Installed, s.Entries, oldest)
	}
	_ = tw.Flush()
	return 0
}
