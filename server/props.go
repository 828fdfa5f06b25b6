package server

import (
	"net/http"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/auth"
)

// applyHidden enforces per-property read rules. Hidden properties leave the
// default projection; named in $filter or $orderby they are refused as if
// they did not exist (their values could be inferred through filters); named
// in $select they stay in the response with the value null (masked), because
// Salesforce selects every field it synced, whoever the user is, and a 400
// would break the whole object for users without the right. It returns the
// masked properties.
func applyHidden(q *semantic.Query, hidden map[string]bool) (map[*metadata.Property]bool, error) {
	if len(hidden) == 0 {
		return nil, nil
	}
	if q.Apply != nil {
		// The result has only grouping properties and aliases; what the
		// aggregation reads of the set must be readable, as in $filter.
		for _, p := range q.Apply.Reads() {
			if hidden[p.Name] {
				return nil, unknownProperty(q.Set, p.Name)
			}
		}
		return nil, nil
	}
	if q.Property != nil && hidden[q.Property.Name] { // Set(key)/Name of a hidden property
		return nil, unknownProperty(q.Set, q.Property.Name)
	}
	// An expansion joining on a hidden property would tell its values:
	// for the caller that navigation does not exist (the binder checks the
	// nested levels).
	kept := q.Expand[:0:0]
	for _, e := range q.Expand {
		if !semantic.JoinHidden(e.Nav, hidden) {
			kept = append(kept, e)
			continue
		}
		if !e.Star {
			return nil, newHTTPError(http.StatusBadRequest, codeInvalidQuery, "%s has no navigation property %s", q.Set.Name, e.Nav.Name)
		}
	}
	q.Expand = kept
	var masked map[*metadata.Property]bool
	if q.SelectExplicit {
		for _, p := range q.Select {
			if hidden[p.Name] {
				if masked == nil {
					masked = map[*metadata.Property]bool{}
				}
				masked[p] = true
			}
		}
	}
	var refused string
	visit := func(e semantic.Expr) {
		walkExpr(e, func(p *metadata.Property, via *metadata.Navigation) {
			if hidden[p.Name] && refused == "" {
				refused = p.Name
				if via != nil {
					// A navigation whose foreign key is hidden is unknown:
					// it would reveal the key's value.
					refused = via.Name
				}
			}
		})
	}
	visit(q.Filter)
	for _, o := range q.OrderBy {
		visit(o.Expr)
	}
	for _, c := range q.Compute { // selected or not, like $filter
		visit(c.Expr)
	}
	if refused != "" {
		return nil, unknownProperty(q.Set, refused)
	}
	if q.SelectExplicit {
		if q.Search != nil {
			q.Search = pruneSearch(q.Search, hidden)
		}
		return masked, nil
	}
	sel := q.Select[:0:0]
	own := 0
	for _, p := range q.Select {
		if !hidden[p.Name] || p.Dynamic {
			sel = append(sel, p)
			if !p.Dynamic {
				own++
			}
		}
	}
	q.Select = sel
	// The key must stay readable for Salesforce's External ID.
	if own == 0 {
		q.Select = append(append([]*metadata.Property(nil), q.Set.Key...), sel...)
	}
	if !q.SelectExplicit && own != len(q.Set.Properties) {
		q.SelectExplicit = true // the context URL then lists what is returned
	}
	if q.Search != nil {
		q.Search = pruneSearch(q.Search, hidden)
	}
	return nil, nil
}

func unknownProperty(set *metadata.EntitySet, name string) error {
	e := newHTTPError(http.StatusBadRequest, codeInvalidQuery, "%s has no property %s", set.Name, name)
	e.target = name
	return e
}

// walkExpr calls f for every property of the query's own set that a bound
// expression reads, $it references inside lambdas and the foreign keys of
// navigations included (via is then the navigation); properties of sets
// reached through navigation are the binder's business (semantic.Access).
func walkExpr(e semantic.Expr, f func(p *metadata.Property, via *metadata.Navigation)) {
	semantic.OwnProps(e, f)
}

// pruneSearch drops hidden properties from every search term.
func pruneSearch(s semantic.Search, hidden map[string]bool) semantic.Search {
	switch x := s.(type) {
	case *semantic.SearchTerm:
		t := &semantic.SearchTerm{Text: x.Text}
		for _, p := range x.Props {
			if !hidden[p.Name] {
				t.Props = append(t.Props, p)
			}
		}
		return t
	case *semantic.SearchAnd:
		return &semantic.SearchAnd{L: pruneSearch(x.L, hidden), R: pruneSearch(x.R, hidden)}
	case *semantic.SearchOr:
		return &semantic.SearchOr{L: pruneSearch(x.L, hidden), R: pruneSearch(x.R, hidden)}
	case *semantic.SearchNot:
		return &semantic.SearchNot{X: pruneSearch(x.X, hidden)}
	}
	return s
}

// access is the caller's view of sets reached through navigation
// (semantic.Access): the same permission, row filter and hidden properties
// as a direct read of the set.
type access struct {
	s *Server
	r *http.Request
}

func (a access) Reach(set *metadata.EntitySet) (semantic.Expr, map[string]bool, error) {
	if err := a.s.authorize(a.r, set, auth.Read); err != nil {
		return nil, nil, err
	}
	if a.s.policy == nil {
		return nil, nil, nil
	}
	p := requestInfo(a.r).principal
	restrict, err := a.s.policy.RowFilter(p, set)
	if err != nil {
		return nil, nil, err
	}
	return restrict, a.s.policy.HiddenProperties(p, set.Name), nil
}
