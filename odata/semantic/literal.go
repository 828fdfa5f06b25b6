package semantic

import (
	"encoding/base64"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/edm"
)

// This file turns literal text (and values read from storage, ConstOf) into
// typed constants. Every function here is pure; errors are plain errors
// whose text is safe to show to a client, and the callers wrap them into
// *Error with option and span.

// errNotRepresentable means a numeric value is valid but does not fit the
// requested type (out of range, or a fraction for an integer type).
var errNotRepresentable = errors.New("value does not fit the type")

// naturalType is the type a literal has on its own, before it meets an
// operand of another type: integers are Int32 when they fit, then Int64,
// then Decimal; "1.5" is Decimal; "1e5", INF and NaN are Double.
func naturalType(l *odata.Literal) metadata.Type {
	switch l.Kind {
	case odata.BoolLit:
		return metadata.Boolean
	case odata.IntLit:
		n, err := strconv.ParseInt(strings.TrimPrefix(l.Raw, "+"), 10, 64)
		switch {
		case err != nil:
			return metadata.Decimal
		case n >= math.MinInt32 && n <= math.MaxInt32:
			return metadata.Int32
		default:
			return metadata.Int64
		}
	case odata.DecimalLit:
		return metadata.Decimal
	case odata.DoubleLit:
		return metadata.Double
	case odata.StringLit:
		return metadata.String
	case odata.DateLit:
		return metadata.Date
	case odata.DateTimeOffsetLit:
		return metadata.DateTimeOffset
	case odata.TimeOfDayLit:
		return metadata.TimeOfDay
	case odata.DurationLit:
		return metadata.Duration
	case odata.GuidLit:
		return metadata.Guid
	case odata.BinaryLit:
		return metadata.Binary
	}
	return ""
}

// literalText is the text of a literal to parse as a value: the unescaped
// text for strings, the decoded bytes for binary, the raw text otherwise
// (without the duration'...' wrapper).
func literalText(l *odata.Literal) string {
	switch l.Kind {
	case odata.StringLit:
		return l.Value
	case odata.DurationLit:
		return unwrapTyped(l.Raw, "duration")
	}
	return l.Raw
}

// unwrapTyped strips a type prefix like duration'...' (case-insensitive).
func unwrapTyped(s, prefix string) string {
	if len(s) > len(prefix)+1 && strings.EqualFold(s[:len(prefix)], prefix) && s[len(prefix)] == '\'' && s[len(s)-1] == '\'' {
		return s[len(prefix)+1 : len(s)-1]
	}
	return s
}

// literalConst converts a literal to a constant of its natural type.
func literalConst(l *odata.Literal) (*Const, error) {
	if l.Kind == odata.NullLit {
		return &Const{Null: true}, nil
	}
	if l.Kind == odata.BinaryLit {
		b, err := decodeBinaryLiteral(l)
		if err != nil {
			return nil, err
		}
		return &Const{T: metadata.Binary, V: b}, nil
	}
	t := naturalType(l)
	if t == "" {
		return nil, errors.New("unsupported literal")
	}
	v, err := parseValue(literalText(l), t)
	if err != nil {
		return nil, err
	}
	return &Const{T: t, V: v}, nil
}

// decodeBinaryLiteral decodes binary'...' from the raw text (base64url,
// standard base64 accepted, padding optional); when Raw has no binary
// wrapper the parser's decoded Value is used.
func decodeBinaryLiteral(l *odata.Literal) ([]byte, error) {
	inner := unwrapTyped(l.Raw, "binary")
	if inner == l.Raw {
		return []byte(l.Value), nil
	}
	return decodeBase64(inner)
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, errors.New("invalid base64 in binary literal")
}

