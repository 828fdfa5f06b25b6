// Package jsonfmt writes OData JSON (odata.metadata=minimal) straight to an
// io.Writer: collections row by row, single entities and error bodies. It is
// hand-written for speed: no reflection, no per-row maps, one reused scratch
// buffer; the caller controls buffering and compression.
//
// Value formats: Int64 and Decimal as JSON numbers (strings when the client
// asked for IEEE754Compatible=true), decimals from their storage text (never
// through float64), Double/Single NaN and infinities as "NaN"/"INF"/"-INF",
// DateTimeOffset as RFC 3339 in UTC with every stored fractional digit, Date
// as YYYY-MM-DD, TimeOfDay as HH:MM:SS[.f], Duration as ISO 8601 (P1DT2H),
// Binary as base64url (OData JSON 4.0 §7.1), Guid lower-case.
package jsonfmt

import (
	"encoding/base64"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// Options change how values are written.
type Options struct {
	// IEEE754Compatible writes Int64 and Decimal values (and @odata.count)
	// as JSON strings.
	IEEE754Compatible bool
	// Metadata is the odata.metadata level (JSON Format §3.1).
	Metadata Level
	// TypeName is the qualified name of the entities' type, for
	// @odata.type at Full.
	TypeName string
}

// Level is an odata.metadata level: how much control information a
// response carries.
type Level int

// Levels.
const (
	// Minimal: @odata.context, @odata.etag, @odata.count, @odata.nextLink.
	Minimal Level = iota
	// Full adds @odata.type, @odata.id and @odata.editLink to each entity
	// (the id set with EntityID) and the type of each property whose JSON
	// form does not tell it (everything but String, Boolean and Double).
	Full
	// None keeps only @odata.count and @odata.nextLink.
	None
)

// Writer writes one OData JSON response. It is not safe for concurrent use.
type Writer struct {
	w       io.Writer
	opt     Options
	id      string // of the next entity (Full)
	buf     []byte // scratch for the current row or fragment
	written int64
	rows    int
	err     error

	// The escaped `"name":` of each property of the last column list a
	// collection member was written with: a page writes the same columns
	// on every row, so names are escaped once per response, not per row.
	keyCols []*metadata.Property
	keys    []byte
	keyEnd  []int // end of each column's key in keys
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer, opt Options) *Writer {
	return &Writer{w: w, opt: opt, buf: make([]byte, 0, 4096)}
}

// Written is the number of bytes written so far.
func (w *Writer) Written() int64 { return w.written }

// Err is the first write error, if any.
func (w *Writer) Err() error { return w.err }

func (w *Writer) flush() {
	if w.err == nil && len(w.buf) > 0 {
		var n int
		n, w.err = w.w.Write(w.buf)
		w.written += int64(n)
	}
	w.buf = w.buf[:0]
}

// BeginCollection writes the opening of a collection response.
func (w *Writer) BeginCollection(contextURL string, count *int64) {
	w.buf = w.appendContext(append(w.buf, '{'), contextURL)
	if count != nil {
		w.buf = append(w.buf, `"@odata.count":`...)
		w.buf = w.appendCount(w.buf, *count)
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, `"value":[`...)
	w.flush()
}

// appendContext appends `"@odata.context":"…",` unless the level is None.
func (w *Writer) appendContext(b []byte, contextURL string) []byte {
	if w.opt.Metadata == None {
		return b
	}
	b = append(b, `"@odata.context":`...)
	b = appendString(b, contextURL)
	return append(b, ',')
}

// EntityID sets the id (canonical URL) of the next entity written; it is
// used at Full only.
func (w *Writer) EntityID(id string) { w.id = id }

func (w *Writer) appendCount(b []byte, n int64) []byte {
	if w.opt.IEEE754Compatible {
		b = append(b, '"')
		b = strconv.AppendInt(b, n, 10)
		return append(b, '"')
	}
	return strconv.AppendInt(b, n, 10)
}

// EncodeEntity renders one collection member into the scratch buffer
// without writing it, and returns its size in bytes; WriteEncoded then
// writes it. Splitting the two lets a caller stop a page before a row
// would push it over a byte limit.
func (w *Writer) EncodeEntity(cols []*metadata.Property, vals []edm.Value, etag string) int {
	w.buf = w.buf[:0]
	if w.rows > 0 {
		w.buf = append(w.buf, ',')
	}
	w.buf = w.appendEntity(w.buf, cols, vals, etag)
	return len(w.buf)
}

// WriteEncoded writes the entity rendered by the last EncodeEntity.
func (w *Writer) WriteEncoded() {
	w.rows++
	w.flush()
}

// Entity writes one collection member.
func (w *Writer) Entity(cols []*metadata.Property, vals []edm.Value, etag string) {
	w.EncodeEntity(cols, vals, etag)
	w.WriteEncoded()
}

// EndCollection closes the collection, adding @odata.nextLink when non-empty.
func (w *Writer) EndCollection(nextLink string) {
	w.buf = append(w.buf[:0], ']')
	if nextLink != "" {
		w.buf = append(w.buf, `,"@odata.nextLink":`...)
		w.buf = appendString(w.buf, nextLink)
	}
	w.buf = append(w.buf, "}\n"...)
	w.flush()
}

// SingleEntity writes a whole single-entity response.
func (w *Writer) SingleEntity(contextURL string, cols []*metadata.Property, vals []edm.Value, etag string) {
	w.buf = w.appendSingleEntity(w.buf[:0], contextURL, cols, vals, etag)
	w.flush()
}

// AppendSingleEntity appends the response SingleEntity writes to b (id: the
// entity's id, written with odata.metadata=full, see EntityID): for a
// caller that keeps the (small) body in memory, without a Writer's scratch
// buffer and a copy.
func AppendSingleEntity(b []byte, opt Options, id, contextURL string, cols []*metadata.Property, vals []edm.Value, etag string) []byte {
	w := Writer{opt: opt, id: id}
	return w.appendSingleEntity(b, contextURL, cols, vals, etag)
}

func (w *Writer) appendSingleEntity(b []byte, contextURL string, cols []*metadata.Property, vals []edm.Value, etag string) []byte {
	b = w.appendContext(append(b, '{'), contextURL)
	b = w.appendMembers(b, cols, vals, etag, false)
	return append(b, "}\n"...)
}

func (w *Writer) appendEntity(b []byte, cols []*metadata.Property, vals []edm.Value, etag string) []byte {
	b = w.appendMembers(append(b, '{'), cols, vals, etag, true)
	return append(b, '}')
}

// appendMembers appends an entity's control information and properties,
// without braces. keyed: take the property names from the key cache (rows
// of a collection), else escape them here (one entity).
func (w *Writer) appendMembers(b []byte, cols []*metadata.Property, vals []edm.Value, etag string, keyed bool) []byte {
	if keyed {
		w.propertyKeys(cols)
	}
	start := 0
	first := true
	sep := func(b []byte) []byte {
		if !first {
			b = append(b, ',')
		}
		first = false
		return b
	}
	full := w.opt.Metadata == Full
	if full && w.opt.TypeName != "" {
		b = append(sep(b), `"@odata.type":`...)
		b = appendString(b, "#"+w.opt.TypeName)
	}
	if full && w.id != "" {
		b = append(sep(b), `"@odata.id":`...)
		b = appendString(b, w.id)
	}
	if etag != "" && w.opt.Metadata != None {
		b = append(sep(b), `"@odata.etag":`...)
		b = appendString(b, etag)
	}
	if full && w.id != "" {
		b = append(sep(b), `"@odata.editLink":`...)
		b = appendString(b, w.id)
	}
	w.id = ""
	for i, p := range cols {
		if (full || p.Dynamic && w.opt.Metadata != None) && !vals[i].Null {
			// Dynamic properties ($compute) carry their type unless the
			// JSON value tells it, as $apply's aliases do.
			switch p.Type {
			case metadata.String, metadata.Boolean, metadata.Double:
			default:
				b = appendString(sep(b), p.Name+"@odata.type")
				b = append(b, `:"#`...)
				b = append(b, strings.TrimPrefix(string(p.Type), "Edm.")...)
				b = append(b, '"')
			}
		}
		if keyed {
			b = append(sep(b), w.keys[start:w.keyEnd[i]]...)
			start = w.keyEnd[i]
		} else {
			b = append(appendString(sep(b), p.Name), ':')
		}
		b = w.AppendValue(b, p, &vals[i])
	}
	return b
}

// propertyKeys makes w.keys the escaped keys of cols, unless they already are.
func (w *Writer) propertyKeys(cols []*metadata.Property) {
	if len(cols) == len(w.keyCols) {
		same := true
		for i, p := range cols {
			if w.keyCols[i] != p {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	size := 0
	for _, p := range cols {
		size += len(p.Name) + 3
	}
	if cap(w.keyCols) < len(cols) {
		w.keyCols, w.keyEnd = make([]*metadata.Property, 0, len(cols)), make([]int, 0, len(cols))
	}
	if cap(w.keys) < size {
		w.keys = make([]byte, 0, size+size/4) // room for a few escapes
	}
	w.keyCols = append(w.keyCols[:0], cols...)
	w.keys, w.keyEnd = w.keys[:0], w.keyEnd[:0]
	for _, p := range cols {
		w.keys = appendString(w.keys, p.Name)
		w.keys = append(w.keys, ':')
		w.keyEnd = append(w.keyEnd, len(w.keys))
	}
}

// AppendValue appends the JSON form of v as a value of property p.
func (w *Writer) AppendValue(b []byte, p *metadata.Property, v *edm.Value) []byte {
	if v.Null {
		return append(b, "null"...)
	}
	switch p.Type {
	case metadata.Boolean:
		if v.Bool {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32:
		return strconv.AppendInt(b, v.Int, 10)
	case metadata.Int64:
		if w.opt.IEEE754Compatible {
			b = append(b, '"')
			b = strconv.AppendInt(b, v.Int, 10)
			return append(b, '"')
		}
		return strconv.AppendInt(b, v.Int, 10)
	case metadata.Decimal:
		if p.Dynamic {
			// A computed or aggregated decimal has the scale the engine
			// chose (MySQL: 30 places for a product with a parameter); its
			// value is written without trailing fractional zeros, so that
			// engines agree.
			return appendDecimal(b, trimFraction(v.Text), w.opt.IEEE754Compatible)
		}
		return appendDecimal(b, v.Text, w.opt.IEEE754Compatible)
	case metadata.Single:
		return appendFloat(b, v.Float, 32)
	case metadata.Double:
		return appendFloat(b, v.Float, 64)
	case metadata.String, metadata.Guid:
		return appendStringBytes(b, v.Text)
	case metadata.Binary:
		b = append(b, '"')
		n := base64.URLEncoding.EncodedLen(len(v.Text))
		start := len(b)
		b = append(b, make([]byte, n)...)
		base64.URLEncoding.Encode(b[start:], v.Text)
		return append(b, '"')
	case metadata.Date:
		b = append(b, '"')
		b = AppendDate(b, v.Time)
		return append(b, '"')
	case metadata.DateTimeOffset:
		b = append(b, '"')
		b = AppendDateTime(b, v.Time)
		return append(b, '"')
	case metadata.TimeOfDay:
		b = append(b, '"')
		b = AppendTimeOfDay(b, v.Dur)
		return append(b, '"')
	case metadata.Duration:
		b = append(b, '"')
		b = AppendDuration(b, v.Dur)
		return append(b, '"')
	}
	return append(b, "null"...)
}

// AppendDate appends t's date in UTC as YYYY-MM-DD.
func AppendDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02")
	}
	return appendYMD(b, y, int(m), d)
}

// AppendDateTime appends t in UTC as RFC 3339 with the fractional digits
// it has (none, or up to 9, trailing zeros trimmed). Written digit by
// digit: time.AppendFormat interprets its layout on every call.
func AppendDateTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.999999999Z07:00")
	}
	hh, mm, ss := t.Clock()
	b = appendYMD(b, y, int(m), d)
	b = append(b, 'T', byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10),
		':', byte('0'+ss/10), byte('0'+ss%10))
	b = appendFrac(b, int64(t.Nanosecond()))
	return append(b, 'Z')
}

