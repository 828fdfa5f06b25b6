package server

import (
	"net/http"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/auth"
)

// create answers POST to an entity set: 201 with the entity as stored (or
// 204 with return=minimal), Location naming it.
func (s *Server) create(r *http.Request, req *odata.Request) response {
	q, err := s.writeTarget(r, req, auth.Insert, false)
	if err != nil {
		return fail(err)
	}
	body, err := s.parseBody(r)
	if err != nil {
		return fail(err)
	}
	opt := semantic.BodyOptions{Refs: s.refPath(r)}
	if len(q.Path) > 0 {
		// Created through a navigation: the parent's join values first.
		if err := s.acquire(r, false); err != nil {
			return fail(err)
		}
		if opt.Via, opt.ViaValues, err = s.parentValues(r, q); err != nil {
			return fail(err)
		}
	}
	values, err := s.bindBody(r, q, body, semantic.Create, opt)
	if err != nil {
		return fail(err)
	}
	if len(q.Path) == 0 {
		if err := s.acquire(r, false); err != nil {
			return fail(err)
		}
	}
	if err := s.checkLinks(r, q.Set, values); err != nil {
		return fail(err)
	}
	end := s.stage(r, "sql")
	row, err := s.writer(r).Insert(r.Context(), &adapters.Write{Set: q.Set, Values: values, Restrict: q.Restrict})
	end(err)
	releaseEarly(r) // the database work is done; the answer is in memory
	var key []semantic.Const
	if err == nil {
		key = adapters.KeyOf(q.Set, row)
	}
	s.audit(r, auth.Insert, q.Set, key, err)
	if err != nil {
		return fail(err)
	}
	res := s.entityResult(r, req, q, row, http.StatusCreated, preferences(r).ret == "minimal")
	loc := s.entityURL(r, q.Set, key)
	res.header.Set("Location", loc)
	res.header.Set("OData-EntityId", loc)
	return res
}

// update answers PATCH, MERGE and PUT (replace) on an entity: 204, or 200
// with the entity as stored when return=representation is preferred.
func (s *Server) update(r *http.Request, req *odata.Request, replace bool) response {
	q, err := s.writeTarget(r, req, auth.Update, true)
	if err != nil {
		return fail(err)
	}
	mode := semantic.Patch
	if replace {
		mode = semantic.Replace
	}
	body, err := s.parseBody(r)
	if err != nil {
		return fail(err)
	}
	var within semantic.Expr
	if len(q.Path) > 0 {
		// Through a navigation: the hops first (a to-one one gives the key).
		if err := s.acquire(r, false); err != nil {
			return fail(err)
		}
		if within, err = s.navigationEntity(r, q); err != nil {
			return fail(err)
		}
	}
	values, err := s.bindBody(r, q, body, mode, semantic.BodyOptions{Refs: s.refPath(r)})
	if err != nil {
		return fail(err)
	}
	ifMatch, err := s.ifMatch(r, q.Set)
	if err != nil {
		return fail(err)
	}
	if len(q.Path) == 0 {
		if err := s.acquire(r, false); err != nil {
			return fail(err)
		}
	}
	if err := s.checkLinks(r, q.Set, values); err != nil {
		return fail(err)
	}
	end := s.stage(r, "sql")
	row, err := s.writer(r).Update(r.Context(), &adapters.Write{
		Set: q.Set, Key: q.Key, Values: values, Replace: replace, Upsert: s.cfg.Upsert && clientKeyed(q.Set) && len(q.Path) == 0,
		Restrict: q.Restrict, Via: within, IfMatch: ifMatch, ETagKey: s.cfg.TokenKey,
	})
	end(err)
	releaseEarly(r)
	s.audit(r, auth.Update, q.Set, q.Key, err)
	if err != nil {
		return fail(notRelated(q, err))
	}
	return s.entityResult(r, req, q, row, http.StatusOK, preferences(r).ret != "representation")
}

// remove answers DELETE on an entity: 204.
func (s *Server) remove(r *http.Request, req *odata.Request) response {
	q, err := s.writeTarget(r, req, auth.Delete, true)
	if err != nil {
		return fail(err)
	}
	ifMatch, err := s.ifMatch(r, q.Set)
	if err != nil {
		return fail(err)
	}
	if err := s.acquire(r, false); err != nil {
		return fail(err)
	}
	var within semantic.Expr
	if len(q.Path) > 0 {
		if within, err = s.navigationEntity(r, q); err != nil {
			return fail(err)
		}
	}
	end := s.stage(r, "sql")
	err = s.writer(r).Delete(r.Context(), &adapters.Write{Set: q.Set, Key: q.Key, Restrict: q.Restrict, Via: within, IfMatch: ifMatch, ETagKey: s.cfg.TokenKey})
	end(err)
	releaseEarly(r)
	s.audit(r, auth.Delete, q.Set, q.Key, err)
	return response{status: http.StatusNoContent, err: notRelated(q, err)}
}

