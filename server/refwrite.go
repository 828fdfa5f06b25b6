package server

import (
	"errors"
	"net/http"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/auth"
)

// This file changes relationships (OData 4.01 Protocol §11.4.6): PUT,
// POST and DELETE on the entity references of a navigation property
// (…/$ref). A relationship is a foreign key: every change is an UPDATE of
// the one entity that holds it (semantic.LinkSide), the order of
// Orders(1)/Customer/$ref, the order named by the reference of
// Customers('A')/Orders/$ref. The caller needs read on every set of the
// path (the target included: referenced entities must be visible) and
// update on the set whose foreign key changes; every entity read or
// written is within the caller's row filter.

// isRefPath reports a resource path ending with $ref.
func isRefPath(p odata.Path) bool {
	return len(p.Rest) > 0 && p.Rest[len(p.Rest)-1] == "$ref"
}

// writeRef answers PUT, POST, DELETE (and refuses PATCH) on …/$ref: 204.
func (s *Server) writeRef(r *http.Request, req *odata.Request, method string) response {
	q, err := s.bind(r, req, auth.Read)
	if err != nil {
		return fail(err)
	}
	if len(q.Path) == 0 {
		return fail(methodNotAllowed([]string{"GET", "HEAD"},
			"references of %s are read-only; change a relationship through a navigation property: %s(key)/<navigation>/$ref", q.Set.Name, q.Set.Name))
	}
	last := &q.Path[len(q.Path)-1]
	nav := last.Nav
	holder, _ := semantic.LinkSide(nav, last.Set)
	switch {
	case !nav.Many && method != http.MethodPut && method != http.MethodDelete:
		return fail(methodNotAllowed([]string{"GET", "HEAD", "PUT", "DELETE"},
			"%s is a single-valued navigation property: PUT sets its reference, DELETE removes it", nav.Name))
	case nav.Many && q.Key == nil && method != http.MethodPost && method != http.MethodDelete:
		return fail(methodNotAllowed([]string{"GET", "HEAD", "POST", "DELETE"},
			"%s is a collection-valued navigation property: POST adds a reference, DELETE …/$ref?$id=%s(key) removes one", nav.Name, nav.Target.Name))
	case nav.Many && q.Key != nil && method != http.MethodDelete:
		return fail(methodNotAllowed([]string{"GET", "HEAD", "DELETE"},
			"DELETE removes this reference from %s; POST to %s/$ref adds one", nav.Name, nav.Name))
	case holder.ReadOnly:
		return fail(methodNotAllowed([]string{"GET", "HEAD"}, "%s is read-only", holder.Name))
	}
	if err := s.authorize(r, holder, auth.Update); err != nil {
		return fail(err)
	}
	if err := s.checkCSRF(r); err != nil {
		return fail(err)
	}
	// The entity whose foreign key changes is the one If-Match names.
	ifMatch, err := s.ifMatch(r, holder)
	if err != nil {
		return fail(err)
	}
	var key []semantic.Const
	if nav.Many {
		key, err = s.changeManyRef(r, req, q, method, ifMatch)
	} else {
		key, err = s.changeOneRef(r, q, method, ifMatch)
	}
	releaseEarly(r)
	if key != nil {
		s.audit(r, auth.Update, holder, key, err)
	}
	if err != nil {
		return fail(err)
	}
	return response{status: http.StatusNoContent}
}

// changeOneRef sets (PUT) or removes (DELETE) the reference of a to-one
// navigation: the foreign key of the entity the path's last hop addresses.
// It returns that entity's key once known.
func (s *Server) changeOneRef(r *http.Request, q *semantic.Query, method, ifMatch string) ([]semantic.Const, error) {
	last := &q.Path[len(q.Path)-1]
	nav := last.Nav
	var ref string
	if method == http.MethodPut {
		var err error
		if ref, err = s.refBody(r); err != nil {
			return nil, err
		}
	}
	if err := s.acquire(r, false); err != nil {
		return nil, err
	}
	var vals []semantic.Const // nil: remove
	if method == http.MethodPut {
		key, err := semantic.RefKey(nav, ref, "@odata.id", s.refPath(r))
		if err != nil {
			return nil, err
		}
		if vals, err = s.referenced(r, q, key, "@odata.id"); err != nil {
			return nil, err
		}
	}
	key, within, err := s.locateHop(r, q.Path)
	if err != nil {
		return nil, err
	}
	holder, _ := semantic.LinkSide(nav, last.Set)
	values, err := semantic.Link(nav, last.Set, key, vals)
	if err == nil {
		err = s.checkWritable(r, holder, values, false)
	}
	if err != nil {
		return nil, err
	}
	end := s.stage(r, "sql")
	_, err = s.writer(r).Update(r.Context(), &adapters.Write{Set: holder, Key: key, Values: values, Restrict: last.Restrict, Via: within,
		IfMatch: ifMatch, ETagKey: s.cfg.TokenKey})
	end(err)
	if isNotFound(err) {
		err = newHTTPError(http.StatusNotFound, codeNotFound, "no %s entity with key (%s)",
			holder.Name, odata.FormatKey(semantic.KeyParts(holder, key), false))
	}
	return key, err
}

