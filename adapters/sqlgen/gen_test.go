package sqlgen_test

import (
	"math"
	"math/rand/v2"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// gen produces random but seeded bound filters over the fixture, shaped the
// way the binder shapes them (operands of one type, no null constants in
// comparisons, null folded into In.HasNull).
type gen struct {
	r *rand.Rand
	f *fixture
}

func newGen(f *fixture, seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), f: f}
}

var (
	cmpTypes = []metadata.Type{metadata.Int16, metadata.Int32, metadata.Int64, metadata.Decimal, metadata.Double,
		metadata.String, metadata.Boolean, metadata.Date, metadata.DateTimeOffset, metadata.TimeOfDay,
		metadata.Guid, metadata.Binary}
	propsOf = map[metadata.Type][]string{
		metadata.Int16: {"I16"}, metadata.Int32: {"I32", "Qty"}, metadata.Int64: {"I64", "ID"},
		metadata.Decimal: {"Dec"}, metadata.Double: {"Dbl"}, metadata.String: {"Str", "Chr", "Name"},
		metadata.Boolean: {"Flag"}, metadata.Date: {"Day"}, metadata.DateTimeOffset: {"TS"},
		metadata.TimeOfDay: {"Tod"}, metadata.Guid: {"Uid"}, metadata.Binary: {"Bin"},
	}
	int32Pool  = []int64{0, 1, -1, 2, 3, 5, 7, 10, 12, 29, 31, 42, 59, 2000, 2024, -7, math.MinInt32, math.MaxInt32}
	decPool    = []string{"0", "1", "-1", "2.5", "3", "-2", "0.5", "0.000001", "0.123456", "0.999999", "12345678901", "-0.5", "99999999999.9999"}
	dblPool    = []float64{0, 1, -1, 0.5, 2.5, 3, -3, 1e300, 0.1, 0.30000000000000004, 3.141592653589793, 1e-300}
	patternsIn = []string{"", "a", "b", "A", "%", "_", `\`, "'", "ab", "bc", "é", "日", "😀", "O'", "1=1", "Ab", " ", "c", "%b", "a_", "x')"}
)

func (g *gen) pick(n int) int { return g.r.IntN(n) }

func (g *gen) prop(t metadata.Type) semantic.Expr {
	names := propsOf[t]
	return &semantic.Prop{P: g.f.props[names[g.pick(len(names))]]}
}

// sample returns a non-null value of the column, or false.
func (g *gen) sample(name string) (semantic.Const, bool) {
	p := g.f.props[name]
	for range 8 {
		v := g.f.rows[g.pick(len(g.f.rows))][p]
		if !v.Null {
			if p.FixedChar {
				v.V = trimSpaces(v.V.(string))
			}
			return v, true
		}
	}
	return semantic.Const{}, false
}

func trimSpaces(s string) string {
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

func (g *gen) konst(t metadata.Type) *semantic.Const {
	if g.pick(10) < 6 {
		names := propsOf[t]
		if v, ok := g.sample(names[g.pick(len(names))]); ok {
			return &v
		}
	}
	switch t {
	case metadata.Int16:
		return &semantic.Const{T: t, V: []int64{0, 1, -1, 7, -32768, 32767, 100}[g.pick(7)]}
	case metadata.Int32:
		return &semantic.Const{T: t, V: int32Pool[g.pick(len(int32Pool))]}
	case metadata.Int64:
		return &semantic.Const{T: t, V: []int64{0, 5, -3, math.MinInt64, math.MaxInt64, 1 << 40, 24}[g.pick(7)]}
	case metadata.Decimal:
		return &semantic.Const{T: t, V: decPool[g.pick(len(decPool))]}
	case metadata.Double:
		return &semantic.Const{T: t, V: dblPool[g.pick(len(dblPool))]}
	case metadata.String:
		return &semantic.Const{T: t, V: patternsIn[g.pick(len(patternsIn))]}
	case metadata.Boolean:
		return &semantic.Const{T: t, V: g.pick(2) == 0}
	case metadata.Date:
		return &semantic.Const{T: t, V: day([]string{"2024-02-29", "2024-03-01", "1999-12-31", "0001-01-01", "9999-12-31"}[g.pick(5)])}
	case metadata.DateTimeOffset:
		return &semantic.Const{T: t, V: ts([]string{"2024-02-29T23:59:59.999998Z", "2024-03-31T01:30:00Z", "2000-01-01T00:00:00Z", "2050-06-15T08:00:00.5Z"}[g.pick(4)])}
	case metadata.TimeOfDay:
		return &semantic.Const{T: t, V: tod([]string{"00:00:00", "12:00:00", "23:59:59.999999", "01:02:03.000003"}[g.pick(4)])}
	case metadata.Guid:
		return &semantic.Const{T: t, V: "80000000-0000-0000-0000-000000000000"}
	case metadata.Binary:
		return &semantic.Const{T: t, V: []byte{0x00, 0x27}}
	}
	panic("konst " + string(t))
}

func call(fn semantic.Func, t metadata.Type, args ...semantic.Expr) *semantic.Call {
	return &semantic.Call{Fn: fn, Args: args, T: t}
}

func (g *gen) small() semantic.Expr {
	return &semantic.Const{T: metadata.Int32, V: int64(g.pick(11) - 5)}
}

// value returns an expression of type t.
func (g *gen) value(t metadata.Type, depth int) semantic.Expr {
	if depth <= 0 || g.pick(10) < 5 {
		if g.pick(4) == 0 {
			return g.konst(t)
		}
		return g.prop(t)
	}
	p := func(n string) semantic.Expr { return &semantic.Prop{P: g.f.props[n]} }
	str := func() semantic.Expr { return g.value(metadata.String, depth-1) }
	switch t {
	case metadata.Int32:
		switch g.pick(8) {
		case 0:
			return call(semantic.FnLength, t, str())
		case 1:
			return call(semantic.FnIndexOf, t, str(), g.konst(metadata.String))
		case 2:
			fn := []semantic.Func{semantic.FnYear, semantic.FnMonth, semantic.FnDay}[g.pick(3)]
			if g.pick(2) == 0 {
				return call(fn, t, p("Day"))
			}
			return call(fn, t, p("TS"))
		case 3:
			fn := []semantic.Func{semantic.FnHour, semantic.FnMinute, semantic.FnSecond}[g.pick(3)]
			if g.pick(2) == 0 {
				return call(fn, t, p("Tod"))
			}
			return call(fn, t, p("TS"))
		case 4:
			return call(semantic.FnTotalOffsetMinutes, t, p("TS"))
		case 5:
			return &semantic.Neg{X: p("Qty")}
		default:
			op := []semantic.ArithOp{semantic.Add, semantic.Sub, semantic.Mul, semantic.Div, semantic.Mod}[g.pick(5)]
			l, r := p("Qty"), g.small()
			if g.pick(2) == 0 {
				r = p("Qty")
			}
			if g.pick(4) == 0 {
				l, r = r, l
			}
			return &semantic.Arith{Op: op, L: l, R: r, T: t}
		}
	case metadata.String:
		switch g.pick(6) {
		case 0:
			return call(semantic.FnToLower, t, str())
		case 1:
			return call(semantic.FnToUpper, t, str())
		case 2:
			return call(semantic.FnTrim, t, str())
		case 3:
			return call(semantic.FnConcat, t, str(), g.konst(t))
		case 4:
			return call(semantic.FnSubstring, t, str(), &semantic.Const{T: metadata.Int32, V: int64(g.pick(7) - 1)})
		default:
			return call(semantic.FnSubstring, t, str(), &semantic.Const{T: metadata.Int32, V: int64(g.pick(7) - 1)},
				&semantic.Const{T: metadata.Int32, V: int64(g.pick(6) - 1)})
		}
	case metadata.Decimal:
		switch g.pick(4) {
		case 0:
			fn := []semantic.Func{semantic.FnRound, semantic.FnFloor, semantic.FnCeiling}[g.pick(3)]
			return call(fn, t, p("Dec"))
		case 1:
			if g.pick(2) == 0 {
				return call(semantic.FnFractionalSeconds, t, p("Tod"))
			}
			return call(semantic.FnFractionalSeconds, t, p("TS"))
		default:
			op := []semantic.ArithOp{semantic.Add, semantic.Sub, semantic.Mul}[g.pick(3)]
			k := &semantic.Const{T: t, V: []string{"0.5", "-2", "1.25", "0"}[g.pick(4)]}
			return &semantic.Arith{Op: op, L: p("Dec"), R: k, T: t}
		}
	case metadata.Double:
		switch g.pick(3) {
		case 0:
			fn := []semantic.Func{semantic.FnRound, semantic.FnFloor, semantic.FnCeiling}[g.pick(3)]
			return call(fn, t, p("Dbl"))
		case 1:
			return &semantic.Arith{Op: semantic.DivBy, L: p("Qty"), R: g.value(metadata.Int32, 0), T: t}
		default:
			op := []semantic.ArithOp{semantic.Add, semantic.Sub, semantic.Mul, semantic.DivBy}[g.pick(4)]
			k := &semantic.Const{T: t, V: []float64{0.5, -2, 3, 0, 0.1}[g.pick(5)]}
			return &semantic.Arith{Op: op, L: p("Dbl"), R: k, T: t}
		}
	case metadata.Date:
		return call(semantic.FnDate, t, p("TS"))
	case metadata.TimeOfDay:
		return call(semantic.FnTime, t, p("TS"))
	case metadata.Boolean:
		if g.pick(3) == 0 {
			return g.leaf(depth - 1)
		}
	}
	return g.prop(t)
}

// filter returns a boolean expression.
func (g *gen) filter(depth int) semantic.Expr {
	if depth <= 0 {
		return g.leaf(1)
	}
	switch g.pick(10) {
	case 0, 1:
		return &semantic.Logical{L: g.filter(depth - 1), R: g.filter(depth - 1)}
	case 2, 3:
		return &semantic.Logical{Or: true, L: g.filter(depth - 1), R: g.filter(depth - 1)}
	case 4, 5:
		return &semantic.Not{X: g.filter(depth - 1)}
	}
	return g.leaf(2)
}

func (g *gen) leaf(depth int) semantic.Expr {
	switch g.pick(12) {
	case 0, 1, 2, 3, 4:
		t := cmpTypes[g.pick(len(cmpTypes))]
		op := semantic.CmpOp(g.pick(6))
		l := g.value(t, depth)
		var r semantic.Expr = g.konst(t)
		if g.pick(4) == 0 {
			r = g.value(t, depth)
		}
		if g.pick(3) == 0 {
			l, r = r, l
		}
		return &semantic.Compare{Op: op, L: l, R: r}
	case 5:
		t := cmpTypes[g.pick(len(cmpTypes))]
		return &semantic.IsNull{X: g.value(t, depth-1), Not: g.pick(2) == 0}
	case 6, 7:
		t := cmpTypes[g.pick(len(cmpTypes))]
		in := &semantic.In{X: g.value(t, depth-1), HasNull: g.pick(3) == 0}
		for n := g.pick(4); n >= 0; n-- {
			in.Values = append(in.Values, *g.konst(t))
		}
		if g.pick(8) == 0 {
			in.Values = nil
		}
		return in
	case 8, 9, 10:
		fn := []semantic.Func{semantic.FnContains, semantic.FnStartsWith, semantic.FnEndsWith}[g.pick(3)]
		var pat semantic.Expr = g.konst(metadata.String)
		if g.pick(5) == 0 {
			pat = g.value(metadata.String, 0)
		}
		return call(fn, metadata.Boolean, g.value(metadata.String, depth-1), pat)
	}
	return g.prop(metadata.Boolean)
}