// writeTarget binds the path of a write: the set, and the key for updates
// and deletes; it checks that the set is writable and the CSRF token.
func (s *Server) writeTarget(r *http.Request, req *odata.Request, op auth.Op, needKey bool) (*semantic.Query, error) {
	if req.Path.Kind == odata.PathCount {
		return nil, methodNotAllowed([]string{"GET", "HEAD"}, "$count is read-only")
	}
	q, err := s.bind(r, req, op)
	if err != nil {
		return nil, err
	}
	if len(q.Path) > 0 {
		if err := navigationWrite(q, op == auth.Insert); err != nil {
			return nil, err
		}
	}
	switch {
	case q.Property != nil:
		return nil, newHTTPError(http.StatusNotImplemented, codeNotImplemented,
			"writing one property (%s(key)/%s) is not supported; PATCH the entity", q.Set.Name, q.Property.Name)
	case needKey && q.Key == nil && !q.Single: // a to-one navigation's key is read (navigationEntity)
		return nil, methodNotAllowed([]string{"GET", "HEAD", "POST"}, "%s needs a key: %s(key)", op, q.Set.Name)
	case !needKey && q.Key != nil:
		return nil, methodNotAllowed([]string{"GET", "HEAD", "PATCH", "PUT", "DELETE"}, "POST goes to the entity set %s, not to an entity", q.Set.Name)
	case q.Set.ReadOnly:
		return nil, methodNotAllowed([]string{"GET", "HEAD"}, "%s is read-only", q.Set.Name)
	}
	return q, s.checkCSRF(r)
}

// parseBody reads the request body as an entity.
func (s *Server) parseBody(r *http.Request) (*odata.Entity, error) {
	data, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	return odata.ParseEntity(data)
}

// bindBody binds a request body to q's set under mode, then applies the
// caller's per-property write rules.
func (s *Server) bindBody(r *http.Request, q *semantic.Query, body *odata.Entity, mode semantic.WriteMode, opt semantic.BodyOptions) (semantic.Entity, error) {
	values, err := semantic.BindEntity(q.Set, body, mode, q.Key, opt)
	if err != nil {
		return nil, err
	}
	return values, s.checkWritable(r, q.Set, values, mode == semantic.Replace)
}

// checkLinks refuses a write that would point a foreign key at a row the
// caller's row filter hides (the same rule as a $ref change): for each
// to-one navigation of set whose foreign-key properties the write sets, all
// non-null, and whose target the caller sees through a row filter, the
// referenced row must be visible. It is a 400 whether the row is hidden or
// missing, so that the answer tells nothing about hidden rows. Without a
// row filter on the target the database's foreign key decides, as always.
func (s *Server) checkLinks(r *http.Request, set *metadata.EntitySet, values semantic.Entity) error {
	if s.policy == nil {
		return nil
	}
	for _, nav := range set.Navigations {
		if nav.Many {
			continue
		}
		key := make([]semantic.Const, len(nav.Local))
		complete := true
		for i, p := range nav.Local {
			v, ok := values[p]
			if !ok || v.Null {
				complete = false
				break
			}
			key[i] = v
		}
		if !complete {
			continue
		}
		restrict, err := s.policy.RowFilter(requestInfo(r).principal, nav.Target)
		if err != nil {
			return err
		}
		if restrict == nil {
			continue
		}
		end := s.stage(r, "sql")
		rows, err := s.reader(r).Query(r.Context(), &semantic.Query{Set: nav.Target, Select: nav.Remote,
			Filter: semantic.ValuesIn(nav.Remote, [][]semantic.Const{key}), Restrict: restrict}, 1)
		end(err)
		if err != nil {
			return err
		}
		found := rows.Next()
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		if !found {
			e := newHTTPError(http.StatusBadRequest, codeInvalidValue,
				"%s refers to a %s entity that does not exist or that you may not see", nav.Local[0].Name, nav.Target.Name)
			e.target = nav.Local[0].Name
			return e
		}
	}
	return nil
}

