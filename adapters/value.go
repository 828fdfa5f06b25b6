package adapters

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// ToConst converts a value read from storage into a typed constant of p's
// type (for keyset tokens, ETags and key lookups after writes).
func ToConst(p *metadata.Property, v *Value) semantic.Const {
	c := semantic.Const{T: p.Type, Null: v.Null}
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

// KeyOf extracts the key values of a full row, in set.Key order.
func KeyOf(set *metadata.EntitySet, row Row) []semantic.Const {
	key := make([]semantic.Const, len(set.Key))
	for i, k := range set.Key {
		for j, p := range row.Columns {
			if p == k {
				key[i] = ToConst(p, &row.Values[j])
				break
			}
		}
	}
	return key
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
				c := ToConst(p, &vals[i])
				return `W/"` + constText(c) + `"`
			}
		}
		return ""
	case set.ETagHash:
		h := hmac.New(sha256.New, key)
		for i, p := range cols {
			c := ToConst(p, &vals[i])
			fmt.Fprintf(h, "%s=%d:%s;", p.Name, len(constText(c)), constText(c))
		}
		return `W/"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12]) + `"`
	}
	return ""
}

func constText(c semantic.Const) string {
	if c.Null {
		return "null"
	}
	switch v := c.V.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return strconv.FormatInt(int64(v), 10)
	case []byte:
		return base64.RawURLEncoding.EncodeToString(v)
	}
	return fmt.Sprint(c.V)
}

// ParseISODuration parses an ISO 8601 duration as PostgreSQL prints it with
// IntervalStyle iso_8601 (e.g. "P1Y2M3DT4H5M6.5S", "PT-1H", "-P1D").
// Years and months, which have no fixed length, count as 365 and 30 days.
func ParseISODuration(s string) (time.Duration, error) {
	orig := s
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if !strings.HasPrefix(s, "P") {
		return 0, fmt.Errorf("bad duration %q", orig)
	}
	s = s[1:]
	var total big.Rat
	inTime := false
	for s != "" {
		if s[0] == 'T' {
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("bad duration %q", orig)
		}
		var n big.Rat
		if _, ok := n.SetString(s[:i]); !ok {
			return 0, fmt.Errorf("bad duration %q", orig)
		}
		var unit time.Duration
		switch {
		case s[i] == 'Y' && !inTime:
			unit = 365 * 24 * time.Hour
		case s[i] == 'M' && !inTime:
			unit = 30 * 24 * time.Hour
		case s[i] == 'W' && !inTime:
			unit = 7 * 24 * time.Hour
		case s[i] == 'D' && !inTime:
			unit = 24 * time.Hour
		case s[i] == 'H' && inTime:
			unit = time.Hour
		case s[i] == 'M' && inTime:
			unit = time.Minute
		case s[i] == 'S' && inTime:
			unit = time.Second
		default:
			return 0, fmt.Errorf("bad duration %q", orig)
		}
		n.Mul(&n, new(big.Rat).SetInt64(int64(unit)))
		total.Add(&total, &n)
		s = s[i+1:]
	}
	if neg {
		total.Neg(&total)
	}
	f, _ := total.Float64()
	if f > 9.2e18 || f < -9.2e18 {
		return 0, fmt.Errorf("duration %q out of range", orig)
	}
	return time.Duration(f), nil
}
