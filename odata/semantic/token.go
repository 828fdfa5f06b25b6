package semantic

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// TokenCodec encodes and decodes $skiptoken values: opaque, URL-safe
// (base64url without padding), HMAC-SHA256 signed page positions bound to
// the query they were issued for. Tokens are self-contained, so any replica
// sharing the key can serve the next page. A TokenCodec is safe for
// concurrent use.
//
// Token layout (before base64url):
//
//	version (1 byte, 2) | SHA-256(fingerprint)[:8] | uvarint Returned |
//	uvarint Count+1 (0: no count) |
//	mode (0 offset, 1 values) | uvarint Offset, or uvarint n + n values |
//	HMAC-SHA256(key, everything before)[:16]
//
// Version 1 tokens (issued before the count was carried) have no count
// field and still decode, so that walks in flight survive an upgrade.
// Version 3 is version 2 followed by the bytes of Track (a walk with change
// tracking); it is written only when Track is set.
//
// Each value is a type code byte (0x80 set for null) followed by its
// encoding: bool 1 byte; integers zigzag varint; Decimal, String, Guid and
// Binary length-prefixed bytes; Single and Double the IEEE 754 bits (NaN and
// infinities included); Date and DateTimeOffset varint Unix seconds plus
// uvarint nanoseconds; TimeOfDay and Duration varint nanoseconds.
type TokenCodec struct {
	key []byte
}

// NewTokenCodec returns a codec signing with key (copied). An empty key
// still works but makes tokens forgeable; callers should use >= 32 random bytes.
func NewTokenCodec(key []byte) *TokenCodec {
	return &TokenCodec{key: append([]byte(nil), key...)}
}

const (
	tokenVersion = 2
	trackVersion = 3
	fpLen        = 8
	tagLen       = 16
	// maxTokenLen bounds the text Decode looks at.
	maxTokenLen = 64 << 10
	modeOffset  = 0
	modeValues  = 1
	nullFlag    = 0x80
)

// typeCodes numbers the Edm types in the token; the order is part of the
// token format (append only).
var typeCodes = []metadata.Type{
	metadata.Boolean, metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64,
	metadata.Decimal, metadata.Single, metadata.Double, metadata.String, metadata.Date,
	metadata.DateTimeOffset, metadata.TimeOfDay, metadata.Duration, metadata.Guid, metadata.Binary,
}

func typeCode(t metadata.Type) (byte, bool) {
	for i, c := range typeCodes {
		if c == t {
			return byte(i), true
		}
	}
	return 0, false
}

func fingerprintHash(fp string) []byte {
	h := sha256.Sum256([]byte(fp))
	return h[:fpLen]
}

func (c *TokenCodec) tag(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)[:tagLen]
}

// Encode returns the token for position k of the query with the given
// fingerprint. With k.Values nil the token carries k.Offset; otherwise it
// carries the values, which must each have V matching T as documented on
// Const. Encode panics on a value whose V does not match its T: that is a
// programming error, and a token that silently misplaced a page would be worse.
func (c *TokenCodec) Encode(fingerprint string, k Keyset) string {
	version := byte(tokenVersion)
	if k.Track != "" {
		version = trackVersion
	}
	p := []byte{version}
	p = append(p, fingerprintHash(fingerprint)...)
	p = binary.AppendUvarint(p, uint64(k.Returned))
	if k.Counted {
		p = binary.AppendUvarint(p, uint64(k.Count)+1)
	} else {
		p = binary.AppendUvarint(p, 0)
	}
	if k.Values == nil {
		p = append(p, modeOffset)
		p = binary.AppendUvarint(p, uint64(k.Offset))
	} else {
		p = append(p, modeValues)
		p = binary.AppendUvarint(p, uint64(len(k.Values)))
		for _, v := range k.Values {
			p = appendValue(p, v)
		}
	}
	if k.Track != "" {
		p = appendBytes(p, []byte(k.Track))
	}
	p = append(p, c.tag(p)...)
	return base64.RawURLEncoding.EncodeToString(p)
}

