package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/csdl"
)

// writeChecks creates a scratch row, reads it back, updates one property,
// deletes it and verifies it is gone. A created row is always deleted
// again, whatever fails in between.
func (sr *setRun) writeChecks(ctx context.Context) {
	created, body, ok := sr.create(ctx)
	if !ok {
		return
	}
	deleted := false
	defer func() {
		if deleted {
			return
		}
		// Clean up even when ctx was cancelled.
		pred, err := sr.keyPredicate(created)
		if err != nil {
			sr.add("write: cleanup", Fail, "", "cannot address the scratch row: "+err.Error())
			return
		}
		resp, err := sr.c.do(context.WithoutCancel(ctx), http.MethodDelete, sr.c.url(keyPath(sr.s.Name, pred)), nil)
		if err != nil || resp.status >= 300 {
			reason := "request failed"
			if err == nil {
				reason = bodyError(resp)
			}
			sr.add("write: cleanup", Fail, resp.req, "scratch row "+sr.keyOf(created)+" may remain: "+reason)
			return
		}
		sr.add("write: cleanup", Pass, resp.req, "scratch row removed")
	}()
	pred, err := sr.keyPredicate(created)
	if err != nil {
		sr.add("write: read back", Fail, "", err.Error())
		return
	}
	path := keyPath(sr.s.Name, pred)
	if !sr.readBack(ctx, "write: read back", path, body) {
		return
	}

	// Update one property.
	var target *csdl.Property
	for _, p := range sr.s.Properties {
		if sr.s.IsKey(p) || p.Computed || kindOf(p) == kindNone {
			continue
		}
		if kindOf(p) == kindString || kindOf(p) == kindNumber || kindOf(p) == kindBool {
			target = p
			break
		}
	}
	if target == nil {
		sr.add("write: update", Skip, "", "no updatable string, number or boolean property")
	} else {
		// Prefer a value another row has (valid for foreign keys); if it
		// collides with a unique constraint (409), use a synthetic one.
		nv := sr.sampledOther(target, body[target.Name])
		if nv == nil {
			nv = updatedValue(target, body[target.Name])
		}
		patch := map[string]any{target.Name: nv}
		data, _ := json.Marshal(patch)
		resp, err := sr.c.do(ctx, http.MethodPatch, sr.c.url(path), data)
		if err == nil && resp.status == http.StatusConflict {
			nv = updatedValue(target, body[target.Name])
			patch = map[string]any{target.Name: nv}
			data, _ = json.Marshal(patch)
			resp, err = sr.c.do(ctx, http.MethodPatch, sr.c.url(path), data)
		}
		switch {
		case err != nil:
			sr.add("write: update", Fail, resp.req, "request failed: "+err.Error())
		case resp.status != http.StatusNoContent && resp.status != http.StatusOK:
			sr.add("write: update", Fail, resp.req, bodyError(resp))
		default:
			sr.add("write: update", Pass, resp.req, fmt.Sprintf("HTTP %d, %s = %s", resp.status, target.Name, show(nv)))
			sr.readBack(ctx, "write: read after update", path, patch)
		}
	}

	resp, err := sr.c.do(ctx, http.MethodDelete, sr.c.url(path), nil)
	switch {
	case err != nil:
		sr.add("write: delete", Fail, resp.req, "request failed: "+err.Error())
		return
	case resp.status != http.StatusNoContent && resp.status != http.StatusOK:
		sr.add("write: delete", Fail, resp.req, bodyError(resp))
		return
	}
	deleted = true
	sr.add("write: delete", Pass, resp.req, fmt.Sprintf("HTTP %d", resp.status))
	resp, err = sr.c.get(ctx, path)
	switch {
	case err != nil:
		sr.add("write: gone after delete", Fail, resp.req, "request failed: "+err.Error())
	case resp.status != http.StatusNotFound:
		sr.add("write: gone after delete", Fail, resp.req, fmt.Sprintf("want 404 after delete, got HTTP %d", resp.status))
	default:
		if msg, ok := odataError(resp); ok {
			sr.add("write: gone after delete", Pass, resp.req, "404")
		} else {
			sr.add("write: gone after delete", Fail, resp.req, "404 without an OData error: "+msg)
		}
	}
}

