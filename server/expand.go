package server

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
)

// expandChunk is how many parent rows of a page are held in memory and
// expanded together (one query per expanded navigation property and
// chunk).
const expandChunk = 100

// Config.MaxExpandEntities bounds the expanded entities one response
// writes (and builds in memory), nested ones included: a page ends early
// (its nextLink takes the rest) before passing it, and one entity whose
// expansions alone pass it is refused. A related row shared by many parents
// counts once per parent, so the bound holds where the rows read
// (adapters.ExpandOptions MaxRows) would not.

// errTooLarge answers an entity that cannot be written within the limits
// even alone.
func (s *Server) errTooLarge(what string) error {
	return newHTTPError(http.StatusBadRequest, codeLimitExceeded,
		"%s is larger than one response may be (%d expanded entities or %d bytes): "+
			"expand less, or page the expanded collections with a nested $top, or $select fewer properties",
		what, s.cfg.MaxExpandEntities, s.cfg.MaxPageBytes)
}

// withJoinColumns returns dbq reading also the parents' join columns of
// q.Expand (adapters.JoinColumns). Output positions are unchanged: the
// added columns come last.
func withJoinColumns(q, dbq *semantic.Query) *semantic.Query {
	sel := adapters.JoinColumns(dbq.Select, q.Expand)
	if len(sel) == len(dbq.Select) {
		return dbq
	}
	wide := *dbq
	wide.Select = sel
	return &wide
}

// expandPageCap is the most rows of one expanded collection per parent:
// the page size (at most 2,000).
func (s *Server) expandPageCap() int64 {
	return int64(min(s.cfg.MaxPageSize, 2000))
}

// expand reads the expansions of q for parents (rows of q.Set).
func (s *Server) expand(r *http.Request, q *semantic.Query, parents []*adapters.Node) error {
	end := s.stage(r, "expand")
	err := adapters.Expand(r.Context(), s.adapter, q.Expand, parents, adapters.ExpandOptions{PageCap: s.expandPageCap()})
	end(err)
	return err
}

// nested converts a parent's expansions to JSON members.
func (s *Server) nested(r *http.Request, f format, set *metadata.EntitySet, parent *adapters.Node) []jsonfmt.Nested {
	if len(parent.Expanded) == 0 {
		return nil
	}
	out := make([]jsonfmt.Nested, len(parent.Expanded))
	for i, x := range parent.Expanded {
		e := x.Expand
		n := jsonfmt.Nested{Name: e.Nav.Name, Many: e.Nav.Many, CountOnly: e.CountOnly}
		if x.Count >= 0 {
			c := x.Count
			n.Count = &c
		}
		if x.More {
			n.NextLink = s.expandNextLink(r, set, parent, x)
		}
		target := e.Nav.Target
		var idx []int
		for _, node := range x.Rows {
			if idx == nil {
				idx = positions(e.Query.Select, node.Columns)
			}
			ent := jsonfmt.Entity{Ref: e.Ref}
			if e.Ref || f.metadata == jsonfmt.Full {
				ent.ID = s.entityURL(r, target, adapters.KeyOf(target, adapters.Row{Columns: node.Columns, Values: node.Values}))
			}
			if !e.Ref {
				if f.metadata == jsonfmt.Full {
					ent.TypeName = s.Model().Namespace + "." + target.Name
				}
				ent.Cols = e.Query.Select
				ent.Vals = make([]edm.Value, len(idx))
				for j, at := range idx {
					ent.Vals[j] = node.Values[at]
				}
				ent.ETag = s.nestedETag(target, node)
				ent.Nested = s.nested(r, f, target, node)
			}
			n.Entities = append(n.Entities, ent)
		}
		out[i] = n
	}
	return out
}

// positions returns where each of want is among cols.
func positions(want, cols []*metadata.Property) []int {
	idx := make([]int, len(want))
	for i, p := range want {
		idx[i] = -1
		for j, c := range cols {
			if c == p {
				idx[i] = j
				break
			}
		}
	}
	return idx
}

// expandNextLink is the URL of the rest of an expanded collection cut at
// the page cap: the navigation path of the parent with the nested options,
// $top reduced by what was returned and $skip past it
// (.../Customers('ALFKI')/Orders?$filter=...&$top=3&$skip=2000).
func (s *Server) expandNextLink(r *http.Request, set *metadata.EntitySet, parent *adapters.Node, x *adapters.Expansion) string {
	e := x.Expand
	key := adapters.KeyOf(set, adapters.Row{Columns: parent.Columns, Values: parent.Values})
	var pairs [][2]string
	for _, kv := range e.Options.Pairs() {
		if kv[0] != "$top" && kv[0] != "$skip" {
			pairs = append(pairs, kv)
		}
	}
	if e.Query.Top != nil {
		pairs = append(pairs, [2]string{"$top", strconv.FormatInt(*e.Query.Top-(x.Next-e.Query.Skip), 10)})
	}
	pairs = append(pairs, [2]string{"$skip", strconv.FormatInt(x.Next, 10)})
	return s.serviceRootURL(r) + url.PathEscape(set.Name) + "(" + odata.FormatKey(semantic.KeyParts(set, key), true) + ")/" +
		url.PathEscape(e.Nav.Name) + "?" + odata.EncodePairs(pairs)
}

