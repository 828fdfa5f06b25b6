package semantic

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// Format prints a bound expression in a compact, fully parenthesised debug
// form that shows every constant's type, e.g.
//
//	(Name eq 'x':String)
//	((Price add 5:Decimal):Decimal gt 10:Decimal)
//	contains(Name,'a':String):Boolean
//
// It is meant for tests and logs; it is not OData syntax.
func Format(e Expr) string {
	var sb strings.Builder
	format(&sb, e)
	return sb.String()
}

func format(sb *strings.Builder, e Expr) {
	switch n := e.(type) {
	case nil:
		sb.WriteString("<nil>")
	case *Prop:
		sb.WriteString(n.P.Name)
	case *Const:
		sb.WriteString(FormatConst(*n))
	case *Compare:
		sb.WriteByte('(')
		format(sb, n.L)
		sb.WriteString(" " + n.Op.String() + " ")
		format(sb, n.R)
		sb.WriteByte(')')
	case *IsNull:
		sb.WriteByte('(')
		format(sb, n.X)
		if n.Not {
			sb.WriteString(" ne null)")
		} else {
			sb.WriteString(" eq null)")
		}
	case *Logical:
		sb.WriteByte('(')
		format(sb, n.L)
		if n.Or {
			sb.WriteString(" or ")
		} else {
			sb.WriteString(" and ")
		}
		format(sb, n.R)
		sb.WriteByte(')')
	case *Not:
		sb.WriteString("(not ")
		format(sb, n.X)
		sb.WriteByte(')')
	case *Arith:
		sb.WriteByte('(')
		format(sb, n.L)
		sb.WriteString(" " + n.Op.String() + " ")
		format(sb, n.R)
		sb.WriteString("):" + string(n.T))
	case *Neg:
		sb.WriteString("(-")
		format(sb, n.X)
		sb.WriteByte(')')
	case *In:
		sb.WriteByte('(')
		format(sb, n.X)
		sb.WriteString(" in (")
		for i, v := range n.Values {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(FormatConst(v))
		}
		if n.HasNull {
			if len(n.Values) > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("null")
		}
		sb.WriteString("))")
	case *Call:
		sb.WriteString(string(n.Fn) + "(")
		for i, a := range n.Args {
			if i > 0 {
				sb.WriteByte(',')
			}
			format(sb, a)
		}
		sb.WriteString("):" + string(n.T))
	case *Outer:
		fmt.Fprintf(sb, "^%d.%s", n.Up, n.P.Name)
	case *Exists:
		op := "any"
		if n.All {
			op = "all"
		}
		if n.Up > 0 {
			fmt.Fprintf(sb, "^%d.", n.Up)
		}
		sb.WriteString(n.Nav.Name + "/" + op + "(")
		if n.Restrict != nil {
			sb.WriteString("[")
			format(sb, n.Restrict)
			sb.WriteString("] ")
		}
		if n.Cond != nil {
			format(sb, n.Cond)
		}
		sb.WriteByte(')')
	case *ToOne:
		if n.Up > 0 {
			fmt.Fprintf(sb, "^%d.", n.Up)
		}
		sb.WriteString(n.Nav.Name)
		if n.Restrict != nil {
			sb.WriteString("[")
			format(sb, n.Restrict)
			sb.WriteString("]")
		}
		sb.WriteByte('/')
		format(sb, n.X)
	default:
		fmt.Fprintf(sb, "<%T>", e)
	}
}

// FormatConst prints a constant as value:Type, e.g. 'x':String,
// 10248:Int64, 2024-01-15:Date, null:String.
func FormatConst(c Const) string {
	t := string(c.T)
	if t == "" {
		t = "?"
	}
	if c.Null {
		return "null:" + t
	}
	var v string
	switch x := c.V.(type) {
	case string:
		if c.T == metadata.String {
			v = quoteText(x)
		} else {
			v = x
		}
	default:
		v = constText(&c)
	}
	return v + ":" + t
}