func appendBytes(p, b []byte) []byte {
	p = binary.AppendUvarint(p, uint64(len(b)))
	return append(p, b...)
}

func appendValue(p []byte, v Const) []byte {
	code, ok := typeCode(v.T)
	if !ok {
		panic(fmt.Sprintf("semantic: Keyset value has unknown type %q", v.T))
	}
	if v.Null {
		return append(p, code|nullFlag)
	}
	p = append(p, code)
	mismatch := func() {
		panic(fmt.Sprintf("semantic: Keyset value %T does not match %s", v.V, v.T.FullName()))
	}
	switch v.T {
	case metadata.Boolean:
		b, ok := v.V.(bool)
		if !ok {
			mismatch()
		}
		if b {
			return append(p, 1)
		}
		return append(p, 0)
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		n, ok := v.V.(int64)
		if !ok {
			mismatch()
		}
		return binary.AppendVarint(p, n)
	case metadata.Single, metadata.Double:
		f, ok := v.V.(float64)
		if !ok {
			mismatch()
		}
		return binary.BigEndian.AppendUint64(p, math.Float64bits(f))
	case metadata.Decimal, metadata.String, metadata.Guid:
		s, ok := v.V.(string)
		if !ok {
			mismatch()
		}
		return appendBytes(p, []byte(s))
	case metadata.Binary:
		b, ok := v.V.([]byte)
		if !ok {
			mismatch()
		}
		return appendBytes(p, b)
	case metadata.Date, metadata.DateTimeOffset:
		t, ok := v.V.(time.Time)
		if !ok {
			mismatch()
		}
		p = binary.AppendVarint(p, t.Unix())
		return binary.AppendUvarint(p, uint64(t.Nanosecond()))
	case metadata.TimeOfDay, metadata.Duration:
		d, ok := v.V.(time.Duration)
		if !ok {
			mismatch()
		}
		return binary.AppendVarint(p, int64(d))
	}
	mismatch()
	return p
}

// invalidToken is the one answer to every bad token: no detail leaks.
func invalidToken() *Error {
	return &Error{Kind: BadRequest, Option: "$skiptoken", Msg: "invalid or expired $skiptoken"}
}

// Decode checks and decodes a token issued by Encode for the query with the
// given fingerprint, whose total order is order (see TotalOrder). When every
// order item is a plain property or a to-one path with its Carry column,
// the token must carry one value per item, of the item's type (null only
// for nullable properties; a path may always be null); otherwise it must
// carry an offset. An order with paths also accepts an offset: such walks
// were paged by offset before paths were carried, and a token in flight
// still finds its page (the next one is a keyset). Every failure (bad
// encoding, wrong signature or key, another query's token, malformed
// payload, values not fitting the order) is the same
// *Error{Kind: BadRequest, Option: "$skiptoken"}.
func (c *TokenCodec) Decode(fingerprint, token string, order []Order) (*Keyset, error) {
	cols, keyset := keysetCols(order)
	offset := !keyset
	for _, o := range order {
		if o.Carry != nil {
			offset = true
		}
	}
	return c.decode(fingerprint, token, cols, offset)
}