// appendYMD appends YYYY-MM-DD; y must be within 0..9999.
func appendYMD(b []byte, y, m, d int) []byte {
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// AppendTimeOfDay appends d (since midnight) as HH:MM:SS[.fffffff].
func AppendTimeOfDay(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	h := int64(d / time.Hour)
	m := int64(d/time.Minute) % 60
	s := int64(d/time.Second) % 60
	ns := int64(d % time.Second)
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, m)
	b = append(b, ':')
	b = append2(b, s)
	return appendFrac(b, ns)
}

// AppendDuration appends d as an ISO 8601 duration (P[n]DT[n]H[n]M[n][.f]S).
func AppendDuration(b []byte, d time.Duration) []byte {
	if d < 0 {
		b = append(b, '-')
		if d == math.MinInt64 {
			d = math.MaxInt64
		} else {
			d = -d
		}
	}
	days := int64(d / (24 * time.Hour))
	rest := d % (24 * time.Hour)
	b = append(b, 'P')
	if days > 0 {
		b = strconv.AppendInt(b, days, 10)
		b = append(b, 'D')
	}
	b = append(b, 'T')
	b = strconv.AppendInt(b, int64(rest/time.Hour), 10)
	b = append(b, 'H')
	b = strconv.AppendInt(b, int64(rest/time.Minute)%60, 10)
	b = append(b, 'M')
	b = strconv.AppendInt(b, int64(rest/time.Second)%60, 10)
	b = appendFrac(b, int64(rest%time.Second))
	return append(b, 'S')
}

