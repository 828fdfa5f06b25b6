package semantic

import (
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// BenchmarkTokenCodec encodes and decodes a keyset token for a two-column
// order (a timestamp and a string key), as each page of a walk does.
func BenchmarkTokenCodec(b *testing.B) {
	ts := &metadata.Property{Name: "created_at", Type: metadata.DateTimeOffset}
	id := &metadata.Property{Name: "customer_id", Type: metadata.String}
	order := []Order{{Expr: &Prop{P: ts}, Desc: true}, {Expr: &Prop{P: id}}}
	codec := NewTokenCodec([]byte("0123456789abcdef0123456789abcdef"))
	req, err := odata.ParseRequest("/customers", "$select=customer_id,name&$orderby=created_at%20desc&$count=true&$top=301")
	if err != nil {
		b.Fatal(err)
	}
	fp := Fingerprint("customers", req)
	ks := Keyset{Returned: 2000, Values: []Const{
		{T: metadata.DateTimeOffset, V: time.Date(2024, 1, 15, 10, 30, 0, 123456000, time.UTC)},
		{T: metadata.String, V: "C0012345"},
	}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok := codec.Encode(fp, ks)
		if _, err := codec.Decode(fp, tok, order); err != nil {
			b.Fatal(err)
		}
	}
}
