package jsonfmt

// EncodeDeleted renders a deleted entity of a delta response (OData JSON
// Format 4.0 §11: {"@odata.context":"…/$deletedEntity","id":…,"reason":…})
// as the next collection member, like EncodeEntity; WriteEncoded writes it.
// reason is "deleted" or "changed" (the entity no longer matches the
// defining query).
func (w *Writer) EncodeDeleted(contextURL, id, reason string) int {
	w.buf = w.buf[:0]
	if w.rows > 0 {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, '{')
	w.buf = w.appendContext(w.buf, contextURL)
	w.buf = append(w.buf, `"id":`...)
	w.buf = appendString(w.buf, id)
	w.buf = append(w.buf, `,"reason":`...)
	w.buf = appendString(w.buf, reason)
	w.buf = append(w.buf, '}')
	return len(w.buf)
}

// EndDelta closes a collection that may end with a delta link: a page
// that goes on has nextLink; the last page has deltaLink (when the
// response tracks changes).
func (w *Writer) EndDelta(nextLink, deltaLink string) {
	w.buf = append(w.buf[:0], ']')
	if nextLink != "" {
		w.buf = append(w.buf, `,"@odata.nextLink":`...)
		w.buf = appendString(w.buf, nextLink)
	}
	if deltaLink != "" {
		w.buf = append(w.buf, `,"@odata.deltaLink":`...)
		w.buf = appendString(w.buf, deltaLink)
	}
	w.buf = append(w.buf, "}\n"...)
	w.flush()
}
