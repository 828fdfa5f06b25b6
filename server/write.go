package server

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/auth"
)

// readBody reads a JSON request body: Content-Type must be JSON (415),
// Content-Encoding gzip is inflated, the (inflated) size is capped (413) and
// the JSON must be one object (400 with the byte offset of a syntax error).
func (s *Server) readBody(r *http.Request) (map[string]json.RawMessage, []string, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, nil, newHTTPError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
				"request bodies must be application/json, not %q", ct)
		}
	}
	limit := s.cfg.MaxBodyBytes
	var body io.Reader = http.MaxBytesReader(nil, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "the request body is not valid gzip")
		}
		defer zr.Close()
		body = io.LimitReader(zr, limit+1)
	default:
		return nil, nil, newHTTPError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"Content-Encoding %q is not supported (gzip is)", enc)
	}
	data, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || int64(len(data)) > limit {
		return nil, nil, newHTTPError(http.StatusRequestEntityTooLarge, codePayloadTooLarge,
			"the request body exceeds the limit of %d bytes", limit)
	}
	if err != nil {
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "the request body is not valid gzip")
		}
		return nil, nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "cannot read the request body")
	}
	return decodeObject(data)
}

// decodeObject parses a JSON object, keeping member order and rejecting
// duplicates, trailing data and non-object bodies.
func decodeObject(data []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	syntaxErr := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "malformed JSON at byte %d: %s", se.Offset, se.Error())
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "malformed JSON: unexpected end of input at byte %d", dec.InputOffset())
		}
		return newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "malformed JSON at byte %d", dec.InputOffset())
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, syntaxErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "the request body must be a JSON object")
	}
	obj := map[string]json.RawMessage{}
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, syntaxErr(err)
		}
		name := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, syntaxErr(err)
		}
		if _, dup := obj[name]; dup {
			return nil, nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "property %q appears twice in the body", name)
		}
		obj[name] = raw
		order = append(order, name)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, syntaxErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "unexpected data after the JSON object at byte %d", dec.InputOffset())
	}
	return obj, order, nil
}

// writeMode says which checks a body gets.
type writeMode int

const (
	modeCreate writeMode = iota
	modePatch
	modeReplace
)