// decode is Decode with the paging modes given: a keyset of the values of
// cols (nil: none accepted), an offset when offset is set.
func (c *TokenCodec) decode(fingerprint, token string, cols []*metadata.Property, offset bool) (*Keyset, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return nil, invalidToken()
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+fpLen+2+tagLen {
		return nil, invalidToken()
	}
	payload, tag := raw[:len(raw)-tagLen], raw[len(raw)-tagLen:]
	if !hmac.Equal(tag, c.tag(payload)) {
		return nil, invalidToken()
	}
	version := payload[0]
	if version != 1 && version != tokenVersion && version != trackVersion || !bytes.Equal(payload[1:1+fpLen], fingerprintHash(fingerprint)) {
		return nil, invalidToken()
	}
	r := &reader{b: payload[1+fpLen:]}
	k := &Keyset{}
	ret, ok := r.uvarint()
	if !ok || ret > math.MaxInt64 {
		return nil, invalidToken()
	}
	k.Returned = int64(ret)
	if version >= 2 {
		c, ok := r.uvarint()
		if !ok || c > math.MaxInt64 {
			return nil, invalidToken()
		}
		if c > 0 {
			k.Count, k.Counted = int64(c-1), true
		}
	}
	mode, ok := r.byte()
	switch {
	case !ok:
		return nil, invalidToken()
	case mode == modeOffset && offset:
		off, ok := r.uvarint()
		if !ok || off > math.MaxInt64 {
			return nil, invalidToken()
		}
		k.Offset = int64(off)
	case mode == modeValues && len(cols) > 0:
		n, ok := r.uvarint()
		if !ok || n != uint64(len(cols)) {
			return nil, invalidToken()
		}
		k.Values = make([]Const, len(cols))
		for i, p := range cols {
			v, ok := r.value(p)
			if !ok {
				return nil, invalidToken()
			}
			k.Values[i] = v
		}
	default:
		return nil, invalidToken()
	}
	if version == trackVersion {
		track, ok := r.bytes()
		if !ok || len(track) == 0 {
			return nil, invalidToken()
		}
		k.Track = string(track)
	}
	if len(r.b) != 0 {
		return nil, invalidToken()
	}
	return k, nil
}

// reader consumes a token payload.
type reader struct{ b []byte }

