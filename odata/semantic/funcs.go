package semantic

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// anyNumeric marks a round/floor/ceiling overload whose argument may be of
// any numeric type; the result has the argument's type.
const anyNumeric metadata.Type = "<numeric>"

// overload is one signature of a canonical function. A parameter of type
// Int32 also accepts any integer-typed expression.
type overload struct {
	params []metadata.Type
	result metadata.Type // anyNumeric: the type of the first argument
}

type function struct {
	fn        Func
	overloads []overload
	sig       string // for messages, e.g. "substring(Edm.String, Edm.Int32[, Edm.Int32])"
}

func sig(result metadata.Type, params ...metadata.Type) overload {
	return overload{params: params, result: result}
}

const (
	tBool   = metadata.Boolean
	tInt32  = metadata.Int32
	tString = metadata.String
	tDate   = metadata.Date
	tDTO    = metadata.DateTimeOffset
	tTime   = metadata.TimeOfDay
	tDec    = metadata.Decimal
)

// functions lists the canonical functions the binder accepts, by
// lower-case name.
var functions = map[string]function{
	"contains":           {FnContains, []overload{sig(tBool, tString, tString)}, "contains(Edm.String, Edm.String)"},
	"startswith":         {FnStartsWith, []overload{sig(tBool, tString, tString)}, "startswith(Edm.String, Edm.String)"},
	"endswith":           {FnEndsWith, []overload{sig(tBool, tString, tString)}, "endswith(Edm.String, Edm.String)"},
	"length":             {FnLength, []overload{sig(tInt32, tString)}, "length(Edm.String)"},
	"indexof":            {FnIndexOf, []overload{sig(tInt32, tString, tString)}, "indexof(Edm.String, Edm.String)"},
	"substring":          {FnSubstring, []overload{sig(tString, tString, tInt32), sig(tString, tString, tInt32, tInt32)}, "substring(Edm.String, Edm.Int32[, Edm.Int32])"},
	"tolower":            {FnToLower, []overload{sig(tString, tString)}, "tolower(Edm.String)"},
	"toupper":            {FnToUpper, []overload{sig(tString, tString)}, "toupper(Edm.String)"},
	"trim":               {FnTrim, []overload{sig(tString, tString)}, "trim(Edm.String)"},
	"concat":             {FnConcat, []overload{sig(tString, tString, tString)}, "concat(Edm.String, Edm.String)"},
	"matchespattern":     {FnMatchesPattern, []overload{sig(tBool, tString, tString)}, "matchesPattern(Edm.String, Edm.String)"},
	"year":               {FnYear, []overload{sig(tInt32, tDate), sig(tInt32, tDTO)}, "year(Edm.Date or Edm.DateTimeOffset)"},
	"month":              {FnMonth, []overload{sig(tInt32, tDate), sig(tInt32, tDTO)}, "month(Edm.Date or Edm.DateTimeOffset)"},
	"day":                {FnDay, []overload{sig(tInt32, tDate), sig(tInt32, tDTO)}, "day(Edm.Date or Edm.DateTimeOffset)"},
	"hour":               {FnHour, []overload{sig(tInt32, tDTO), sig(tInt32, tTime)}, "hour(Edm.DateTimeOffset or Edm.TimeOfDay)"},
	"minute":             {FnMinute, []overload{sig(tInt32, tDTO), sig(tInt32, tTime)}, "minute(Edm.DateTimeOffset or Edm.TimeOfDay)"},
	"second":             {FnSecond, []overload{sig(tInt32, tDTO), sig(tInt32, tTime)}, "second(Edm.DateTimeOffset or Edm.TimeOfDay)"},
	"fractionalseconds":  {FnFractionalSeconds, []overload{sig(tDec, tDTO), sig(tDec, tTime)}, "fractionalseconds(Edm.DateTimeOffset or Edm.TimeOfDay)"},
	"date":               {FnDate, []overload{sig(tDate, tDTO)}, "date(Edm.DateTimeOffset)"},
	"time":               {FnTime, []overload{sig(tTime, tDTO)}, "time(Edm.DateTimeOffset)"},
	"totaloffsetminutes": {FnTotalOffsetMinutes, []overload{sig(tInt32, tDTO)}, "totaloffsetminutes(Edm.DateTimeOffset)"},
	"now":                {FnNow, []overload{sig(tDTO)}, "now()"},
	"maxdatetime":        {FnMaxDateTime, []overload{sig(tDTO)}, "maxdatetime()"},
	"mindatetime":        {FnMinDateTime, []overload{sig(tDTO)}, "mindatetime()"},
	"round":              {FnRound, roundingOverloads, "round(Edm.Decimal, Edm.Double, Edm.Single or an integer type)"},
	"floor":              {FnFloor, roundingOverloads, "floor(Edm.Decimal, Edm.Double, Edm.Single or an integer type)"},
	"ceiling":            {FnCeiling, roundingOverloads, "ceiling(Edm.Decimal, Edm.Double, Edm.Single or an integer type)"},
}