// changeManyRef adds (POST) or removes (DELETE) a reference of a to-many
// navigation: the foreign key of the referenced entity of the target set
// gets the parent's values, or null. It returns that entity's key.
func (s *Server) changeManyRef(r *http.Request, req *odata.Request, q *semantic.Query, method, ifMatch string) ([]semantic.Const, error) {
	last := &q.Path[len(q.Path)-1]
	nav := last.Nav
	var ref, target string
	switch {
	case method == http.MethodPost && req.Options.ID != "":
		return nil, newHTTPError(http.StatusBadRequest, codeInvalidQuery,
			"POST …/$ref takes the reference in its body ({\"@odata.id\": …}); $id names the reference DELETE removes")
	case method == http.MethodPost:
		var err error
		if ref, err = s.refBody(r); err != nil {
			return nil, err
		}
		target = "@odata.id"
	case q.Key != nil && req.Options.ID != "":
		return nil, newHTTPError(http.StatusBadRequest, codeInvalidQuery,
			"name the reference to remove once: either %s(key)/$ref or %s/$ref?$id=…, not both", nav.Name, nav.Name)
	case req.Options.ID != "":
		ref, target = req.Options.ID, "$id"
	case q.Key == nil:
		return nil, newHTTPError(http.StatusBadRequest, codeInvalidQuery,
			"DELETE of the references of %s removes one: name it with $id (%s/$ref?$id=%s(key)) or by key (%s(key)/$ref)",
			nav.Name, nav.Name, nav.Target.Name, nav.Name)
	}
	key := q.Key
	if ref != "" {
		var err error
		if key, err = semantic.RefKey(nav, ref, target, s.refPath(r)); err != nil {
			return nil, err
		}
	}
	if err := s.acquire(r, false); err != nil {
		return nil, err
	}
	_, parent, err := s.parentValues(r, q)
	if err != nil {
		return nil, err
	}
	w := &adapters.Write{Set: q.Set, Key: key, Restrict: q.Restrict, IfMatch: ifMatch, ETagKey: s.cfg.TokenKey}
	var vals []semantic.Const
	if method == http.MethodPost {
		vals = parent
	} else {
		w.Via, _ = semantic.Related(nav, parent)
	}
	if w.Values, err = semantic.Link(nav, last.Set, key, vals); err != nil {
		return nil, err
	}
	if err := s.checkWritable(r, q.Set, w.Values, false); err != nil {
		return nil, err
	}
	end := s.stage(r, "sql")
	_, err = s.writer(r).Update(r.Context(), w)
	end(err)
	if isNotFound(err) {
		id := q.Set.Name + "(" + odata.FormatKey(semantic.KeyParts(q.Set, key), false) + ")"
		if method == http.MethodPost {
			e := newHTTPError(http.StatusBadRequest, codeInvalidValue,
				"the reference names no entity: no %s (it does not exist or you may not see it)", id)
			e.target = target
			return key, e
		}
		return key, newHTTPError(http.StatusNotFound, codeNotFound, "%s is not in %s (or does not exist)", id, pathText(q.Path))
	}
	return key, err
}

// refBody reads the body of PUT/POST …/$ref: the referenced entity's URL.
func (s *Server) refBody(r *http.Request) (string, error) {
	data, err := s.readBody(r)
	if err != nil {
		return "", err
	}
	return odata.ParseEntityRef(data)
}

