package jsonfmt

import (
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// SingleValue writes the response to a request of one property
// (Set(key)/Name): {"@odata.context":…,"value":…}. A null value has no
// such response (the server answers 204).
func (w *Writer) SingleValue(contextURL string, p *metadata.Property, v *edm.Value) {
	w.buf = w.appendContext(append(w.buf[:0], '{'), contextURL)
	w.buf = append(w.buf, `"value":`...)
	w.buf = w.AppendValue(w.buf, p, v)
	w.buf = append(w.buf, "}\n"...)
	w.flush()
}

// AppendRaw appends the raw value of v (Set(key)/Name/$value): strings,
// GUIDs and decimals as stored, binary as its bytes, everything else as its
// JSON text without quotes. v must not be null.
func AppendRaw(b []byte, p *metadata.Property, v *edm.Value) []byte {
	switch p.Type {
	case metadata.String, metadata.Guid, metadata.Decimal, metadata.Binary:
		return append(b, v.Text...)
	}
	start := len(b)
	b = (&Writer{}).AppendValue(b, p, v)
	if n := len(b); n-start >= 2 && b[start] == '"' && b[n-1] == '"' {
		copy(b[start:], b[start+1:n-1])
		b = b[:n-2]
	}
	return b
}