// create POSTs a scratch row, trying a few body variants (server-generated
// vs client key, copied vs synthetic values). It returns the created
// entity's key values and the body that was sent.
func (sr *setRun) create(ctx context.Context) (created, body map[string]any, ok bool) {
	type variant struct{ clientKey, synthetic, keyPrefix bool }
	var variants []variant
	keyComputed, keyIntegral := true, true
	for _, k := range sr.s.Key {
		keyComputed = keyComputed && k.Computed
		keyIntegral = keyIntegral && k.Edm.IsIntegral()
	}
	switch {
	case keyComputed:
		variants = []variant{{false, false, false}, {false, true, false}}
	case keyIntegral:
		variants = []variant{{false, false, false}, {true, false, false}, {true, true, false}}
	default:
		variants = []variant{{true, false, false}, {true, true, false}}
	}
	if len(sr.s.Key) > 1 && !keyComputed {
		// A composite key's leading parts are often foreign keys (order
		// lines of an order): keep them from a sampled row first.
		variants = append([]variant{{true, false, true}}, variants...)
	}
	sr.highestKeys(ctx)
	var last *response
	for _, v := range variants {
		body = sr.scratch(v.clientKey, v.synthetic, v.keyPrefix)
		data, err := json.Marshal(body)
		if err != nil {
			sr.add("write: create", Fail, "", err.Error())
			return nil, nil, false
		}
		resp, err := sr.c.do(ctx, http.MethodPost, sr.c.url(sr.s.Name), data)
		last = resp
		if err != nil {
			sr.add("write: create", Fail, resp.req, "request failed: "+err.Error())
			return nil, nil, false
		}
		switch {
		case resp.status == http.StatusMethodNotAllowed || resp.status == http.StatusForbidden || resp.status == http.StatusNotImplemented:
			sr.add("write: create", Skip, resp.req, fmt.Sprintf("the set is read-only (%s); do not make its external object writable", bodyError(resp)))
			return nil, nil, false
		case resp.status >= 500:
			sr.add("write: create", Fail, resp.req, bodyError(resp)+" (client errors such as constraint violations must be 4xx)")
			return nil, nil, false
		case resp.status >= 400:
			continue
		}
		ent := map[string]any{}
		if resp.status != http.StatusNoContent {
			if ent, err = decodeEntity(resp); err != nil {
				sr.add("write: create", Fail, resp.req, "HTTP "+fmt.Sprint(resp.status)+": "+err.Error())
				return nil, nil, false
			}
		}
		created = map[string]any{}
		for _, k := range sr.s.Key {
			kv := ent[k.Name]
			if kv == nil {
				kv = body[k.Name]
			}
			if kv == nil {
				sr.add("write: create", Fail, resp.req, fmt.Sprintf("HTTP %d without the new key %s: Salesforce needs the created entity (with its key) in the response", resp.status, k.Name))
				return nil, nil, false
			}
			created[k.Name] = kv
		}
		if resp.status != http.StatusCreated {
			sr.add("write: create", Warn, resp.req, fmt.Sprintf("HTTP %d; OData answers a create with 201 and the entity", resp.status))
		} else {
			sr.add("write: create", Pass, resp.req, "created "+sr.keyOf(created))
		}
		for k, v := range created {
			body[k] = v
		}
		return created, body, true
	}
	sr.add("write: create", Warn, last.req, "could not create a scratch row: "+bodyError(last)+"; writes not verified (constraints the checker cannot satisfy?)")
	return nil, nil, false
}

// readBack GETs path and verifies the properties in want.
func (sr *setRun) readBack(ctx context.Context, check, path string, want map[string]any) bool {
	resp, err := sr.c.get(ctx, path)
	if err != nil {
		sr.add(check, Fail, resp.req, "request failed: "+err.Error())
		return false
	}
	if resp.status != http.StatusOK {
		sr.add(check, Fail, resp.req, bodyError(resp))
		return false
	}
	e, err := decodeEntity(resp)
	if err != nil {
		sr.add(check, Fail, resp.req, err.Error())
		return false
	}
	for name, w := range want {
		p := sr.s.Property(name)
		got, present := e[name]
		if p == nil || kindOf(p) == kindNone || w == nil {
			continue
		}
		if !present {
			sr.add(check, Fail, resp.req, "entity lacks "+name)
			return false
		}
		if got == nil {
			sr.add(check, Fail, resp.req, fmt.Sprintf("%s is null, wrote %s", name, show(w)))
			return false
		}
		if c, err := compare(p, got, w); err != nil || c != 0 {
			sr.add(check, Fail, resp.req, fmt.Sprintf("%s is %s, wrote %s", name, show(got), show(w)))
			return false
		}
	}
	sr.add(check, Pass, resp.req, "")
	return true
}

