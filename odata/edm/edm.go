// Package edm holds Edm primitive values as they travel from storage to the
// JSON writer, unboxed (Value), and the entity tags computed over them
// (ETag). It is the one low-level vocabulary that adapters (which produce
// values) and odata/jsonfmt (which writes them) share, so that neither needs
// the other.
//
// Package edm knows the model's properties and types, nothing else: no SQL,
// no HTTP, no syntax tree.
package edm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/odatagw/odatagw/metadata"
)

// Value is one primitive value as read from storage, without boxing. Which
// field is meaningful depends on the property's Edm type:
//
//	Boolean                      Bool
//	Byte, SByte, Int16/32/64     Int
//	Single, Double               Float
//	Decimal                      Text (canonical decimal text from storage)
//	String, Guid                 Text
//	Binary                       Text (raw bytes)
//	Date, DateTimeOffset         Time (UTC; Date at midnight)
//	TimeOfDay, Duration          Dur
type Value struct {
	Null  bool
	Bool  bool
	Int   int64
	Float float64
	Text  []byte
	Time  time.Time
	Dur   time.Duration
}

// ETag computes the entity tag of a row: the quoted text of the set's
// row-version property, or a keyed hash (HMAC-SHA-256 with key) of every
// property value; "" when the set has no optimistic concurrency. The hash is
// keyed so that nobody can test guesses of a value they may not read
// against an ETag they can; cols must hold every property of the set.
func ETag(key []byte, set *metadata.EntitySet, cols []*metadata.Property, vals []Value) string {
	switch {
	case set.ETag != nil:
		for i, p := range cols {
			if p == set.ETag {
				return `W/"` + etagText(p, &vals[i]) + `"`
			}
		}
		return ""
	case set.ETagHash:
		h := hmac.New(sha256.New, key)
		for i, p := range cols {
			// Only the entity's own properties: a read may carry other
			// columns (a $compute value, the value of an order by a
			// navigation path), which are not the entity's state.
			if p.Index < 0 || p.Index >= len(set.Properties) || set.Properties[p.Index] != p {
				continue
			}
			t := etagText(p, &vals[i])
			fmt.Fprintf(h, "%s=%d:%s;", p.Name, len(t), t)
		}
		return `W/"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12]) + `"`
	}
	return ""
}

// etagText is the ETag text format of a value: part of every ETag issued,
// so it must not change (clients hold ETags across gateway upgrades).
func etagText(p *metadata.Property, v *Value) string {
	if v.Null {
		return "null"
	}
	switch p.Type {
	case metadata.Boolean:
		return strconv.FormatBool(v.Bool)
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		return strconv.FormatInt(v.Int, 10)
	case metadata.Single, metadata.Double:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case metadata.Decimal, metadata.String, metadata.Guid:
		return string(v.Text)
	case metadata.Binary:
		return base64.RawURLEncoding.EncodeToString(v.Text)
	case metadata.Date, metadata.DateTimeOffset:
		return v.Time.UTC().Format(time.RFC3339Nano)
	case metadata.TimeOfDay, metadata.Duration:
		return strconv.FormatInt(int64(v.Dur), 10)
	}
	return "null"
}

// ETagMatches compares an If-Match or If-None-Match header value (one or
// more entity tags, comma-separated; weak comparison: W/ is ignored) with
// the entity's current tag. "*" is not handled here: it means "any
// current entity" and is the caller's to decide.
func ETagMatches(header, etag string) bool {
	strip := func(s string) string {
		if len(s) > 2 && s[:2] == "W/" {
			return s[2:]
		}
		return s
	}
	cur := strip(etag)
	start := 0
	for i := 0; i <= len(header); i++ {
		if i == len(header) || header[i] == ',' {
			t := header[start:i]
			for len(t) > 0 && (t[0] == ' ' || t[0] == '\t') {
				t = t[1:]
			}
			for len(t) > 0 && (t[len(t)-1] == ' ' || t[len(t)-1] == '\t') {
				t = t[:len(t)-1]
			}
			if strip(t) == cur {
				return true
			}
			start = i + 1
		}
	}
	return false
}