// validate converts a JSON body into typed values against the model. Every
// problem becomes one entry of details; nothing is written when any exists.
func validate(set *metadata.EntitySet, obj map[string]json.RawMessage, order []string, mode writeMode, key []semantic.Const) (map[*metadata.Property]semantic.Const, error) {
	values := map[*metadata.Property]semantic.Const{}
	var details []jsonfmt.ErrorDetail
	reported := map[string]bool{}
	bad := func(target, format string, args ...any) {
		reported[target] = true
		details = append(details, jsonfmt.ErrorDetail{Code: codeInvalidValue, Message: fmt.Sprintf(format, args...), Target: target})
	}
	for _, name := range order {
		if strings.Contains(name, "@") {
			continue // instance annotations (@odata.etag, Name@odata.type, ...): not properties
		}
		p := set.Property(name)
		if p == nil {
			if f := set.PropertyFold(name); f != nil {
				bad(name, "%s has no property %q (did you mean %q?)", set.Name, name, f.Name)
			} else {
				bad(name, "%s has no property %q", set.Name, name)
			}
			continue
		}
		c, msg := jsonValue(p, obj[name])
		if msg != "" {
			bad(name, "%s", msg)
			continue
		}
		if set.IsKey(p) && mode != modeCreate {
			// Salesforce's UI sends every field on edit, keys included: the
			// same value is fine, a different one is an attempt to re-key.
			idx := 0
			for i, k := range set.Key {
				if k == p {
					idx = i
				}
			}
			if !constEqual(c, key[idx]) {
				bad(name, "key property %s cannot be changed", name)
			}
			continue
		}
		if p.ReadOnly && (!set.IsKey(p) || mode == modeCreate) {
			if p.Generated {
				bad(name, "property %s is computed by the database and cannot be written", name)
			} else {
				bad(name, "property %s is read-only", name)
			}
			continue
		}
		if c.Null && !p.Nullable {
			bad(name, "property %s cannot be null", name)
			continue
		}
		values[p] = c
	}
	if mode == modeCreate || mode == modeReplace {
		for _, p := range set.Properties {
			if _, ok := values[p]; ok || reported[p.Name] || p.Nullable || p.ServerGenerated() || p.ReadOnly {
				continue
			}
			if set.IsKey(p) && mode == modeReplace {
				continue // comes from the URL
			}
			if set.IsKey(p) {
				bad(p.Name, "key property %s is required: the database does not generate it", p.Name)
			} else {
				bad(p.Name, "property %s is required", p.Name)
			}
		}
	}
	if len(details) > 0 {
		e := newHTTPError(http.StatusBadRequest, codeInvalidValue, "the request body has %d invalid %s", len(details), plural(len(details), "property", "properties"))
		if len(details) == 1 {
			e.msg = details[0].Message
			e.target = details[0].Target
		}
		e.details = details
		return nil, e
	}
	return values, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func constEqual(a, b semantic.Const) bool {
	if a.Null || b.Null {
		return a.Null == b.Null
	}
	switch x := a.V.(type) {
	case time.Time:
		y, ok := b.V.(time.Time)
		return ok && x.Equal(y)
	case []byte:
		y, ok := b.V.([]byte)
		return ok && bytes.Equal(x, y)
	case string:
		y, ok := b.V.(string)
		if !ok {
			return false
		}
		if a.T == metadata.Decimal {
			ra, ok1 := new(big.Rat).SetString(x)
			rb, ok2 := new(big.Rat).SetString(y)
			return ok1 && ok2 && ra.Cmp(rb) == 0
		}
		return x == y
	}
	return a.V == b.V
}

var (
	dateRe     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timeRe     = regexp.MustCompile(`^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,12})?)?$`)
	guidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	durationRe = regexp.MustCompile(`^-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$`)
)

// jsonValue converts one JSON value to a constant of p's type; msg says
// what is wrong when it cannot.
func jsonValue(p *metadata.Property, raw json.RawMessage) (semantic.Const, string) {
	c := semantic.Const{T: p.Type}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		c.Null = true
		return c, ""
	}
	want := func(kind string) (semantic.Const, string) {
		return c, fmt.Sprintf("property %s expects %s (%s), got %s", p.Name, kind, p.Type.FullName(), jsonKind(raw))
	}
	var str string
	isString := len(raw) > 0 && raw[0] == '"'
	if isString {
		if err := json.Unmarshal(raw, &str); err != nil {
			return want("a string")
		}
	}
	switch p.Type {
	case metadata.Boolean:
		switch string(raw) {
		case "true":
			c.V = true
		case "false":
			c.V = false
		default:
			return want("true or false")
		}
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		text := string(raw)
		if isString {
			text = str // IEEE754Compatible clients send Int64 as strings
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			if f, ferr := strconv.ParseFloat(text, 64); ferr == nil && f == math.Trunc(f) && !isString && math.Abs(f) < 1<<53 {
				n, err = int64(f), nil
			}
		}
		if err != nil {
			return want("an integer")
		}
		lo, hi := intRange(p.Type)
		if n < lo || n > hi {
			return c, fmt.Sprintf("property %s: %d is out of range for %s", p.Name, n, p.Type.FullName())
		}
		c.V = n
	case metadata.Decimal:
		text := string(raw)
		if isString {
			text = str
		}
		canon, msg := checkDecimal(p, text)
		if msg != "" {
			return c, msg
		}
		c.V = canon
	case metadata.Single, metadata.Double:
		if isString {
			switch str {
			case "NaN":
				c.V = math.NaN()
			case "INF":
				c.V = math.Inf(1)
			case "-INF":
				c.V = math.Inf(-1)
			default:
				return want("a number")
			}
			return c, ""
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return want("a number")
		}
		c.V = f
	case metadata.String:
		if !isString {
			return want("a string")
		}
		if !utf8.ValidString(str) || strings.IndexByte(str, 0) >= 0 {
			return c, fmt.Sprintf("property %s: the string is not valid UTF-8 text", p.Name)
		}
		if p.MaxLength > 0 && utf8.RuneCountInString(str) > p.MaxLength {
			return c, fmt.Sprintf("property %s: %d characters exceed MaxLength %d", p.Name, utf8.RuneCountInString(str), p.MaxLength)
		}
		c.V = str
	case metadata.Guid:
		if !isString || !guidRe.MatchString(str) {
			return want("a GUID string")
		}
		c.V = strings.ToLower(str)
	case metadata.Binary:
		if !isString {
			return want("a base64 string")
		}
		b, err := decodeBase64(str)
		if err != nil {
			return c, fmt.Sprintf("property %s: not valid base64", p.Name)
		}
		if p.MaxLength > 0 && len(b) > p.MaxLength {
			return c, fmt.Sprintf("property %s: %d bytes exceed MaxLength %d", p.Name, len(b), p.MaxLength)
		}
		c.V = b
	case metadata.Date:
		if !isString {
			return want("a date string YYYY-MM-DD")
		}
		// Salesforce models Edm.Date as a date-time: accept one and keep its UTC date.
		if dateRe.MatchString(str) {
			t, err := time.Parse("2006-01-02", str)
			if err != nil {
				return c, fmt.Sprintf("property %s: %q is not a valid date", p.Name, str)
			}
			c.V = t
		} else if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
			u := t.UTC()
			c.V = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
		} else {
			return c, fmt.Sprintf("property %s: %q is not a valid date (YYYY-MM-DD)", p.Name, str)
		}
	case metadata.DateTimeOffset:
		if !isString {
			return want("a date-time string")
		}
		if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
			c.V = t.UTC()
		} else if dateRe.MatchString(str) {
			t, err := time.Parse("2006-01-02", str)
			if err != nil {
				return c, fmt.Sprintf("property %s: %q is not a valid date", p.Name, str)
			}
			c.V = t
		} else {
			return c, fmt.Sprintf("property %s: %q is not a valid date-time (e.g. 2024-01-15T10:30:00Z)", p.Name, str)
		}
	case metadata.TimeOfDay:
		m := timeRe.FindStringSubmatch(str)
		if !isString || m == nil {
			return want("a time of day HH:MM:SS")
		}
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		sec := 0
		if m[3] != "" {
			sec, _ = strconv.Atoi(m[3])
		}
		if h > 23 || mi > 59 || sec > 59 {
			return c, fmt.Sprintf("property %s: %q is not a valid time of day", p.Name, str)
		}
		d := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second
		if m[4] != "" {
			frac := (m[4][1:] + "000000000")[:9]
			ns, _ := strconv.Atoi(frac)
			d += time.Duration(ns)
		}
		c.V = d
	case metadata.Duration:
		if !isString || !durationRe.MatchString(str) || str == "P" || str == "-P" || strings.HasSuffix(str, "T") {
			return want("an ISO 8601 duration such as P1DT2H")
		}
		d, err := adapters.ParseISODuration(str)
		if err != nil {
			return c, fmt.Sprintf("property %s: %q is not a valid duration", p.Name, str)
		}
		c.V = d
	default:
		return c, fmt.Sprintf("property %s has type %s, which cannot be written", p.Name, p.Type.FullName())
	}
	return c, ""
}

