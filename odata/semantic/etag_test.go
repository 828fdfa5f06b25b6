package semantic

import (
	"reflect"
	"testing"

	"github.com/odatagw/odatagw/metadata"
)

func TestForETag(t *testing.T) {
	prop := func(n string) *metadata.Property { return &metadata.Property{Name: n, Column: n, Type: metadata.Int64} }
	id, a, b, ver := prop("id"), prop("a"), prop("b"), prop("ver")
	plain := &metadata.EntitySet{Name: "plain", Properties: []*metadata.Property{id, a, b, ver}, Key: []*metadata.Property{id}}
	rowVer := &metadata.EntitySet{Name: "rowver", Properties: plain.Properties, Key: plain.Key, ETag: ver}
	hash := &metadata.EntitySet{Name: "hash", Properties: plain.Properties, Key: plain.Key, ETagHash: true}
	cases := []struct {
		name   string
		q      *Query
		read   []*metadata.Property // nil: q itself
		output []int
	}{
		{"no ETag", &Query{Set: plain, Select: []*metadata.Property{a}}, nil, nil},
		{"row version selected", &Query{Set: rowVer, Select: []*metadata.Property{ver, a}}, nil, nil},
		{"row version added", &Query{Set: rowVer, Select: []*metadata.Property{b, a}}, []*metadata.Property{b, a, ver}, []int{0, 1}},
		{"hash needs every property", &Query{Set: hash, Select: []*metadata.Property{b}}, plain.Properties, []int{2}},
		{"hash with everything selected", &Query{Set: hash, Select: plain.Properties}, nil, nil},
		{"aggregation has no ETag", &Query{Set: rowVer, Select: []*metadata.Property{a}, Apply: &Apply{}}, nil, nil},
	}
	for _, tc := range cases {
		before := append([]*metadata.Property(nil), tc.q.Select...)
		got, idx := tc.q.ForETag()
		if !reflect.DeepEqual(tc.q.Select, before) {
			t.Errorf("%s: ForETag changed the query's Select", tc.name)
		}
		if tc.read == nil {
			if got != tc.q || idx != nil {
				t.Errorf("%s: widened to %v %v, want the query itself", tc.name, got.Select, idx)
			}
			continue
		}
		if got == tc.q || !reflect.DeepEqual(got.Select, tc.read) || !reflect.DeepEqual(idx, tc.output) {
			t.Errorf("%s: read %v positions %v, want %v %v", tc.name, names(got.Select), idx, names(tc.read), tc.output)
		}
	}
}

func names(ps []*metadata.Property) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}