// scratch builds a create body: non-nullable, non-computed properties get
// values (copied from the first sampled row unless synthetic, so foreign
// keys stay valid), the key is client-supplied when clientKey; with
// keyPrefix every key property but the last is copied from the sample too.
func (sr *setRun) scratch(clientKey, synthetic, keyPrefix bool) map[string]any {
	body := map[string]any{}
	base := sr.sample[0]
	lastKey := sr.s.Key[len(sr.s.Key)-1]
	for _, p := range sr.s.Properties {
		if p.Computed || kindOf(p) == kindNone && p.Edm != metadata.Binary && p.Edm != metadata.Duration {
			continue
		}
		if sr.s.IsKey(p) {
			switch {
			case clientKey && keyPrefix && p != lastKey && base[p.Name] != nil:
				body[p.Name] = base[p.Name]
			case clientKey:
				body[p.Name] = sr.uniqueKey(p)
			}
			continue
		}
		if p.Nullable {
			continue
		}
		if v := base[p.Name]; v != nil && !(synthetic && kindOf(p) == kindString) {
			body[p.Name] = v
			continue
		}
		body[p.Name] = syntheticValue(p)
	}
	return body
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func truncate(s string, maxLen int) string {
	if maxLen > 0 && len(s) > maxLen {
		return s[:maxLen]
	}
	return s
}

// highestKeys asks for the highest value of each numeric key property
// ($orderby desc, $top=1) so that uniqueKey stays above every stored row,
// not only above the rows sampled and walked. Failures are ignored.
func (sr *setRun) highestKeys(ctx context.Context) {
	sr.keyHigh = nil
	for _, k := range sr.s.Key {
		if kindOf(k) != kindNumber {
			continue
		}
		resp, err := sr.c.get(ctx, sr.s.Name, param{"$select", k.Name}, param{"$orderby", k.Name + " desc"}, param{"$top", "1"})
		if err != nil || resp.status != http.StatusOK {
			continue
		}
		if pg, err := decodePage(resp); err == nil {
			sr.keyHigh = append(sr.keyHigh, pg.rows...)
		}
	}
}

// uniqueKey returns a key value not among the rows seen.
func (sr *setRun) uniqueKey(p *csdl.Property) any {
	switch kindOf(p) {
	case kindNumber:
		hi := new(big.Rat)
		for _, rows := range [][]map[string]any{sr.sample, sr.walk, sr.keyHigh} {
			for _, row := range rows {
				if r, err := rat(row[p.Name]); err == nil && r.Cmp(hi) > 0 {
					hi = r
				}
			}
		}
		n := new(big.Int).Quo(hi.Num(), hi.Denom())
		off, _ := rand.Int(rand.Reader, big.NewInt(1000))
		n.Add(n, off.Add(off, big.NewInt(1000)))
		limit := map[metadata.Type]int64{metadata.Byte: 255, metadata.SByte: 127, metadata.Int16: 32767, metadata.Int32: 2147483647}
		if l, ok := limit[p.Edm]; ok && n.Cmp(big.NewInt(l)) > 0 {
			n = big.NewInt(l - 1 - off.Int64()%100)
		}
		return json.Number(n.String())
	case kindGuid:
		return uuid()
	case kindDate:
		return "2099-12-31"
	case kindDateTime:
		return "2099-12-31T23:59:59Z"
	}
	s := "chk" + randomHex(12)
	if p.MaxLength > 0 && p.MaxLength < len(s) {
		s = randomHex(p.MaxLength)
	}
	return s
}

func uuid() string {
	h := randomHex(32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// syntheticValue is a valid value of p's type within its facets.
func syntheticValue(p *csdl.Property) any {
	switch p.Edm {
	case metadata.String:
		return truncate("odatagw check", p.MaxLength)
	case metadata.Boolean:
		return false
	case metadata.Decimal:
		if p.Precision > 0 && !p.Variable && p.Precision-p.Scale < 1 {
			return json.Number("0")
		}
		return json.Number("1")
	case metadata.Double, metadata.Single:
		return json.Number("1.5")
	case metadata.Date:
		return "2024-01-15"
	case metadata.DateTimeOffset:
		return "2024-01-15T10:30:00Z"
	case metadata.TimeOfDay:
		return "10:30:00"
	case metadata.Duration:
		return "PT1S"
	case metadata.Guid:
		return uuid()
	case metadata.Binary:
		return "AA=="
	}
	if p.Edm.IsIntegral() {
		return json.Number("1")
	}
	return nil
}

// sampledOther is a value of p that another existing row has and that
// differs from old: such a value satisfies the producer's foreign keys and
// check constraints, which a synthetic value may not. Nil when none.
func (sr *setRun) sampledOther(p *csdl.Property, old any) any {
	for _, rows := range [][]map[string]any{sr.sample, sr.walk} {
		for _, r := range rows {
			v, ok := r[p.Name]
			if !ok || v == nil {
				continue
			}
			if fmt.Sprint(v) != fmt.Sprint(old) {
				return v
			}
		}
	}
	return nil
}

// updatedValue is a different valid value for an update.
func updatedValue(p *csdl.Property, old any) any {
	switch kindOf(p) {
	case kindBool:
		b, _ := old.(bool)
		return !b
	case kindNumber:
		if r, err := rat(old); err == nil && r.Sign() == 0 {
			return json.Number("1")
		}
		return json.Number("0")
	}
	s := "odatagw updated"
	if o, ok := old.(string); ok && strings.HasPrefix(o, "odatagw updated") {
		s = "odatagw changed"
	}
	return truncate(s, p.MaxLength)
}