func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func intRange(t metadata.Type) (int64, int64) {
	switch t {
	case metadata.Byte:
		return 0, 255
	case metadata.SByte:
		return -128, 127
	case metadata.Int16:
		return math.MinInt16, math.MaxInt16
	case metadata.Int32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

var decimalRe = regexp.MustCompile(`^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$`)

// checkDecimal validates text against Precision/Scale and returns its
// canonical plain form (no exponent). It works on the digits as text: the
// cost is linear in the input, whatever the exponent (a 30-byte
// "1e-999999" must not cost seconds of big-number arithmetic).
func checkDecimal(p *metadata.Property, text string) (string, string) {
	m := decimalRe.FindStringSubmatch(text)
	if m == nil {
		return "", fmt.Sprintf("property %s expects a decimal number, got %q", p.Name, text)
	}
	neg := m[1] == "-"
	digits := m[2] + m[3]
	exp := -len(m[3])
	if m[4] != "" {
		e, err := strconv.Atoi(m[4])
		if err != nil || e > 1000 || e < -1000 {
			return "", fmt.Sprintf("property %s: %s is out of range", p.Name, text)
		}
		exp += e
	}
	digits = strings.TrimLeft(digits, "0")
	// Trailing zeros move into the exponent: 1.500 has scale 1.
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if digits == "" {
		return "0", ""
	}
	scale := 0
	if exp < 0 {
		scale = -exp
	}
	intDigits := len(digits) + exp // may be <= 0 for 0.00x
	if intDigits < 0 {
		intDigits = 0
	}
	if p.Precision > 0 && !p.Variable {
		if scale > p.Scale {
			return "", fmt.Sprintf("property %s: %s has %d decimal places; at most %d allowed (Scale)", p.Name, text, scale, p.Scale)
		}
		if intDigits > p.Precision-p.Scale {
			return "", fmt.Sprintf("property %s: %s has %d integer digits; at most %d allowed (Precision %d, Scale %d)", p.Name, text, intDigits, p.Precision-p.Scale, p.Precision, p.Scale)
		}
	} else if intDigits+scale > 1000 {
		return "", fmt.Sprintf("property %s: %s has more than 1000 digits", p.Name, text)
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case exp >= 0:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", exp))
	case intDigits > 0:
		b.WriteString(digits[:intDigits])
		b.WriteByte('.')
		b.WriteString(digits[intDigits:])
	default:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -exp-len(digits)))
		b.WriteString(digits)
	}
	return b.String(), ""
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("bad base64")
}

// prefer reads the return= preference.
func preferReturn(r *http.Request) string {
	for _, v := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(strings.TrimSpace(name), "return") {
				return strings.ToLower(strings.TrimSpace(val))
			}
		}
	}
	return ""
}