// FormatSearch prints a bound $search tree, e.g. ("a" AND (NOT "b")).
func FormatSearch(s Search) string {
	switch n := s.(type) {
	case nil:
		return "<nil>"
	case *SearchTerm:
		return strconv.Quote(n.Text)
	case *SearchAnd:
		return "(" + FormatSearch(n.L) + " AND " + FormatSearch(n.R) + ")"
	case *SearchOr:
		return "(" + FormatSearch(n.L) + " OR " + FormatSearch(n.R) + ")"
	case *SearchNot:
		return "(NOT " + FormatSearch(n.X) + ")"
	}
	return fmt.Sprintf("<%T>", s)
}

// formatFloat prints a float in a form parseNumber reads back exactly.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// formatTimeOfDay prints hh:mm:ss[.fffffffff].
func formatTimeOfDay(d time.Duration) string {
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	ns := d - s*time.Second
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if ns > 0 {
		out += "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	}
	return out
}

// formatDuration prints an ISO 8601 duration as OData writes it
// ([-]PnDTnHnMn.fS), e.g. P1DT2H3M4.5S; zero is PT0S.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var sb strings.Builder
	u := uint64(d)
	if d < 0 {
		sb.WriteByte('-')
		u = uint64(-(d + 1)) + 1 // also correct for math.MinInt64
	}
	sb.WriteByte('P')
	const (
		day  = uint64(24 * time.Hour)
		hour = uint64(time.Hour)
		min  = uint64(time.Minute)
		sec  = uint64(time.Second)
	)
	if u >= day {
		fmt.Fprintf(&sb, "%dD", u/day)
		u %= day
	}
	if u > 0 {
		sb.WriteByte('T')
		if u >= hour {
			fmt.Fprintf(&sb, "%dH", u/hour)
			u %= hour
		}
		if u >= min {
			fmt.Fprintf(&sb, "%dM", u/min)
			u %= min
		}
		if u > 0 {
			fmt.Fprintf(&sb, "%d", u/sec)
			if ns := u % sec; ns > 0 {
				sb.WriteString("." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0"))
			}
			sb.WriteByte('S')
		}
	}
	return sb.String()
}

// Literal returns c as an OData literal node; its String() is the one
// canonical URL literal of a typed value (key predicates in Location and
// entity URLs, "did you mean" messages), and it parses back to c.
func (c Const) Literal() *odata.Literal {
	if c.Null {
		return &odata.Literal{Kind: odata.NullLit}
	}
	l := &odata.Literal{Value: constText(&c)}
	switch c.T {
	case metadata.Boolean:
		l.Kind = odata.BoolLit
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		l.Kind = odata.IntLit
	case metadata.Decimal:
		l.Kind = odata.DecimalLit
	case metadata.Single, metadata.Double:
		l.Kind = odata.DoubleLit
	case metadata.String:
		l.Kind = odata.StringLit
	case metadata.Date:
		l.Kind = odata.DateLit
	case metadata.DateTimeOffset:
		l.Kind = odata.DateTimeOffsetLit
	case metadata.TimeOfDay:
		l.Kind = odata.TimeOfDayLit
	case metadata.Duration:
		l.Kind = odata.DurationLit
	case metadata.Guid:
		l.Kind = odata.GuidLit
	case metadata.Binary:
		l.Kind = odata.BinaryLit
		l.Value = string(c.V.([]byte))
	}
	return l
}

// KeyParts returns the key predicate of key (values in set.Key order) for
// odata.FormatKey: a bare value for a single-property key, name=value pairs
// for a composite one.
func KeyParts(set *metadata.EntitySet, key []Const) []odata.KeyPart {
	parts := make([]odata.KeyPart, len(key))
	for i, c := range key {
		parts[i].Value = c.Literal()
		if len(set.Key) > 1 {
			parts[i].Name = set.Key[i].Name
		}
	}
	return parts
}
