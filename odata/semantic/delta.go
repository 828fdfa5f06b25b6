package semantic

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"math"
	"time"

	"github.com/odatagw/odatagw/odata"
)

// Delta is the position a $deltatoken stands for (OData 4.01 Protocol
// §11.3): the changes of the defining query's set after position Since in
// the backend's change log. A delta answer that needs more than one page
// carries Upto (the position the next delta link will start at, taken
// with the first page) and After (the change-log cursor of the last entry
// written) in the tokens of its nextLinks; the last page's deltaLink
// starts at Upto.
type Delta struct {
	Since  string
	Upto   string // "": the first page of a delta answer
	After  string // change-log cursor; "" on the first page
	Issued time.Time
}

// deltaVersion marks a delta token; skiptokens use 1-3.
const deltaVersion = 'D'

// EncodeDelta returns the $deltatoken for d of the defining query with the
// given fingerprint (DeltaFingerprint), signed like $skiptoken so that any
// replica sharing the key accepts it.
//
//	'D' | SHA-256(fingerprint)[:8] | bytes Since | bytes Upto |
//	varint Issued (Unix seconds) | bytes After | HMAC-SHA256[:16]
//
// (bytes: uvarint length, then the bytes.)
func (c *TokenCodec) EncodeDelta(fingerprint string, d Delta) string {
	p := []byte{deltaVersion}
	p = append(p, fingerprintHash(fingerprint)...)
	p = appendBytes(p, []byte(d.Since))
	p = appendBytes(p, []byte(d.Upto))
	p = binary.AppendVarint(p, d.Issued.Unix())
	p = appendBytes(p, []byte(d.After))
	p = append(p, c.tag(p)...)
	return base64.RawURLEncoding.EncodeToString(p)
}

// invalidDelta is the one answer to a bad $deltatoken.
func invalidDelta() *Error {
	return &Error{Kind: BadRequest, Option: "$deltatoken", Msg: "invalid $deltatoken: not issued by this service for this query"}
}

// DecodeDelta checks and decodes a $deltatoken issued by EncodeDelta for
// the defining query with the given fingerprint. Every failure is the same
// *Error{Kind: BadRequest, Option: "$deltatoken"}.
func (c *TokenCodec) DecodeDelta(fingerprint, token string) (Delta, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return Delta{}, invalidDelta()
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+fpLen+4+tagLen {
		return Delta{}, invalidDelta()
	}
	payload, tag := raw[:len(raw)-tagLen], raw[len(raw)-tagLen:]
	if !hmac.Equal(tag, c.tag(payload)) || payload[0] != deltaVersion ||
		!bytes.Equal(payload[1:1+fpLen], fingerprintHash(fingerprint)) {
		return Delta{}, invalidDelta()
	}
	r := &reader{b: payload[1+fpLen:]}
	var d Delta
	since, ok1 := r.bytes()
	upto, ok2 := r.bytes()
	issued, ok3 := r.varint()
	after, ok4 := r.bytes()
	if !ok1 || !ok2 || !ok3 || !ok4 || len(r.b) != 0 || len(since) == 0 || issued < 0 || issued > math.MaxInt32*8 {
		return Delta{}, invalidDelta()
	}
	d.Since, d.Upto, d.After, d.Issued = string(since), string(upto), string(after), time.Unix(issued, 0).UTC()
	return d, nil
}

// DeltaFingerprint identifies the defining query of a delta link: the set
// and the options a delta link keeps ($filter, $search, $select and the
// aliases they use), whatever else the request that asked for tracking
// carried ($top, $skip, $orderby, $count and $skiptoken are not part of
// it).
func DeltaFingerprint(set string, req *odata.Request) string {
	o := req.Options
	d := odata.Request{Path: req.Path, Options: odata.Options{
		Filter: o.Filter, Search: o.Search, Select: o.Select, HasSelect: o.HasSelect,
	}}
	return "delta\n" + Fingerprint(set, &d)
}

// DeltaLinkOptions are the query options a delta link keeps.
var DeltaLinkOptions = []string{"$filter", "$search", "$select"}
