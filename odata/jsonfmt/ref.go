package jsonfmt

// EncodeRef renders an entity reference {"@odata.id":"…"} (OData JSON
// Format 4.0 §14) as the next member of a collection of references, like
// EncodeEntity; WriteEncoded writes it. The id is written at every
// metadata level: it is the reference's payload.
func (w *Writer) EncodeRef(id string) int {
	w.buf = w.buf[:0]
	if w.rows > 0 {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, `{"@odata.id":`...)
	w.buf = appendString(w.buf, id)
	w.buf = append(w.buf, '}')
	return len(w.buf)
}

// AppendRef appends a single entity reference response:
// {"@odata.context":"…/$metadata#$ref","@odata.id":"…"}.
func AppendRef(b []byte, opt Options, contextURL, id string) []byte {
	w := Writer{opt: opt}
	b = w.appendContext(append(b, '{'), contextURL)
	b = append(b, `"@odata.id":`...)
	b = appendString(b, id)
	return append(b, "}\n"...)
}
