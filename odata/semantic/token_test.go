package semantic

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
)

// allTypesOrder orders Things by every property (Binary included, which
// $orderby refuses but the codec must still carry losslessly).
func allTypesOrder() []Order {
	set := testModel().Set("Things")
	var out []Order
	for i, p := range set.Properties {
		out = append(out, Order{Expr: &Prop{P: p}, Desc: i%2 == 1})
	}
	return out
}

func valuesFor(order []Order, pick func(p *metadata.Property) Const) []Const {
	out := make([]Const, len(order))
	for i, o := range order {
		out[i] = pick(o.Expr.(*Prop).P)
	}
	return out
}

func sameConst(a, b Const) bool {
	if a.T != b.T || a.Null != b.Null {
		return false
	}
	if a.Null {
		return true
	}
	switch x := a.V.(type) {
	case float64:
		y, ok := b.V.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case time.Time:
		y, ok := b.V.(time.Time)
		return ok && x.Equal(y) && y.Location() == time.UTC
	case []byte:
		y, ok := b.V.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return a.V == b.V
}

func TestTokenRoundTripEveryType(t *testing.T) {
	order := allTypesOrder()
	typical := map[metadata.Type]any{
		metadata.Boolean: true, metadata.Byte: int64(255), metadata.SByte: int64(-128), metadata.Int16: int64(-32768),
		metadata.Int32: int64(math.MaxInt32), metadata.Int64: int64(math.MinInt64), metadata.Decimal: "-12345678901234567890.0100",
		metadata.Single: float64(float32(1.1)), metadata.Double: math.NaN(), metadata.String: "O'Brien – Zürich ✓",
		metadata.Date: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), metadata.DateTimeOffset: time.Date(2024, 1, 15, 10, 30, 0, 123456789, time.UTC),
		metadata.TimeOfDay: 24*time.Hour - 1, metadata.Duration: -26 * time.Hour, metadata.Guid: "01234567-89ab-cdef-0123-456789abcdef",
		metadata.Binary: []byte{0, 1, 2, 0xff},
	}
	edge := map[metadata.Type]any{
		metadata.Boolean: false, metadata.Byte: int64(0), metadata.SByte: int64(127), metadata.Int16: int64(0),
		metadata.Int32: int64(math.MinInt32), metadata.Int64: int64(math.MaxInt64), metadata.Decimal: "0",
		metadata.Single: math.Inf(-1), metadata.Double: math.Copysign(0, -1), metadata.String: "",
		metadata.Date: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), metadata.DateTimeOffset: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		metadata.TimeOfDay: time.Duration(0), metadata.Duration: time.Duration(math.MinInt64), metadata.Guid: "ffffffff-ffff-ffff-ffff-ffffffffffff",
		metadata.Binary: []byte{},
	}
	cases := map[string]func(p *metadata.Property) Const{
		"typical": func(p *metadata.Property) Const { return Const{T: p.Type, V: typical[p.Type]} },
		"edge":    func(p *metadata.Property) Const { return Const{T: p.Type, V: edge[p.Type]} },
		"nulls": func(p *metadata.Property) Const {
			if p.Nullable {
				return Const{T: p.Type, Null: true}
			}
			return Const{T: p.Type, V: typical[p.Type]}
		},
	}
	codec := NewTokenCodec([]byte("0123456789abcdef0123456789abcdef"))
	for name, pick := range cases {
		t.Run(name, func(t *testing.T) {
			in := Keyset{Values: valuesFor(order, pick), Returned: 500}
			tok := codec.Encode("fp", in)
			for _, c := range tok {
				if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
					t.Fatalf("token has non-URL-safe character %q: %s", c, tok)
				}
			}
			out, err := codec.Decode("fp", tok, order)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if out.Returned != 500 || out.Offset != 0 || len(out.Values) != len(in.Values) {
				t.Fatalf("decoded %+v", out)
			}
			for i := range in.Values {
				if !sameConst(in.Values[i], out.Values[i]) {
					t.Errorf("value %d (%s): got %#v, want %#v", i, order[i].Expr.(*Prop).P.Name, out.Values[i], in.Values[i])
				}
			}
		})
	}
}