func append2(b []byte, n int64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, n, 10)
}

func appendFrac(b []byte, ns int64) []byte {
	if ns == 0 {
		return b
	}
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + ns%10)
		ns /= 10
	}
	n := 9
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"INF"`...)
	case math.IsInf(f, -1):
		return append(b, `"-INF"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendDecimal appends decimal text from storage as a JSON number, or a
// string when quoted or when it is not a finite number (NaN, Infinity).
// trimFraction drops the trailing zeros of a plain decimal's fraction (and
// its point when nothing is left): "201.000" -> "201", "0.50" -> "0.5".
// Exponent forms are left alone.
func trimFraction(text []byte) []byte {
	dot := -1
	for i, c := range text {
		switch {
		case c == '.':
			dot = i
		case c == 'e' || c == 'E':
			return text
		}
	}
	if dot < 0 {
		return text
	}
	end := len(text)
	for end > dot+1 && text[end-1] == '0' {
		end--
	}
	if end == dot+1 {
		end = dot
	}
	return text[:end]
}

func appendDecimal(b, text []byte, quoted bool) []byte {
	if len(text) == 0 {
		return append(b, "null"...)
	}
	finite := true
	for _, c := range text {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			finite = false
			break
		}
	}
	if !finite {
		switch string(text) {
		case "Infinity":
			return append(b, `"INF"`...)
		case "-Infinity":
			return append(b, `"-INF"`...)
		}
		return appendStringBytes(b, text)
	}
	if quoted {
		b = append(b, '"')
		b = append(b, text...)
		return append(b, '"')
	}
	return append(b, text...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte { return appendJSONString(b, s) }

// appendStringBytes is appendString for a byte slice, without converting.
func appendStringBytes(b []byte, s []byte) []byte { return appendJSONString(b, s) }

// appendJSONString escapes s into b: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, and U+2028/U+2029
// escaped (JavaScript line terminators). It does not allocate beyond b.
func appendJSONString[S string | []byte](b []byte, s S) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscaped(b, c)
			i++
			start = i
			continue
		}
		// At most utf8.UTFMax bytes are converted: no allocation.
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xF])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscaped(b []byte, c byte) []byte {
	switch c {
	case '"':
		return append(b, '\\', '"')
	case '\\':
		return append(b, '\\', '\\')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// AppendString appends s as a JSON string (exported for error bodies and
// other small documents built by the server).
func AppendString(b []byte, s string) []byte { return appendString(b, s) }
