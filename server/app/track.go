package app

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
)

// track runs `odatagw track install|status|remove`: it prepares (or
// undoes) change capture in the database for the sets configured with
// track_changes (all the sets named with --set, when given). It needs DDL
// rights; serving does not.
func track(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] != "install" && args[0] != "status" && args[0] != "remove" {
		fmt.Fprintln(stderr, "usage: odatagw track install|status|remove [--config F] [--db ... --schemas ...] [--progress[=on|plain|off]]")
		return 2
	}
	verb := args[0]
	rest, bar, err := takeProgress(args[1:], stderr, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "odatagw track:", err)
		return 2
	}
	c, extra, err := Load("track", Sources{Args: rest, Env: getenv, Stderr: stderr})
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
	n := 0
	done := func(s *metadata.EntitySet) { n++; bar.Update(n, s.Name) }
	switch verb {
	case "install":
		bar.Start("track install", len(sets))
		err = admin.InstallTracking(ctx, sets, done)
	case "remove":
		bar.Start("track remove", len(sets))
		err = admin.RemoveTracking(ctx, sets, done)
	}
	bar.Done()
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
