package conformance

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
)

// Limits of Salesforce Connect the 4.01 checks name (reference §11).
const (
	soqlMaxOffset   = 2000    // SOQL OFFSET on external objects; it arrives as $skip
	soqlMaxLength   = 100_000 // characters of a SOQL statement; an IN list becomes an or-chain
	inListTerms     = 500     // or-ed key equalities the long-IN check sends (a URL beyond the common 8 KB server limit)
	calloutTimeoutS = 120     // seconds Salesforce waits for an answer
)

// soqlChecks send what the 4.01 adapter sends for SOQL: $count=true on a
// key lookup (every 4.01 query counts), OFFSET as $skip up to 2,000, and a
// long IN list as an or-chain of key equalities.
func (sr *setRun) soqlChecks(ctx context.Context) {
	if len(sr.sample) == 0 {
		return
	}
	sr.countedLookup(ctx)
	sr.offsetCheck(ctx)
	sr.inListCheck(ctx)
}

// countedLookup is a record page read by the 4.01 adapter: the key filter
// with $count=true.
func (sr *setRun) countedLookup(ctx context.Context) {
	const name = "4.01: key lookup with $count=true"
	row := sr.sample[0]
	resp, p, ok := sr.fetch(ctx, name, param{"$filter", sr.keyFilter(row).String()}, param{"$select", sr.keySelect()},
		param{"$count", "true"}, param{"$top", "1"})
	switch {
	case !ok:
	case !p.hasCount:
		sr.add(name, Fail, resp.req, "no @odata.count: the 4.01 adapter sends $count=true on every query")
	case p.count != 1 || len(p.rows) != 1:
		sr.add(name, Fail, resp.req, fmt.Sprintf("count %d and %d rows for one key", p.count, len(p.rows)))
	default:
		sr.add(name, Pass, resp.req, "")
	}
}

// offsetCheck is SOQL OFFSET 2,000 (its maximum on external objects).
func (sr *setRun) offsetCheck(ctx context.Context) {
	name := fmt.Sprintf("SOQL OFFSET %d as $skip", soqlMaxOffset)
	resp, p, ok := sr.fetch(ctx, name, param{"$select", sr.keySelect()}, param{"$count", "true"},
		param{"$skip", strconv.Itoa(soqlMaxOffset)}, param{"$top", "1"})
	if !ok {
		return
	}
	want := 0
	if p.hasCount && p.count > soqlMaxOffset {
		want = 1
	}
	if len(p.rows) != want && !(len(p.rows) == 0 && p.next != "") {
		sr.add(name, Fail, resp.req, fmt.Sprintf("%d rows for $skip=%d&$top=1 of %d", len(p.rows), soqlMaxOffset, p.count))
		return
	}
	sr.add(name, Pass, resp.req, fmt.Sprintf("%d row(s) of %d", len(p.rows), p.count))
}

// inListCheck sends a SOQL IN list the way Salesforce does: an or-chain of
// key equalities, here the sample's keys plus keys that do not exist, up
// to inListTerms terms. Every sample row must come back, and only they.
func (sr *setRun) inListCheck(ctx context.Context) {
	name := fmt.Sprintf("SOQL IN list of %d keys", inListTerms)
	if len(sr.s.Key) != 1 {
		sr.add(name, Skip, "", "composite key: Salesforce's IN lists are on the External ID")
		return
	}
	k := sr.s.Key[0]
	var filler func(i int) string
	switch {
	case kindOf(k) == kindString && (k.MaxLength == 0 || k.MaxLength >= 6):
		filler = func(i int) string { return fmt.Sprintf("'~%05d'", i) }
	case k.Edm.IsIntegral() && k.Edm != metadata.Byte:
		filler = func(i int) string { return strconv.Itoa(-1 - i) }
	default:
		sr.add(name, Skip, "", "no values of the key's type that certainly do not exist")
		return
	}
	want := map[string]bool{}
	var terms []string
	for _, row := range sr.sample {
		lit, err := literal(k, row[k.Name])
		if err != nil {
			continue
		}
		if s, _ := literal(k, row[k.Name]); strings.HasPrefix(s, "'~") {
			continue // could collide with a filler
		}
		want[sr.keyOf(row)] = true
		terms = append(terms, k.Name+" eq "+lit)
	}
	for i := 0; len(terms) < inListTerms; i++ {
		terms = append(terms, k.Name+" eq "+filler(i))
	}
	filter := strings.Join(terms, " or ")
	top := strconv.Itoa(len(want) + 1)
	resp, p, ok := sr.fetch(ctx, name, param{"$filter", filter}, param{"$select", sr.keySelect()},
		param{"$count", "true"}, param{"$top", top})
	if !ok {
		return
	}
	sr.followUpTo(ctx, p, len(want)+1)
	got := map[string]bool{}
	for _, row := range p.rows {
		got[sr.keyOf(row)] = true
	}
	size := len(sr.c.url(sr.s.Name, param{"$filter", filter}))
	for key := range want {
		if !got[key] {
			sr.add(name, Fail, resp.req, fmt.Sprintf("key %s of the list is missing from the answer (URL of %d KB)", key, size>>10))
			return
		}
	}
	if len(got) != len(want) || p.hasCount && p.count != int64(len(want)) {
		sr.add(name, Fail, resp.req, fmt.Sprintf("%d rows (count %d) for %d existing keys", len(got), p.count, len(want)))
		return
	}
	sr.add(name, Pass, resp.req, fmt.Sprintf("URL of %d KB answered within Salesforce's %d s; a SOQL statement may have %d characters",
		size>>10, calloutTimeoutS, soqlMaxLength))
}