// referenced reads the entity of q.Set a reference names, within the
// caller's row filter, and returns the values of the properties the last
// navigation of q.Path joins on (Remote order). An entity that does not
// exist or that the caller may not see is a 400 (target: where the
// reference was).
func (s *Server) referenced(r *http.Request, q *semantic.Query, key []semantic.Const, target string) ([]semantic.Const, error) {
	nav := q.Path[len(q.Path)-1].Nav
	end := s.stage(r, "sql")
	rows, err := s.reader(r).Query(r.Context(), &semantic.Query{Set: q.Set, Key: key, Select: nav.Remote, Restrict: q.Restrict}, 1)
	end(err)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		e := newHTTPError(http.StatusBadRequest, codeInvalidValue,
			"the reference names no entity: no %s(%s) (it does not exist or you may not see it)",
			q.Set.Name, odata.FormatKey(semantic.KeyParts(q.Set, key), false))
		e.target = target
		return nil, e
	}
	cols, row := rows.Columns(), rows.Row()
	vals := make([]semantic.Const, len(nav.Remote))
	for i, p := range nav.Remote {
		for j, c := range cols {
			if c == p {
				vals[i] = semantic.ConstOf(p, &row[j])
			}
		}
	}
	return vals, rows.Err()
}

// locateHop finds the entity the last hop of a navigation path addresses:
// its key (from the path, or from the to-one navigation before it) and the
// constraint the hops before put on it (nil for the first hop), each hop
// read within the caller's row filter (404 when missing or hidden).
func (s *Server) locateHop(r *http.Request, hops []semantic.Hop) ([]semantic.Const, semantic.Expr, error) {
	h := &hops[len(hops)-1]
	if len(hops) == 1 {
		return h.Key, nil, nil
	}
	before := &semantic.Query{Set: h.Set, Path: hops[:len(hops)-1]}
	null, err := s.follow(r, before)
	switch {
	case err != nil:
		return nil, nil, err
	case null:
		return nil, nil, newHTTPError(http.StatusNotFound, codeNotFound, "%s is null: the path leads nowhere", pathText(before.Path))
	}
	key := h.Key
	if key == nil {
		key = before.Key
	}
	if key == nil {
		return nil, nil, newHTTPError(http.StatusNotImplemented, codeNotImplemented,
			"changing %s through %s is not supported: that navigation does not join on the key of %s; address the entity by its own URL",
			h.Set.Name, hops[len(hops)-2].Nav.Name, h.Set.Name)
	}
	return key, before.Restrict, nil
}

// navigationEntity prepares a PATCH, PUT or DELETE of an entity addressed
// through a navigation path (Customers('A')/Orders(1), Orders(1)/Customer):
// it reads the hops within the caller's row filter (404 when missing or
// hidden), sets q.Key for a to-one navigation, and returns the constraint
// the entity must match before the write (the relationship: a 404 when it
// is not related). The write may change the relationship itself, as a
// direct write could.
func (s *Server) navigationEntity(r *http.Request, q *semantic.Query) (semantic.Expr, error) {
	restrict := q.Restrict
	q.Restrict = nil
	null, err := s.follow(r, q)
	within := q.Restrict
	q.Restrict = restrict
	switch {
	case err != nil:
		return nil, err
	case null:
		return nil, newHTTPError(http.StatusNotFound, codeNotFound, "%s is null: there is no entity to change", pathText(q.Path))
	case q.Key == nil:
		return nil, newHTTPError(http.StatusNotImplemented, codeNotImplemented,
			"changing an entity through %s is not supported: the navigation does not join on the key of %s; address it by its own URL",
			q.Path[len(q.Path)-1].Nav.Name, q.Set.Name)
	}
	return within, nil
}

// notRelated turns the NotFound of a write through a navigation path into
// a 404 that names the path.
func notRelated(q *semantic.Query, err error) error {
	if len(q.Path) == 0 || !isNotFound(err) {
		return err
	}
	id := q.Set.Name + "(" + odata.FormatKey(semantic.KeyParts(q.Set, q.Key), false) + ")"
	if q.Single {
		return newHTTPError(http.StatusNotFound, codeNotFound, "%s not found", pathText(q.Path))
	}
	return newHTTPError(http.StatusNotFound, codeNotFound, "%s is not in %s (or does not exist)", id, pathText(q.Path))
}

func isNotFound(err error) bool {
	var ae *adapters.Error
	return errors.As(err, &ae) && ae.Kind == adapters.NotFound
}