// writeTarget binds the path of a write: the set, and the key for updates
// and deletes. Query options other than $format are not allowed on writes.
func (s *Server) writeTarget(r *http.Request, req *odata.Request, op auth.Op, needKey bool) (*semantic.Query, error) {
	if req.Path.Kind == odata.PathCount {
		e := newHTTPError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "$count is read-only")
		e.header = http.Header{"Allow": {"GET, HEAD"}}
		return nil, e
	}
	q, err := s.bind(r, req, op)
	if err != nil {
		return nil, err
	}
	if needKey && q.Key == nil {
		e := newHTTPError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "%s needs a key: %s(key)", op, q.Set.Name)
		e.header = http.Header{"Allow": {"GET, HEAD, POST"}}
		return nil, e
	}
	if !needKey && q.Key != nil {
		e := newHTTPError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "POST goes to the entity set %s, not to an entity", q.Set.Name)
		e.header = http.Header{"Allow": {"GET, HEAD, PATCH, PUT, DELETE"}}
		return nil, e
	}
	if q.Set.ReadOnly {
		allow := "GET, HEAD"
		e := newHTTPError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "%s is read-only", q.Set.Name)
		e.header = http.Header{"Allow": {allow}}
		return nil, e
	}
	if err := s.checkCSRF(r); err != nil {
		return nil, err
	}
	return q, nil
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
		ev = ev.Str("key", keyPredicateText(set, key))
	}
	ev.Str("outcome", outcome).Msg("write")
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, req *odata.Request) {
	q, err := s.writeTarget(r, req, auth.Insert, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	obj, order, err := s.readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	values, err := validate(q.Set, obj, order, modeCreate, nil)
	if err == nil {
		err = s.checkWritable(r, q.Set, values, false)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	release, err := s.acquire(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	row, err := s.adapter.Insert(r.Context(), &adapters.Write{Set: q.Set, Values: values, Restrict: q.Restrict})
	var key []semantic.Const
	if err == nil {
		key = adapters.KeyOf(q.Set, row)
	}
	s.audit(r, auth.Insert, q.Set, key, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	loc := s.entityURL(r, q.Set, key)
	w.Header().Set("Location", loc)
	w.Header().Set("OData-EntityId", loc)
	s.writeEntityResult(w, r, q, row, http.StatusCreated, preferReturn(r) == "minimal")
}

// writeEntityResult answers a successful write with the entity, or 204.
func (s *Server) writeEntityResult(w http.ResponseWriter, r *http.Request, q *semantic.Query, row adapters.Row, status int, minimal bool) {
	etag := adapters.ETag(s.cfg.TokenKey, q.Set, row.Columns, row.Values)
	h := w.Header()
	h.Set("OData-Version", "4.0")
	if etag != "" {
		h.Set("ETag", etag)
	}
	if minimal {
		h.Set("Preference-Applied", "return=minimal")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if status == http.StatusOK {
		h.Set("Preference-Applied", "return=representation")
	}
	h.Set("Content-Type", contentType(format{}))
	w.WriteHeader(status)
	all := &semantic.Query{Set: q.Set, Select: q.Set.Properties}
	cols, vals := row.Columns, row.Values
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
			all.Select, all.SelectExplicit = cols, true
		}
	}
	jw := jsonfmt.NewWriter(w, jsonfmt.Options{})
	jw.SingleEntity(s.contextURL(r, all, true), cols, vals, etag)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, req *odata.Request, replace bool) {
	q, err := s.writeTarget(r, req, auth.Update, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	obj, order, err := s.readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	mode := modePatch
	if replace {
		mode = modeReplace
	}
	values, err := validate(q.Set, obj, order, mode, q.Key)
	if err == nil {
		err = s.checkWritable(r, q.Set, values, replace)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ifMatch, err := s.ifMatch(r, q.Set)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	release, err := s.acquire(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	row, err := s.adapter.Update(r.Context(), &adapters.Write{
		Set: q.Set, Key: q.Key, Values: values, Replace: replace, Upsert: s.cfg.Upsert && clientKeyed(q.Set),
		Restrict: q.Restrict, IfMatch: ifMatch, ETagKey: s.cfg.TokenKey,
	})
	s.audit(r, auth.Update, q.Set, q.Key, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeEntityResult(w, r, q, row, http.StatusOK, preferReturn(r) != "representation")
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request, req *odata.Request) {
	q, err := s.writeTarget(r, req, auth.Delete, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ifMatch, err := s.ifMatch(r, q.Set)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	release, err := s.acquire(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	err = s.adapter.Delete(r.Context(), &adapters.Write{Set: q.Set, Key: q.Key, Restrict: q.Restrict, IfMatch: ifMatch, ETagKey: s.cfg.TokenKey})
	s.audit(r, auth.Delete, q.Set, q.Key, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusNoContent)
}

// checkWritable enforces per-property write rules of the policy.
func (s *Server) checkWritable(r *http.Request, set *metadata.EntitySet, values map[*metadata.Property]semantic.Const, replace bool) error {
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
