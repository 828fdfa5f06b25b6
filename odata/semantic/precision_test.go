package semantic

import (
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// TestArithResultType checks the type of arithmetic expressions on their
// own (a comparison would hide a typed null).
func TestArithResultType(t *testing.T) {
	tests := []struct {
		expr string
		want metadata.Type
	}{
		{"I32 add I32", metadata.Int64},
		{"B mul B", metadata.Int64},
		{"I16 sub 1", metadata.Int64},
		{"I32 div 2", metadata.Int64},
		{"I32 mod I16", metadata.Int64},
		{"I32 divby 2", metadata.Decimal},
		{"I32 add null", metadata.Int64},
		{"null mul B", metadata.Int64},
		{"I32 divby null", metadata.Decimal},
		{"I32 div 2.0", metadata.Decimal},
		{"I32 div 2e0", metadata.Double},
		{"I32 add INF", metadata.Double},
		{"2.0 mul I64", metadata.Decimal},
		{"I32 div -2.5", metadata.Decimal},
		{"Price add 1", metadata.Decimal},
		{"Price add 1e0", metadata.Decimal},
		{"Score div 2", metadata.Double},
		{"Price add null", metadata.Decimal},
		{"2 add 3", metadata.Int64},
		{"2 add 3.0", metadata.Decimal},
	}
	set := testModel().Set("Things")
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			ast, err := odata.ParseFilter(tt.expr)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			b := &binder{set: set, option: "$filter", lim: DefaultLimits}
			o, err := b.operand(ast, 1)
			if err != nil {
				t.Fatalf("bind: %v", err)
			}
			if got := o.e.Type(); got != tt.want {
				t.Errorf("%s: type %s, want %s (%s)", tt.expr, got, tt.want, Format(o.e))
			}
		})
	}
}

// TestNowTruncated checks that now() is folded at the microsecond storage
// precision, so that comparing with it needs no sub-microsecond rewrite.
func TestNowTruncated(t *testing.T) {
	old := Now
	Now = func() time.Time { return time.Date(2024, 6, 1, 12, 0, 0, 123456789, time.UTC) }
	t.Cleanup(func() { Now = old })
	for _, tt := range []struct{ filter, want string }{
		{"Created ge now()", "(Created ge 2024-06-01T12:00:00.123456Z:DateTimeOffset)"},
		{"Created eq now()", "(Created eq 2024-06-01T12:00:00.123456Z:DateTimeOffset)"},
	} {
		e, err := bindFilter(t, "Things", tt.filter)
		if err != nil {
			t.Fatalf("%s: %v", tt.filter, err)
		}
		if got := Format(e); got != tt.want {
			t.Errorf("%s\n got  %s\n want %s", tt.filter, got, tt.want)
		}
	}
}

// TestSubMicrosecondExact checks the sub-microsecond rewrite against the
// meaning it preserves: for every stored (microsecond) value near the
// constant, the rewritten comparison gives the exact answer.
func TestSubMicrosecondExact(t *testing.T) {
	base := time.Date(2024, 1, 16, 1, 30, 0, 0, time.UTC)
	consts := []time.Time{base.Add(100), base.Add(999), base.Add(-1), base.Add(time.Microsecond + 500)}
	ops := []CmpOp{Eq, Ne, Gt, Ge, Lt, Le}
	x := &Prop{P: &metadata.Property{Name: "X", Type: metadata.DateTimeOffset}}
	exact := func(op CmpOp, a, b time.Time) bool {
		c := a.Compare(b)
		return [...]bool{Eq: c == 0, Ne: c != 0, Gt: c > 0, Ge: c >= 0, Lt: c < 0, Le: c <= 0}[op]
	}
	for _, k := range consts {
		for _, op := range ops {
			for _, left := range []bool{false, true} {
				kc := &Const{T: metadata.DateTimeOffset, V: k}
				l, r := Expr(x), Expr(kc)
				if left {
					l, r = kc, x
				}
				e := subMicrosecondCompare(op, l, r)
				if e == nil {
					t.Fatalf("%v %s (left=%v): rule did not apply", k, op, left)
				}
				for d := -3; d <= 3; d++ {
					stored := base.Add(time.Duration(d) * time.Microsecond)
					want := exact(op, stored, k)
					if left {
						want = exact(op, k, stored)
					}
					if got := evalAt(t, e, stored); got != want {
						t.Errorf("%s: X=%v got %v, want %v", Format(e), stored.Format(time.RFC3339Nano), got, want)
					}
				}
			}
		}
	}
	// Microsecond constants and constant-constant comparisons are left alone.
	k := &Const{T: metadata.DateTimeOffset, V: base.Add(time.Microsecond)}
	if e := subMicrosecondCompare(Ge, x, k); e != nil {
		t.Errorf("microsecond constant rewritten: %s", Format(e))
	}
	fine := &Const{T: metadata.DateTimeOffset, V: base.Add(1)}
	if e := subMicrosecondCompare(Ge, k, fine); e != nil {
		t.Errorf("constant comparison rewritten: %s", Format(e))
	}
}

// evalAt evaluates the result of subMicrosecondCompare with the non-constant
// operand bound to x.
func evalAt(t *testing.T, e Expr, x time.Time) bool {
	t.Helper()
	switch n := e.(type) {
	case *Const:
		return n.V.(bool)
	case *Compare:
		val := func(e Expr) time.Time {
			if c, ok := e.(*Const); ok {
				return c.V.(time.Time)
			}
			return x
		}
		c := val(n.L).Compare(val(n.R))
		return [...]bool{Eq: c == 0, Ne: c != 0, Gt: c > 0, Ge: c >= 0, Lt: c < 0, Le: c <= 0}[n.Op]
	}
	t.Fatalf("unexpected %s", Format(e))
	return false
}