// expandContext describes q's expansions for the context URL.
func expandContext(exp []*semantic.Expand) []jsonfmt.ExpandContext {
	var out []jsonfmt.ExpandContext
	for _, e := range exp {
		c := jsonfmt.ExpandContext{Name: e.Nav.Name, Nested: expandContext(e.Query.Expand)}
		if e.Query.SelectExplicit && !e.Ref && !e.CountOnly {
			c.Selected = e.Query.Select
		}
		out = append(out, c)
	}
	return out
}

// contextURL is the @odata.context of a response to q.
func (s *Server) contextURL(r *http.Request, q *semantic.Query, entity bool) string {
	return jsonfmt.ContextURLExpand(s.serviceRootURL(r), q.Set.Name, selected(q), expandContext(q.Expand), entity)
}

// nestedETag is the ETag of an expanded entity when its read has what the
// ETag needs (the row-version column, or every property for a hash), else
// "".
func (s *Server) nestedETag(set *metadata.EntitySet, node *adapters.Node) string {
	switch {
	case set.ETag != nil && slices.Contains(node.Columns, set.ETag):
	case set.ETagHash && len(positions(set.Properties, node.Columns)) == len(set.Properties) && !hasMissing(positions(set.Properties, node.Columns)):
	default:
		return ""
	}
	return edm.ETag(s.cfg.TokenKey, set, node.Columns, node.Values)
}

func hasMissing(idx []int) bool {
	for _, i := range idx {
		if i < 0 {
			return true
		}
	}
	return false
}

// writePageExpand is writePage for a query with $expand: the page's rows
// are read into memory first (at most the page size; the parents' read is
// then closed, so that the expansions' reads never wait for a second
// connection while holding one), then expanded and written in chunks of
// expandChunk rows, each chunk with one query per expanded navigation
// property and level.
func (s *Server) writePageExpand(w io.Writer, r *http.Request, req *odata.Request, q *semantic.Query, f format,
	page *semantic.Page, rows adapters.Rows, proj *projector, has bool) error {
	ri := requestInfo(r)
	cols := rows.Columns()
	var nodes []*adapters.Node
	more := false
	for has {
		if int64(len(nodes)) == page.Size {
			more = true
			break
		}
		nodes = append(nodes, &adapters.Node{Columns: cols, Values: adapters.CopyRow(rows.Row())})
		has = rows.Next()
	}
	if err := rows.Err(); !has && err != nil {
		return err
	}
	rows.Close() // the expansions' reads need no second connection

	jw := jsonfmt.NewWriter(w, f.jsonOptions(s, q.Set))
	var count *int64
	if n, ok := page.Count(); ok {
		count = &n
	}
	jw.BeginCollection(s.contextURL(r, q, false), count)
	reserve := int64(len(r.URL.RawQuery)+len(r.URL.Path)+len(s.cfg.PublicURL)+len(r.Host)) + nextLinkTokenRoom
	page.Columns(cols)
	var written, emitted int64
	memo := map[*adapters.Node]int64{}
	for start := 0; start < len(nodes); start += expandChunk {
		chunk := nodes[start:min(start+expandChunk, len(nodes))]
		if err := s.expand(r, q, chunk); err != nil {
			return err
		}
		for _, n := range chunk {
			e := adapters.Emitted(n, memo)
			if emitted+e > s.cfg.MaxExpandEntities {
				if written == 0 {
					return s.errTooLarge("the first entity of the page with its expansions")
				}
				more = true // this row starts the next page
				break
			}
			etag := edm.ETag(s.cfg.TokenKey, q.Set, cols, n.Values)
			if f.metadata == jsonfmt.Full {
				jw.EntityID(s.entityURL(r, q.Set, adapters.KeyOf(q.Set, adapters.Row{Columns: cols, Values: n.Values})))
			}
			size := jw.EncodeEntityNested(proj.cols, proj.values(n.Values), etag, s.nested(r, f, q.Set, n))
			if jw.Written()+int64(size)+reserve > s.cfg.MaxPageBytes {
				if written == 0 {
					return s.errTooLarge("the first entity of the page with its expansions")
				}
				more = true // this row starts the next page
				break
			}
			emitted += e
			jw.WriteEncoded()
			written++
			page.Keep(n.Values)
			n.Expanded = nil // written: its expansions may go
		}
		if int64(start+len(chunk)) > written {
			break
		}
	}
	ri.rows = written
	next := ""
	if ks := page.Next(written, more); ks != nil {
		next = s.nextLink(r, req, s.tokens.Encode(semantic.Fingerprint(q.Set.Name, req), *ks))
	}
	jw.EndDelta(next, "")
	return jw.Err()
}