// entityResult answers a successful write with the entity, or with 204
// when minimal. The representation follows the request's Accept (or
// $format) as reads do (IEEE754Compatible); a format the gateway does not
// produce gets the default rather than failing a write that is done.
func (s *Server) entityResult(r *http.Request, req *odata.Request, q *semantic.Query, row adapters.Row, status int, minimal bool) response {
	f, _ := negotiate(r, req)
	etag := edm.ETag(s.cfg.TokenKey, q.Set, row.Columns, row.Values)
	h := http.Header{}
	if etag != "" {
		h.Set("ETag", etag)
	}
	if minimal {
		if preferences(r).ret == "minimal" { // applied only when asked for
			h.Set("Preference-Applied", "return=minimal")
		}
		return response{status: http.StatusNoContent, header: h}
	}
	if status == http.StatusOK {
		h.Set("Preference-Applied", "return=representation")
	}
	h.Set("Content-Type", f.contentType())
	cols, vals := row.Columns, row.Values
	var projection []*metadata.Property
	if s.policy != nil {
		// Properties the principal may not read stay out of the
		// representation, as they do on reads.
		if hidden := s.policy.HiddenProperties(requestInfo(r).principal, q.Set.Name); len(hidden) > 0 {
			cols, vals = nil, nil
			for i, p := range row.Columns {
				if !hidden[p.Name] {
					cols = append(cols, p)
					vals = append(vals, row.Values[i])
				}
			}
			projection = cols
		}
	}
	ctx := jsonfmt.ContextURL(s.serviceRootURL(r), q.Set.Name, projection, true)
	return response{status: status, header: h, body: func(w http.ResponseWriter) {
		jw := jsonfmt.NewWriter(w, f.jsonOptions(s, q.Set))
		if f.metadata == jsonfmt.Full {
			jw.EntityID(s.entityURL(r, q.Set, adapters.KeyOf(q.Set, row)))
		}
		jw.SingleEntity(ctx, cols, vals, etag)
	}}
}

func (s *Server) audit(r *http.Request, op auth.Op, set *metadata.EntitySet, key []semantic.Const, err error) {
	ri := requestInfo(r)
	ev := s.log.Info()
	outcome := "ok"
	if err != nil {
		ev = s.log.Warn()
		outcome = classify(err).code
	}
	principal := "anonymous"
	if ri.principal != nil && ri.principal.Name != "" {
		principal = ri.principal.Name
	}
	ev = ev.Str("audit", op.String()).Str("request_id", ri.id).Str("principal", principal).Str("set", set.Name)
	if key != nil {
		ev = ev.Str("key", odata.FormatKey(semantic.KeyParts(set, key), false))
	}
	ev.Str("outcome", outcome).Msg("write")
}

// checkWritable enforces per-property write rules of the policy.
func (s *Server) checkWritable(r *http.Request, set *metadata.EntitySet, values semantic.Entity, replace bool) error {
	if s.policy == nil {
		return nil
	}
	ro := s.policy.ReadOnlyProperties(requestInfo(r).principal, set.Name)
	hidden := s.policy.HiddenProperties(requestInfo(r).principal, set.Name)
	if replace && (len(ro) > 0 || len(hidden) > 0) {
		// PUT resets every property left out, including those the caller
		// may not write (or see): refuse it rather than wipe them.
		return newHTTPError(http.StatusForbidden, codeForbidden,
			"PUT would reset properties of %s you may not write; use PATCH", set.Name)
	}
	var details []jsonfmt.ErrorDetail
	for p := range values {
		if ro[p.Name] || hidden[p.Name] {
			details = append(details, jsonfmt.ErrorDetail{Code: codeForbidden, Message: "you may not write property " + p.Name, Target: p.Name})
		}
	}
	if len(details) == 0 {
		return nil
	}
	e := newHTTPError(http.StatusForbidden, codeForbidden, "you may not write %d of these properties", len(details))
	e.details = details
	return e
}

// ifMatch returns the If-Match precondition of a write; it is required
// (428) only when configured and the set has an ETag, since Salesforce
// never sends it.
func (s *Server) ifMatch(r *http.Request, set *metadata.EntitySet) (string, error) {
	v := r.Header.Get("If-Match")
	if v == "" && s.cfg.RequireIfMatch && (set.ETag != nil || set.ETagHash) {
		return "", newHTTPError(http.StatusPreconditionRequired, codePreconditionFailed, "If-Match is required to change %s", set.Name)
	}
	return v, nil
}

// clientKeyed reports whether a client may choose the key of a new entity
// (upserts need it): not when the database always generates a key property.
func clientKeyed(set *metadata.EntitySet) bool {
	for _, k := range set.Key {
		if k.ReadOnly {
			return false
		}
	}
	return true
}