func (r *reader) byte() (byte, bool) {
	if len(r.b) == 0 {
		return 0, false
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, true
}

func (r *reader) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

func (r *reader) varint() (int64, bool) {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

func (r *reader) bytes() ([]byte, bool) {
	n, ok := r.uvarint()
	if !ok || n > uint64(len(r.b)) {
		return nil, false
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b, true
}

// value reads one value and checks that it fits property p.
func (r *reader) value(p *metadata.Property) (Const, bool) {
	code, ok := r.byte()
	if !ok {
		return Const{}, false
	}
	want, _ := typeCode(p.Type)
	if code&^nullFlag != want {
		return Const{}, false
	}
	if code&nullFlag != 0 {
		return Const{T: p.Type, Null: true}, p.Nullable
	}
	c := Const{T: p.Type}
	switch p.Type {
	case metadata.Boolean:
		b, ok := r.byte()
		if !ok || b > 1 {
			return Const{}, false
		}
		c.V = b == 1
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		n, ok := r.varint()
		if !ok || !fitsIntegral(n, p.Type) {
			return Const{}, false
		}
		c.V = n
	case metadata.Single, metadata.Double:
		if len(r.b) < 8 {
			return Const{}, false
		}
		c.V = math.Float64frombits(binary.BigEndian.Uint64(r.b))
		r.b = r.b[8:]
	case metadata.Decimal:
		b, ok := r.bytes()
		if !ok || !validNumber(string(b)) || bytes.ContainsAny(b, "eE+") {
			return Const{}, false
		}
		c.V = string(b)
	case metadata.String:
		b, ok := r.bytes()
		if !ok {
			return Const{}, false
		}
		c.V = string(b)
	case metadata.Guid:
		b, ok := r.bytes()
		if !ok {
			return Const{}, false
		}
		g, ok := canonicalGuid(string(b))
		if !ok {
			return Const{}, false
		}
		c.V = g
	case metadata.Binary:
		b, ok := r.bytes()
		if !ok {
			return Const{}, false
		}
		c.V = append([]byte{}, b...)
	case metadata.Date, metadata.DateTimeOffset:
		sec, ok1 := r.varint()
		ns, ok2 := r.uvarint()
		if !ok1 || !ok2 || ns >= 1e9 {
			return Const{}, false
		}
		t := time.Unix(sec, int64(ns)).UTC()
		if p.Type == metadata.Date && !t.Equal(truncateToDate(t)) {
			return Const{}, false
		}
		c.V = t
	case metadata.TimeOfDay, metadata.Duration:
		n, ok := r.varint()
		if !ok || (p.Type == metadata.TimeOfDay && (n < 0 || n >= int64(24*time.Hour))) {
			return Const{}, false
		}
		c.V = time.Duration(n)
	default:
		return Const{}, false
	}
	return c, true
}

// Fingerprint identifies the result a request asks for, so that a
// $skiptoken issued for one query is rejected on another. It covers the
// entity set name and the canonical printed $filter, $search, $orderby,
// $select and $top, plus the values of the parameter aliases they use; it
// ignores $skip, $count, $skiptoken and $format (which do not change which
// rows come next). Different spellings of the same query (whitespace,
// percent-encoding) print alike and so share a fingerprint.
func Fingerprint(set string, req *odata.Request) string {
	o := &req.Options
	var sb strings.Builder
	field := func(name, value string) {
		sb.WriteString(name)
		sb.WriteByte('=')
		sb.WriteString(strconv.Quote(value))
		sb.WriteByte('\n')
	}
	field("set", set)
	aliases := map[string]*odata.Alias{}
	if o.Apply != nil {
		field("$apply", o.Apply.String())
		collectApplyAliases(o.Apply.Steps, aliases)
	}
	if o.Filter != nil {
		field("$filter", o.Filter.String())
		collectAliases(o.Filter, aliases)
	}
	if o.Compute != nil {
		// An alias in $filter or $orderby means its expression.
		field("$compute", odata.FormatCompute(o.Compute))
		for _, it := range o.Compute {
			collectAliases(it.Expr, aliases)
		}
	}
	if o.Search != nil {
		field("$search", o.Search.String())
	}
	if len(o.OrderBy) > 0 {
		items := make([]string, len(o.OrderBy))
		for i, it := range o.OrderBy {
			items[i] = it.Expr.String()
			if it.Desc {
				items[i] += " desc"
			}
			collectAliases(it.Expr, aliases)
		}
		field("$orderby", strings.Join(items, ","))
	}
	if o.HasSelect {
		items := make([]string, len(o.Select))
		for i, it := range o.Select {
			if it.Star {
				items[i] = "*"
			} else {
				items[i] = strings.Join(it.Path, "/")
			}
		}
		field("$select", strings.Join(items, ","))
	}
	if o.Top != nil {
		field("$top", strconv.FormatInt(*o.Top, 10))
	}
	names := make([]string, 0, len(aliases))
	for n := range aliases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := "null"
		if a := aliases[n]; a.Value != nil {
			v = a.Value.String()
		}
		field("@"+n, v)
	}
	return sb.String()
}

// collectAliases records the aliases used by e, including inside alias values.
func collectAliases(e odata.Expr, seen map[string]*odata.Alias) {
	switch n := e.(type) {
	case *odata.Alias:
		if _, ok := seen[n.Name]; ok {
			return
		}
		seen[n.Name] = n
		if n.Value != nil {
			collectAliases(n.Value, seen)
		}
	case *odata.Binary:
		collectAliases(n.X, seen)
		collectAliases(n.Y, seen)
	case *odata.Unary:
		collectAliases(n.X, seen)
	case *odata.Call:
		for _, a := range n.Args {
			collectAliases(a, seen)
		}
	case *odata.In:
		collectAliases(n.X, seen)
		for _, a := range n.List {
			collectAliases(a, seen)
		}
	case *odata.Lambda:
		if n.Body != nil {
			collectAliases(n.Body, seen)
		}
	}
}

func collectApplyAliases(steps []odata.Transformation, aliases map[string]*odata.Alias) {
	for _, t := range steps {
		switch n := t.(type) {
		case *odata.FilterStep:
			collectAliases(n.Expr, aliases)
		case *odata.GroupBy:
			collectApplyAliases(n.Then, aliases)
		case *odata.Aggregate:
			for _, it := range n.Items {
				if it.Expr != nil {
					collectAliases(it.Expr, aliases)
				}
			}
		}
	}
}