// parseValue parses text as a value of Edm type t, in the V representation
// documented on Const. Numeric text that is valid but does not fit t returns
// errNotRepresentable. Date accepts a date-time (its UTC date);
// DateTimeOffset accepts a date (midnight UTC).
func parseValue(text string, t metadata.Type) (any, error) {
	switch t {
	case metadata.Boolean:
		switch {
		case strings.EqualFold(text, "true"):
			return true, nil
		case strings.EqualFold(text, "false"):
			return false, nil
		}
		return nil, errors.New("invalid boolean")
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64,
		metadata.Decimal, metadata.Single, metadata.Double:
		return parseNumber(text, t)
	case metadata.String:
		return text, nil
	case metadata.Date:
		if d, err := parseDate(text); err == nil {
			return d, nil
		}
		if ts, err := parseDateTimeOffset(text); err == nil {
			return truncateToDate(ts), nil
		}
		return nil, errors.New("invalid date (want YYYY-MM-DD)")
	case metadata.DateTimeOffset:
		if ts, err := parseDateTimeOffset(text); err == nil {
			return ts, nil
		} else if d, derr := parseDate(text); derr == nil {
			return d, nil
		} else {
			return nil, err
		}
	case metadata.TimeOfDay:
		return parseTimeOfDay(text)
	case metadata.Duration:
		return parseDuration(unwrapTyped(text, "duration"))
	case metadata.Guid:
		g, ok := canonicalGuid(text)
		if !ok {
			return nil, errors.New("invalid guid")
		}
		return g, nil
	case metadata.Binary:
		return decodeBase64(unwrapTyped(text, "binary"))
	}
	return nil, errors.New("unsupported type " + t.FullName())
}

func truncateToDate(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// parseNumber converts numeric text (integer, decimal, exponent form, INF,
// -INF, NaN) to type t.
func parseNumber(text string, t metadata.Type) (any, error) {
	special := strings.EqualFold(text, "INF") || strings.EqualFold(text, "-INF") || strings.EqualFold(text, "NaN")
	if !special && !validNumber(text) {
		return nil, errors.New("invalid number")
	}
	switch t {
	case metadata.Single, metadata.Double:
		bits := 64
		if t == metadata.Single {
			bits = 32
		}
		switch {
		case strings.EqualFold(text, "INF"):
			return math.Inf(1), nil
		case strings.EqualFold(text, "-INF"):
			return math.Inf(-1), nil
		case strings.EqualFold(text, "NaN"):
			return math.NaN(), nil
		}
		f, err := strconv.ParseFloat(text, bits)
		if err != nil {
			if t == metadata.Single {
				return nil, errNotRepresentable
			}
			return nil, errors.New("number out of range for Edm.Double")
		}
		return f, nil
	}
	if special {
		return nil, errNotRepresentable
	}
	if t == metadata.Decimal {
		d, ok := decimalText(text)
		if !ok {
			return nil, errNotRepresentable
		}
		return d, nil
	}
	// Integral types: the value must be an exact integer within range.
	if n, err := strconv.ParseInt(strings.TrimPrefix(text, "+"), 10, 64); err == nil {
		if !fitsIntegral(n, t) {
			return nil, errNotRepresentable
		}
		return n, nil
	}
	d, ok := decimalText(text)
	if !ok {
		return nil, errNotRepresentable
	}
	r, ok := new(big.Rat).SetString(d)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return nil, errNotRepresentable
	}
	n := r.Num().Int64()
	if !fitsIntegral(n, t) {
		return nil, errNotRepresentable
	}
	return n, nil
}

func fitsIntegral(n int64, t metadata.Type) bool {
	switch t {
	case metadata.Byte:
		return n >= 0 && n <= math.MaxUint8
	case metadata.SByte:
		return n >= math.MinInt8 && n <= math.MaxInt8
	case metadata.Int16:
		return n >= math.MinInt16 && n <= math.MaxInt16
	case metadata.Int32:
		return n >= math.MinInt32 && n <= math.MaxInt32
	case metadata.Int64:
		return true
	}
	return false
}

// validNumber checks ["+"/"-"] 1*DIGIT [ "." 1*DIGIT ] [ "e" ["+"/"-"] 1*DIGIT ].
func validNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// maxDecimalExponent bounds the exponent of a number converted to exact
// decimal text, so that "1e999999" cannot produce a megabyte of zeros.
const maxDecimalExponent = 1000