// FilterFunctions lists, sorted, the canonical functions and the lambda
// operators $filter accepts, as $metadata advertises them
// (Capabilities.FilterFunctions).
func FilterFunctions() []string {
	out := []string{"any", "all", "cast", "isof"}
	for name := range functions {
		if name == "matchespattern" {
			name = "matchesPattern"
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

var roundingOverloads = []overload{{params: []metadata.Type{anyNumeric}, result: anyNumeric}}

// unsupportedFunctions are valid OData functions the gateway does not
// implement (501), with the reason.
var unsupportedFunctions = map[string]string{
	"totalseconds":   "Edm.Duration functions are not supported",
	"hassubset":      "the model has no collection properties",
	"hassubsequence": "the model has no collection properties",
	"case":           "conditional expressions are not supported",
	"geo.distance":   "the model has no geography properties",
	"geo.intersects": "the model has no geography properties",
	"geo.length":     "the model has no geography properties",
	"substringof":    "it is OData 2.0; use contains(property, 'text')",
}

// maxDateTime and minDateTime are the values of maxdatetime() and
// mindatetime(): the range of the storage backends at microsecond precision.
var (
	maxDateTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	minDateTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (b *binder) call(n *odata.Call, depth int) (operand, error) {
	name := strings.ToLower(n.Name)
	if name == "cast" || name == "isof" {
		return b.castOrIsof(n, name, depth)
	}
	f, ok := functions[name]
	if !ok {
		if why, ok := unsupportedFunctions[name]; ok || strings.HasPrefix(name, "geo.") {
			msg := "function " + name + " is not supported"
			if why != "" {
				msg += ": " + why
			}
			return operand{}, b.errorf(NotImplemented, n.Span, "%s", msg)
		}
		e := b.badf(n.Span, "unknown function %s", n.Name)
		e.Target = n.Name
		return operand{}, e
	}
	args := make([]operand, len(n.Args))
	for i, a := range n.Args {
		o, err := b.operand(a, depth+1)
		if err != nil {
			return operand{}, err
		}
		args[i] = o
	}
	switch f.fn {
	case FnNow:
		if len(args) == 0 {
			// At the storage precision, like maxdatetime().
			return operand{e: &Const{T: tDTO, V: Now().UTC().Truncate(time.Microsecond)}, span: n.Span}, nil
		}
	case FnMaxDateTime:
		if len(args) == 0 {
			return operand{e: &Const{T: tDTO, V: maxDateTime}, span: n.Span}, nil
		}
	case FnMinDateTime:
		if len(args) == 0 {
			return operand{e: &Const{T: tDTO, V: minDateTime}, span: n.Span}, nil
		}
	}
	arityOK := false
	for _, ov := range f.overloads {
		if len(ov.params) == len(args) {
			arityOK = true
		}
	}
	if !arityOK {
		return operand{}, b.badf(n.Span, "function %s takes %s, got %d argument%s", name, arity(f), len(args), plural(len(args)))
	}
	// First pass: exact types; second pass: literals converted.
	for pass := 0; pass < 2; pass++ {
		for _, ov := range f.overloads {
			if len(ov.params) != len(args) {
				continue
			}
			bound, ok := matchOverload(ov, args, pass == 1)
			if !ok {
				continue
			}
			t := ov.result
			if t == anyNumeric {
				t = bound[0].Type()
			}
			if f.fn == FnMatchesPattern {
				if c, ok := bound[1].(*Const); ok && !c.Null {
					if _, err := regexp.Compile(c.V.(string)); err != nil {
						return operand{}, b.badf(args[1].span, "matchesPattern: %q is not a valid regular expression: %v", c.V, err)
					}
				}
			}
			return operand{e: &Call{Fn: f.fn, Args: bound, T: t}, span: n.Span}, nil
		}
	}
	got := make([]string, len(args))
	for i, a := range args {
		got[i] = a.typeName()
	}
	return operand{}, b.badf(n.Span, "function %s expects %s, got (%s)", name, f.sig, strings.Join(got, ", "))
}

func matchOverload(ov overload, args []operand, convert bool) ([]Expr, bool) {
	out := make([]Expr, len(args))
	for i, p := range ov.params {
		a := args[i]
		if a.isNull() {
			t := p
			if t == anyNumeric {
				t = metadata.Decimal
			}
			out[i] = &Const{T: t, Null: true}
			continue
		}
		at := a.e.Type()
		switch {
		case at == p:
			out[i] = a.e
		case p == anyNumeric && at.IsNumeric():
			out[i] = a.e
		case p == metadata.Int32 && at.IsIntegral() && a.lit == nil:
			out[i] = a.e
		case convert && p != anyNumeric && a.flexible():
			e, err := convertTo(a, p)
			if err != nil || e.Type() != p {
				return nil, false
			}
			out[i] = e
		default:
			return nil, false
		}
	}
	return out, true
}

func arity(f function) string {
	lo, hi := -1, -1
	for _, ov := range f.overloads {
		n := len(ov.params)
		if lo < 0 || n < lo {
			lo = n
		}
		if n > hi {
			hi = n
		}
	}
	switch {
	case lo == hi && lo == 0:
		return "no arguments"
	case lo == hi:
		return pluralArgs(lo)
	}
	return strings.TrimSuffix(pluralArgs(lo), " arguments") + " or " + pluralArgs(hi)
}

func pluralArgs(n int) string {
	return strconv.Itoa(n) + " argument" + plural(n)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
