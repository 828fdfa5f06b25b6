package adapters

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// KeyOf extracts the key values of a full row, in set.Key order.
func KeyOf(set *metadata.EntitySet, row Row) []semantic.Const {
	key := make([]semantic.Const, len(set.Key))
	for i, k := range set.Key {
		for j, p := range row.Columns {
			if p == k {
				key[i] = semantic.ConstOf(p, &row.Values[j])
				break
			}
		}
	}
	return key
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
