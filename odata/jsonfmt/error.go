package jsonfmt

// ErrorDetail is one entry of an OData error's details array.
type ErrorDetail struct {
	Code    string
	Message string
	Target  string
}

// AppendError appends an OData JSON error body:
//
//	{"error":{"code":..,"message":..,"target":..,"details":[..],"innererror":{"requestId":..}}}
//
// target, details and requestID are left out when empty.
func AppendError(b []byte, code, message, target string, details []ErrorDetail, requestID string) []byte {
	b = append(b, `{"error":{"code":`...)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	if target != "" {
		b = append(b, `,"target":`...)
		b = appendString(b, target)
	}
	if len(details) > 0 {
		b = append(b, `,"details":[`...)
		for i, d := range details {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"code":`...)
			b = appendString(b, d.Code)
			b = append(b, `,"message":`...)
			b = appendString(b, d.Message)
			if d.Target != "" {
				b = append(b, `,"target":`...)
				b = appendString(b, d.Target)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if requestID != "" {
		b = append(b, `,"innererror":{"requestId":`...)
		b = appendString(b, requestID)
		b = append(b, '}')
	}
	return append(b, "}}\n"...)
}
