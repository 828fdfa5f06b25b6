package server

import (
	"net/http"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// follow reads the entities a navigation path passes through (q.Path), in
// order, each by its key or by the constraint of the hop before and within
// the caller's row filter, and ANDs the constraint the last one puts on
// q.Set into q.Restrict (a to-one navigation to the target's key also sets
// q.Key). null reports a last navigation that is to-one with a null foreign
// key: no entity is related. A hop that does not exist, or that the caller
// may not see, is a 404.
func (s *Server) follow(r *http.Request, q *semantic.Query) (null bool, err error) {
	var via semantic.Expr
	for i := range q.Path {
		h := &q.Path[i]
		last := i == len(q.Path)-1
		vals, found, err := s.readHop(r, h, via)
		if err != nil {
			return false, err
		}
		if !found {
			return false, hopNotFound(q.Path[:i+1])
		}
		c, ok := semantic.Related(h.Nav, vals)
		if !ok {
			if last && !h.Nav.Many {
				return true, nil
			}
			return false, newHTTPError(http.StatusNotFound, codeNotFound,
				"%s is null: the path leads nowhere", pathText(q.Path[:i+1]))
		}
		via = c
		if last && !h.Nav.Many && q.Key == nil {
			q.Key = semantic.RelatedKey(h.Nav, vals)
		}
	}
	q.Restrict = semantic.And(q.Restrict, via)
	return false, nil
}

// readHop reads one entity of a navigation path (via: the constraint of
// the hop before): the values of the properties its navigation joins on,
// in Local order.
func (s *Server) readHop(r *http.Request, h *semantic.Hop, via semantic.Expr) (vals []semantic.Const, found bool, err error) {
	end := s.stage(r, "sql")
	rows, err := s.reader(r).Query(r.Context(), h.Read(via), 1)
	end(err)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	cols, row := rows.Columns(), rows.Row()
	vals = make([]semantic.Const, len(h.Nav.Local))
	for i, l := range h.Nav.Local {
		for j, c := range cols {
			if c == l {
				vals[i] = semantic.ConstOf(l, &row[j])
				break
			}
		}
	}
	return vals, true, nil
}

// hopNotFound is the 404 of a hop that does not exist or is hidden.
func hopNotFound(hops []semantic.Hop) error {
	h := hops[len(hops)-1]
	if h.Key != nil {
		return newHTTPError(http.StatusNotFound, codeNotFound, "no %s entity with key (%s)",
			h.Set.Name, odata.FormatKey(semantic.KeyParts(h.Set, h.Key), false))
	}
	return newHTTPError(http.StatusNotFound, codeNotFound, "%s not found", pathText(hops[:len(hops)-1])+"/"+h.Set.Name)
}

// pathText is a navigation path up to the navigation of the last hop, as
// written in URLs (for messages).
func pathText(hops []semantic.Hop) string {
	q := semantic.Query{Set: hops[len(hops)-1].Nav.Target, Path: hops}
	return q.Resource()
}

// nullNavigation answers a path whose to-one navigation is null: 204 for
// the entity or its reference (OData: a null single-valued navigation),
// 404 for a property of it.
func nullNavigation(q *semantic.Query) response {
	if q.Property != nil {
		return fail(newHTTPError(http.StatusNotFound, codeNotFound, "%s is null: it has no property %s",
			q.Path[len(q.Path)-1].Nav.Name, q.Property.Name))
	}
	return response{status: http.StatusNoContent}
}

// refContext is the @odata.context of entity references.
func (s *Server) refContext(r *http.Request, collection bool) string {
	if collection {
		return s.serviceRootURL(r) + "$metadata#Collection($ref)"
	}
	return s.serviceRootURL(r) + "$metadata#$ref"
}

// parentValues returns, for an entity created through a navigation
// (POST Customers('ALFKI')/Orders), the navigation and the values of its
// Local properties in the parent, read within the caller's row filter (a
// missing parent is a 404). Inside a change set a parent created earlier in
// the same change set is not visible yet (the change set's transaction
// only writes): when the navigation joins on the parent's key, the values
// then come from the path, and the database's foreign key checks that the
// parent exists.
func (s *Server) parentValues(r *http.Request, q *semantic.Query) (*metadata.Navigation, []semantic.Const, error) {
	last := q.Path[len(q.Path)-1]
	var via semantic.Expr
	var vals []semantic.Const
	for i := range q.Path {
		h := &q.Path[i]
		v, found, err := s.readHop(r, h, via)
		if err != nil {
			return nil, nil, err
		}
		if !found {
			return nil, nil, hopNotFound(q.Path[:i+1])
		}
		c, ok := semantic.Related(h.Nav, v)
		if !ok {
			return nil, nil, newHTTPError(http.StatusNotFound, codeNotFound, "%s is null: the path leads nowhere", pathText(q.Path[:i+1]))
		}
		via, vals = c, v
	}
	return last.Nav, vals, nil
}

// navigationWrite refuses what writes through a navigation path do not
// support: POST creates in collection-valued navigations only; PATCH, PUT
// and DELETE address one entity (see navigationEntity); references are
// changed by writeRef.
func navigationWrite(q *semantic.Query, create bool) error {
	last := q.Path[len(q.Path)-1]
	switch {
	case q.Ref:
		return newHTTPError(http.StatusInternalServerError, codeInternal, "a reference write reached the entity writes")
	case create && !last.Nav.Many:
		return methodNotAllowed([]string{"GET", "HEAD", "PATCH", "PUT", "DELETE"}, "%s is a single-valued navigation property: POST creates entities in collections", last.Nav.Name)
	}
	return nil
}

// refPath resolves entity references of request bodies (@odata.bind):
// absolute URLs of this service, absolute paths under the service root and
// relative URLs (taken relative to the service root).
func (s *Server) refPath(r *http.Request) semantic.RefPath {
	root := s.serviceRootURL(r)
	refs, _ := r.Context().Value(batchRefs{}).(map[string]string)
	return func(ref string) (string, bool) {
		if strings.HasPrefix(ref, "$") && refs != nil {
			// "$1" or "$1/…": an entity created earlier in the batch.
			id, rest := ref[1:], ""
			if i := strings.IndexByte(id, '/'); i >= 0 {
				id, rest = id[:i], id[i:]
			}
			loc, ok := refs[id]
			if !ok {
				return "", false
			}
			ref = loc + rest
		}
		switch {
		case strings.HasPrefix(ref, root):
			return ref[len(root):], true
		case strings.HasPrefix(ref, s.cfg.Root+"/"):
			return ref[len(s.cfg.Root)+1:], true
		case strings.Contains(ref, "://") || strings.HasPrefix(ref, "/"):
			return "", false
		}
		return ref, true
	}
}