// decimalText returns the canonical decimal text of a valid number without
// exponent: no leading '+', no redundant leading zeros, the scale as
// written ("12.50" stays "12.50"; "1.5e1" becomes "15"; "-0.0" becomes "0.0").
func decimalText(s string) (string, bool) {
	if !validNumber(s) {
		return "", false
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxDecimalExponent || e < -maxDecimalExponent {
			return "", false
		}
		exp = e
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	digits := intPart + frac
	point := len(intPart) + exp // position of the decimal point in digits
	if point <= 0 {
		digits = strings.Repeat("0", 1-point) + digits
		point = 1
	} else if point > len(digits) {
		digits += strings.Repeat("0", point-len(digits))
	}
	ip := strings.TrimLeft(digits[:point], "0")
	if ip == "" {
		ip = "0"
	}
	out := ip
	if fp := digits[point:]; fp != "" {
		out += "." + fp
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, true
}

// canonicalGuid validates 8-4-4-4-12 hex digits and lower-cases them.
func canonicalGuid(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

// scanner is a tiny cursor for the temporal grammars.
type scanner struct {
	s string
	i int
}

func (sc *scanner) digits(n int) (int, bool) {
	if sc.i+n > len(sc.s) {
		return 0, false
	}
	v := 0
	for k := 0; k < n; k++ {
		c := sc.s[sc.i+k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	sc.i += n
	return v, true
}

func (sc *scanner) accept(chars string) (byte, bool) {
	if sc.i < len(sc.s) && strings.IndexByte(chars, sc.s[sc.i]) >= 0 {
		sc.i++
		return sc.s[sc.i-1], true
	}
	return 0, false
}

func (sc *scanner) done() bool { return sc.i == len(sc.s) }

// date scans year "-" month "-" day; year = ["-"] ("0" 3DIGIT / oneToNine 3*DIGIT).
func (sc *scanner) date() (time.Time, bool) {
	neg := false
	if _, ok := sc.accept("-"); ok {
		neg = true
	}
	start := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
		sc.i++
	}
	ys := sc.s[start:sc.i]
	if len(ys) < 4 || len(ys) > 9 || (len(ys) > 4 && ys[0] == '0') {
		return time.Time{}, false
	}
	year, _ := strconv.Atoi(ys)
	if neg {
		year = -year
	}
	if _, ok := sc.accept("-"); !ok {
		return time.Time{}, false
	}
	month, ok := sc.digits(2)
	if !ok || month < 1 || month > 12 {
		return time.Time{}, false
	}
	if _, ok := sc.accept("-"); !ok {
		return time.Time{}, false
	}
	day, ok := sc.digits(2)
	if !ok || day < 1 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // e.g. February 30
	}
	return t, true
}

// timeOfDay scans hour ":" minute [":" second ["." 1*12DIGIT]] and returns
// the duration since midnight. Digits beyond nanoseconds are truncated, but
// a non-zero tail after a whole number of microseconds sets the lowest
// nanosecond: the value then still has a non-zero part finer than a
// microsecond and the same microsecond truncation as the exact value, which
// is what the sub-microsecond comparison rule (expr.go) needs.
func (sc *scanner) timeOfDay() (time.Duration, bool) {
	h, ok := sc.digits(2)
	if !ok || h > 23 {
		return 0, false
	}
	if _, ok := sc.accept(":"); !ok {
		return 0, false
	}
	m, ok := sc.digits(2)
	if !ok || m > 59 {
		return 0, false
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if _, ok := sc.accept(":"); !ok {
		return d, true
	}
	s, ok := sc.digits(2)
	if !ok || s > 60 {
		return 0, false
	}
	d += time.Duration(s) * time.Second
	if _, ok := sc.accept("."); !ok {
		return d, true
	}
	start := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
		sc.i++
	}
	frac := sc.s[start:sc.i]
	if len(frac) == 0 || len(frac) > 12 {
		return 0, false
	}
	tail := ""
	if len(frac) > 9 {
		frac, tail = frac[:9], frac[9:]
	}
	frac += strings.Repeat("0", 9-len(frac))
	ns, _ := strconv.Atoi(frac)
	if strings.Trim(tail, "0") != "" && ns%int(time.Microsecond) == 0 {
		ns++
	}
	return d + time.Duration(ns), true
}

func parseDate(s string) (time.Time, error) {
	sc := &scanner{s: s}
	t, ok := sc.date()
	if !ok || !sc.done() {
		return time.Time{}, errors.New("invalid date (want YYYY-MM-DD)")
	}
	return t, nil
}

// parseDateTimeOffset parses date "T" timeOfDay ("Z" / sign hour ":" minute)
// and returns the instant in UTC. "T" and "Z" are case-insensitive; a space
// before the offset is read as '+' (an unencoded '+' in a URL).
func parseDateTimeOffset(s string) (time.Time, error) {
	bad := errors.New("invalid date-time (want YYYY-MM-DDThh:mm[:ss[.fff]]Z or an offset ±hh:mm)")
	sc := &scanner{s: s}
	d, ok := sc.date()
	if !ok {
		return time.Time{}, bad
	}
	if _, ok := sc.accept("Tt"); !ok {
		return time.Time{}, bad
	}
	tod, ok := sc.timeOfDay()
	if !ok {
		return time.Time{}, bad
	}
	t := d.Add(tod)
	if _, ok := sc.accept("Zz"); ok {
		if !sc.done() {
			return time.Time{}, bad
		}
		return t, nil
	}
	sign, ok := sc.accept("+- ")
	if !ok {
		return time.Time{}, bad
	}
	oh, ok1 := sc.digits(2)
	_, ok2 := sc.accept(":")
	om, ok3 := sc.digits(2)
	if !ok1 || !ok2 || !ok3 || oh > 23 || om > 59 || !sc.done() {
		return time.Time{}, bad
	}
	off := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
	if sign == '-' {
		off = -off
	}
	return t.Add(-off), nil
}

func parseTimeOfDay(s string) (time.Duration, error) {
	sc := &scanner{s: s}
	d, ok := sc.timeOfDay()
	if !ok || !sc.done() || d >= 24*time.Hour {
		return 0, errors.New("invalid time of day (want hh:mm[:ss[.fff]])")
	}
	return d, nil
}

// parseDuration parses [-]P[nD][T[nH][nM][n[.f]S]] (letters case-insensitive).
func parseDuration(s string) (time.Duration, error) {
	bad := errors.New("invalid duration (want e.g. P1DT2H3M4.5S)")
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i >= len(s) || (s[i] != 'P' && s[i] != 'p') {
		return 0, bad
	}
	i++
	total := new(big.Int)
	inTime := false
	parts := 0
	order := 0 // D=1, H=2, M=3, S=4: each designator at most once, in order
	for i < len(s) {
		if s[i] == 'T' || s[i] == 't' {
			if inTime {
				return 0, bad
			}
			inTime = true
			i++
			if i == len(s) {
				return 0, bad
			}
			continue
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return 0, bad
		}
		whole, _ := new(big.Int).SetString(s[start:i], 10)
		frac := ""
		if i < len(s) && s[i] == '.' {
			i++
			fs := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			if i == fs {
				return 0, bad
			}
			frac = s[fs:i]
		}
		if i >= len(s) {
			return 0, bad
		}
		var unit time.Duration
		var pos int
		switch c := s[i] | 0x20; {
		case c == 'd' && !inTime:
			unit, pos = 24*time.Hour, 1
		case c == 'h' && inTime:
			unit, pos = time.Hour, 2
		case c == 'm' && inTime:
			unit, pos = time.Minute, 3
		case c == 's' && inTime:
			unit, pos = time.Second, 4
		default:
			return 0, bad
		}
		if pos <= order || (frac != "" && pos != 4) {
			return 0, bad
		}
		order = pos
		i++
		parts++
		total.Add(total, new(big.Int).Mul(whole, big.NewInt(int64(unit))))
		if frac != "" {
			if len(frac) > 9 {
				frac = frac[:9]
			}
			ns, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
			total.Add(total, big.NewInt(int64(ns)))
		}
	}
	if parts == 0 {
		return 0, bad
	}
	if neg {
		total.Neg(total)
	}
	if !total.IsInt64() {
		return 0, errors.New("duration out of range")
	}
	return time.Duration(total.Int64()), nil
}

// ConstOf converts a value read from storage into a typed constant of p's
// type (keyset positions, keys of written rows).
func ConstOf(p *metadata.Property, v *edm.Value) Const {
	c := Const{T: p.Type, Null: v.Null}
	if v.Null {
		return c
	}
	switch p.Type {
	case metadata.Boolean:
		c.V = v.Bool
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		c.V = v.Int
	case metadata.Single, metadata.Double:
		c.V = v.Float
	case metadata.Decimal, metadata.String, metadata.Guid:
		c.V = string(v.Text)
	case metadata.Binary:
		c.V = append([]byte(nil), v.Text...)
	case metadata.Date, metadata.DateTimeOffset:
		c.V = v.Time
	case metadata.TimeOfDay, metadata.Duration:
		c.V = v.Dur
	}
	return c
}