func TestTokenOffsetMode(t *testing.T) {
	codec := NewTokenCodec([]byte("k"))
	order := []Order{{Expr: &Call{Fn: FnToLower, T: metadata.String}}, {Expr: &Prop{P: testModel().Set("Orders").Key[0]}}}
	tok := codec.Encode("fp", Keyset{Offset: 1 << 40, Returned: 26})
	k, err := codec.Decode("fp", tok, order)
	if err != nil {
		t.Fatal(err)
	}
	if k.Values != nil || k.Offset != 1<<40 || k.Returned != 26 {
		t.Errorf("decoded %+v", k)
	}
	// An offset token does not fit a keyset order, nor values an expression order.
	keyOrder := []Order{{Expr: &Prop{P: testModel().Set("Orders").Key[0]}}}
	if _, err := codec.Decode("fp", tok, keyOrder); !isInvalidToken(err) {
		t.Errorf("offset token on keyset order: %v", err)
	}
	vt := codec.Encode("fp", Keyset{Values: []Const{{T: metadata.String, V: "a"}, {T: metadata.Int64, V: int64(1)}}})
	if _, err := codec.Decode("fp", vt, order); !isInvalidToken(err) {
		t.Errorf("values token on expression order: %v", err)
	}
}

func isInvalidToken(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == BadRequest && e.Option == "$skiptoken" && e.Msg == "invalid or expired $skiptoken"
}

func TestTokenRejections(t *testing.T) {
	m := testModel()
	orders := m.Set("Orders")
	order := []Order{{Expr: &Prop{P: orders.Properties[2]}, Desc: true}, {Expr: &Prop{P: orders.Key[0]}}} // OrderDate desc, OrderID
	codec := NewTokenCodec([]byte("secret-key-1"))
	good := Keyset{Values: []Const{{T: metadata.Date, V: time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)}, {T: metadata.Int64, V: int64(10248)}}, Returned: 26}
	tok := codec.Encode("fp-a", good)
	if _, err := codec.Decode("fp-a", tok, order); err != nil {
		t.Fatalf("good token: %v", err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// Re-sign a hand-edited payload with the right key: the structure checks
	// must still reject it.
	forge := func(payload []byte) string {
		return base64.RawURLEncoding.EncodeToString(append(payload, codec.tag(payload)...))
	}
	payload := raw[:len(raw)-tagLen]
	int32Order := []Order{{Expr: &Prop{P: orders.Properties[2]}}, {Expr: &Prop{P: m.Set("Lines").Key[0]}}}
	nullKey := codec.Encode("fp-a", Keyset{Values: []Const{good.Values[0], {T: metadata.Int64, Null: true}}})
	tests := []struct {
		name, fp, token string
		order           []Order
		codec           *TokenCodec
	}{
		{"flip first byte", "fp-a", flip(0), order, codec},
		{"flip fingerprint byte", "fp-a", flip(3), order, codec},
		{"flip value byte", "fp-a", flip(len(raw) - tagLen - 1), order, codec},
		{"flip tag byte", "fp-a", flip(len(raw) - 1), order, codec},
		{"replay on another query", "fp-b", tok, order, codec},
		{"wrong key", "fp-a", tok, order, NewTokenCodec([]byte("secret-key-2"))},
		{"truncated", "fp-a", tok[:len(tok)-4], order, codec},
		{"not base64", "fp-a", "%%%", order, codec},
		{"padded base64", "fp-a", tok + "==", order, codec},
		{"empty", "fp-a", "", order, codec},
		{"too long", "fp-a", string(make([]byte, maxTokenLen+1)), order, codec},
		{"fewer order items", "fp-a", tok, order[:1], codec},
		{"other types", "fp-a", tok, int32Order, codec},
		{"signed trailing garbage", "fp-a", forge(append(append([]byte(nil), payload...), 0)), order, codec},
		{"signed wrong version", "fp-a", forge(append([]byte{9}, payload[1:]...)), order, codec},
		{"signed null for non-nullable key", "fp-a", nullKey, order, codec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.codec.Decode(tt.fp, tt.token, tt.order)
			if !isInvalidToken(err) {
				t.Errorf("Decode = %+v, %v; want invalid token error", k, err)
			}
		})
	}
}

