package server

import (
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
)

// applyMembers is the JSON shape of the rows of an aggregated result:
// grouping properties at their navigation paths, then the aliases as
// dynamic properties (the order of a.Columns, which the rows follow).
func applyMembers(a *semantic.Apply) []jsonfmt.Member {
	out := make([]jsonfmt.Member, 0, len(a.Columns))
	for _, g := range a.Group {
		path := append(append([]string(nil), g.Path...), g.P.Name)
		out = append(out, jsonfmt.Member{Path: path, P: g.Out})
	}
	for _, g := range a.Aggregates {
		out = append(out, jsonfmt.Member{Path: []string{g.Alias}, P: g.Out, Dynamic: true})
	}
	return out
}