func TestTokenRejectsValuesNotFittingTypes(t *testing.T) {
	codec := NewTokenCodec([]byte("k"))
	set := testModel().Set("Things")
	p := func(name string) *metadata.Property { return set.Property(name) }
	tests := []struct {
		name string
		prop *metadata.Property
		v    Const
	}{
		{"byte out of range", p("B"), Const{T: metadata.Byte, V: int64(256)}},
		{"date not midnight", p("Born"), Const{T: metadata.Date, V: time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC)}},
		{"time of day beyond 24h", p("At"), Const{T: metadata.TimeOfDay, V: 25 * time.Hour}},
		{"bad guid", p("UID"), Const{T: metadata.Guid, V: "nope"}},
		{"bad decimal", p("Price"), Const{T: metadata.Decimal, V: "1e5"}},
		{"type differs", p("I32"), Const{T: metadata.Int64, V: int64(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := []Order{{Expr: &Prop{P: tt.prop}}}
			tok := codec.Encode("fp", Keyset{Values: []Const{tt.v}})
			if k, err := codec.Decode("fp", tok, order); !isInvalidToken(err) {
				t.Errorf("Decode = %+v, %v; want invalid token", k, err)
			}
		})
	}
}

func TestTokenEncodePanicsOnMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Encode did not panic on a string value typed Int32")
		}
	}()
	NewTokenCodec(nil).Encode("fp", Keyset{Values: []Const{{T: metadata.Int32, V: "1"}}})
}

func TestFingerprint(t *testing.T) {
	base := []string{"$filter", "Name eq 'x' and I32 gt @n", "@n", "5", "$orderby", "Name desc", "$select", "Name,ID", "$top", "100", "$search", "blue"}
	fp := func(set string, kv ...string) string { return Fingerprint(set, request(t, setPath(set), kv...)) }
	ref := fp("Things", base...)
	with := func(k, v string) []string {
		out := append([]string(nil), base...)
		for i := 0; i < len(out); i += 2 {
			if out[i] == k {
				out[i+1] = v
				return out
			}
		}
		return append(out, k, v)
	}
	same := map[string][]string{
		"spacing":    with("$filter", "Name  eq  'x'  and  (I32 gt @n)"),
		"$skip":      with("$skip", "50"),
		"$count":     with("$count", "true"),
		"$skiptoken": with("$skiptoken", "abc"),
		"asc":        with("$orderby", "Name  desc"),
	}
	for name, kv := range same {
		if got := fp("Things", kv...); got != ref {
			t.Errorf("%s changed the fingerprint:\n%s\nvs\n%s", name, got, ref)
		}
	}
	differ := map[string][]string{
		"filter":      with("$filter", "Name eq 'y' and I32 gt @n"),
		"alias value": with("@n", "6"),
		"orderby":     with("$orderby", "Name"),
		"select":      with("$select", "Name"),
		"top":         with("$top", "99"),
		"search":      with("$search", "red"),
		"no top":      {"$filter", "Name eq 'x' and I32 gt @n", "@n", "5", "$orderby", "Name desc", "$select", "Name,ID", "$search", "blue"},
	}
	for name, kv := range differ {
		if got := fp("Things", kv...); got == ref {
			t.Errorf("%s did not change the fingerprint", name)
		}
	}
	if fp("Orders") == fp("Things") {
		t.Error("set name not in the fingerprint")
	}
}

func TestBindSkipToken(t *testing.T) {
	m := testModel()
	codec := NewTokenCodec([]byte("key"))
	opts := Options{Tokens: codec}
	kv := []string{"$filter", "Total gt 5", "$orderby", "OrderDate desc", "$top", "300"}
	first, err := Bind(m, request(t, setPath("Orders"), kv...), opts)
	if err != nil {
		t.Fatal(err)
	}
	order, keyset := TotalOrder(first)
	if !keyset || len(order) != 2 {
		t.Fatalf("TotalOrder = %v, %v", order, keyset)
	}
	last := Keyset{Values: []Const{{T: metadata.Date, Null: true}, {T: metadata.Int64, V: int64(10300)}}, Returned: 200}
	tok := codec.Encode(Fingerprint("Orders", request(t, setPath("Orders"), kv...)), last)

	next, err := Bind(m, request(t, setPath("Orders"), append(kv, "$skiptoken", tok, "$count", "true")...), opts)
	if err != nil {
		t.Fatalf("next page: %v", err)
	}
	if next.After == nil || next.After.Returned != 200 || len(next.After.Values) != 2 || !next.After.Values[0].Null ||
		next.After.Values[1].V != int64(10300) {
		t.Errorf("After = %+v", next.After)
	}
	// Replayed on a query with another filter: 400.
	other := append([]string{"$filter", "Total gt 6"}, kv[2:]...)
	_, err = Bind(m, request(t, setPath("Orders"), append(other, "$skiptoken", tok)...), opts)
	if !isInvalidToken(err) {
		t.Errorf("replayed token: %v", err)
	}
	// Expression order: offset tokens.
	ekv := []string{"$orderby", "year(OrderDate)"}
	etok := codec.Encode(Fingerprint("Orders", request(t, setPath("Orders"), ekv...)), Keyset{Offset: 52, Returned: 52})
	q, err := Bind(m, request(t, setPath("Orders"), append(ekv, "$skiptoken", etok)...), opts)
	if err != nil {
		t.Fatal(err)
	}
	if q.After == nil || q.After.Offset != 52 || q.After.Values != nil {
		t.Errorf("After = %+v", q.After)
	}
}

func FuzzDecode(f *testing.F) {
	codec := NewTokenCodec([]byte("fuzz"))
	set := testModel().Set("Things")
	order := allTypesOrder()
	f.Add(codec.Encode("fp", Keyset{Offset: 3}))
	f.Add(codec.Encode("fp", Keyset{Values: valuesFor(order, func(p *metadata.Property) Const { return Const{T: p.Type, Null: true} })}))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		for _, o := range [][]Order{order, {{Expr: &Prop{P: set.Key[0]}}}, {{Expr: &Call{Fn: FnNow, T: metadata.DateTimeOffset}}}} {
			k, err := codec.Decode("fp", tok, o)
			if err != nil && !isInvalidToken(err) {
				t.Fatalf("unexpected error %v", err)
			}
			if err == nil && k == nil {
				t.Fatal("nil keyset without error")
			}
		}
		// Signed arbitrary payloads exercise the structure checks.
		raw := []byte(tok)
		signed := base64.RawURLEncoding.EncodeToString(append(raw, codec.tag(raw)...))
		if k, err := codec.Decode("fp", signed, order); err == nil {
			if len(k.Values) != len(order) {
				t.Fatalf("accepted %d values for %d order items", len(k.Values), len(order))
			}
		} else if !isInvalidToken(err) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// TestTokenCarriesTheCount: the walk's count travels in the token; a
// version 1 token (issued before) still decodes, without a count.
func TestTokenCarriesTheCount(t *testing.T) {
	codec := NewTokenCodec([]byte("k"))
	order := []Order{{Expr: &Prop{P: testModel().Set("Orders").Key[0]}}}
	values := []Const{{T: metadata.Int64, V: int64(10248)}}
	for _, in := range []Keyset{
		{Values: values, Returned: 2000, Count: 0, Counted: true},
		{Values: values, Returned: 2000, Count: 123456789, Counted: true},
		{Values: values, Returned: 2000},
	} {
		out, err := codec.Decode("fp", codec.Encode("fp", in), order)
		if err != nil {
			t.Fatal(err)
		}
		if out.Counted != in.Counted || out.Count != in.Count || out.Returned != in.Returned {
			t.Errorf("round trip of %+v gave %+v", in, out)
		}
	}
	// A version 1 token: no count field after Returned.
	p := []byte{1}
	p = append(p, fingerprintHash("fp")...)
	p = binary.AppendUvarint(p, 2000)
	p = append(p, modeValues)
	p = binary.AppendUvarint(p, 1)
	p = appendValue(p, values[0])
	p = append(p, codec.tag(p)...)
	out, err := codec.Decode("fp", base64.RawURLEncoding.EncodeToString(p), order)
	if err != nil {
		t.Fatalf("version 1 token: %v", err)
	}
	if out.Counted || out.Returned != 2000 || !sameConst(out.Values[0], values[0]) {
		t.Errorf("version 1 token decoded as %+v", out)
	}
	// A version 3 token is not accepted.
	p[0] = 3
	p = append(p[:len(p)-tagLen], codec.tag(p[:len(p)-tagLen])...)
	if _, err := codec.Decode("fp", base64.RawURLEncoding.EncodeToString(p), order); !isInvalidToken(err) {
		t.Errorf("version 3 token: %v", err)
	}
}

func TestDeltaToken(t *testing.T) {
	c := NewTokenCodec([]byte("0123456789abcdef0123456789abcdef"))
	issued := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	for _, d := range []Delta{
		{Since: "100:105:101,103", Issued: issued},
		{Since: "7", Upto: "9", After: `{"id": 42}`, Issued: issued},
	} {
		tok := c.EncodeDelta("fp", d)
		got, err := c.DecodeDelta("fp", tok)
		if err != nil || got != d {
			t.Errorf("round trip %+v: %+v, %v", d, got, err)
		}
		if _, err := c.DecodeDelta("other", tok); err == nil {
			t.Errorf("token accepted for another query")
		}
		if _, err := NewTokenCodec([]byte("another key another key 12345678")).DecodeDelta("fp", tok); err == nil {
			t.Errorf("token accepted under another key")
		}
		raw := []byte(tok)
		raw[len(raw)/2] ^= 1
		if _, err := c.DecodeDelta("fp", string(raw)); err == nil {
			t.Errorf("tampered token accepted")
		}
	}
	// A $skiptoken is not a $deltatoken, and the reverse.
	skip := c.Encode("fp", Keyset{Offset: 3})
	if _, err := c.DecodeDelta("fp", skip); err == nil {
		t.Errorf("a $skiptoken decoded as a $deltatoken")
	}
	if _, err := c.Decode("fp", c.EncodeDelta("fp", Delta{Since: "1", Issued: issued}), nil); err == nil {
		t.Errorf("a $deltatoken decoded as a $skiptoken")
	}
	if _, err := c.DecodeDelta("fp", c.EncodeDelta("fp", Delta{Issued: issued})); err == nil {
		t.Errorf("a delta without a position decoded")
	}
}

func TestTokenCarriesTheTrackPosition(t *testing.T) {
	c := NewTokenCodec([]byte("0123456789abcdef0123456789abcdef"))
	tok := c.Encode("fp", Keyset{Offset: 5, Returned: 5, Track: "100:105:"})
	k, err := c.Decode("fp", tok, []Order{{Expr: &Arith{}}})
	if err != nil || k.Track != "100:105:" || k.Offset != 5 {
		t.Fatalf("track position: %+v %v", k, err)
	}
}

func FuzzDecodeDelta(f *testing.F) {
	c := NewTokenCodec([]byte("0123456789abcdef0123456789abcdef"))
	f.Add(c.EncodeDelta("fp", Delta{Since: "100:105:101", Upto: "7", After: `{"id": 1}`, Issued: time.Unix(1700000000, 0)}))
	f.Add("RA")
	f.Fuzz(func(t *testing.T, token string) {
		d, err := c.DecodeDelta("fp", token)
		if err == nil && d.Since == "" {
			t.Fatalf("decoded a delta without a position: %q", token)
		}
	})
}
