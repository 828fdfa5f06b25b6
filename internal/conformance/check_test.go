package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func runFake(t *testing.T, fk *fake, o Options) []Item {
	t.Helper()
	o.URL = fk.base
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	items, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func dump(items []Item) string {
	var b strings.Builder
	for _, it := range items {
		if it.Status != Pass {
			fmt.Fprintf(&b, "  %s %s [%s] %s -- %s\n", it.Status, it.Set, it.Check, it.Request, it.Reason)
		}
	}
	return b.String()
}

// The clean fake producer passes: no failures, and the only warnings are
// metadata facts (Date becomes Date/Time and the like).
func TestCleanProducerPasses(t *testing.T) {
	fk := newFake(t, faults{})
	items := runFake(t, fk, Options{Writes: true})
	s := Summarize(items)
	if s.Failed != 0 {
		t.Fatalf("clean producer has failures:\n%s", dump(items))
	}
	for _, it := range items {
		if it.Status == Warn && !strings.HasPrefix(it.Check, "metadata") {
			t.Errorf("unexpected runtime warning: %+v", it)
		}
		if it.Status == Skip {
			t.Errorf("unexpected skip: %+v", it)
		}
	}
	// The checklist really ran: spot-check that each family produced passes on both sets.
	for _, set := range []string{"Customers", "Orders"} {
		for _, check := range []string{
			"read", "$select", "$top", "$skip", "$count=true", "/$count", "$count=false",
			"paging: page size", "paging: nextLink", "paging: no duplicates", "paging: count on every page", "paging: total = count",
			"$filter CustomerID eq", "$filter CustomerID ne", "$filter CustomerID startswith", "$filter CustomerID endswith", "$filter CustomerID contains",
			"$orderby CustomerID asc", "$orderby CustomerID desc",
			"$filter and", "$filter or", "$filter not", "$filter nested",
			"key lookup ($filter)", "key lookup (segment)", "$search",
			"write: create", "write: read back", "write: update", "write: read after update", "write: delete", "write: gone after delete",
		} {
			if !has(items, set, check, Pass) {
				t.Errorf("%s: no passing %q", set, check)
			}
		}
	}
	for _, c := range []struct{ set, check string }{
		{"Customers", "$filter City eq null"}, {"Customers", "$filter City ne null"},
		{"Customers", "$filter CreditLimit gt"}, {"Customers", "$filter CreatedAt le"},
		{"Customers", "$filter Active eq false"}, {"Customers", "$filter Rank lt"},
		{"Orders", "$filter OrderDate ge date-time literal"}, {"Orders", "$filter Total ge"},
		{"Customers", "key lookup with quote ($filter)"}, {"Customers", "key lookup with quote (segment)"},
		{"Customers", "key segment, missing key with quote"},
		{"", "unknown entity set"}, {"", "invalid $filter"}, {"", "service document"},
	} {
		if !has(items, c.set, c.check, Pass) {
			t.Errorf("%s: no passing %q", c.set, c.check)
		}
	}
	// Walk of Orders went through 3 pages of 500.
	if it := find(items, "Orders", "paging: nextLink"); it == nil || !strings.Contains(it.Reason, "2 absolute nextLinks") {
		t.Errorf("Orders paging: %+v", it)
	}
	// Scratch rows were cleaned up.
	if n := len(fk.table("Customers").rows); n != 12 {
		t.Errorf("Customers has %d rows after the run, want 12", n)
	}
	if n := len(fk.table("Orders").rows); n != 1100 {
		t.Errorf("Orders has %d rows after the run, want 1100", n)
	}
}

func has(items []Item, set, check string, st Status) bool {
	for _, it := range items {
		if it.Set == set && it.Check == check && it.Status == st {
			return true
		}
	}
	return false
}

func find(items []Item, set, check string) *Item {
	for i := range items {
		if items[i].Set == set && items[i].Check == check {
			return &items[i]
		}
	}
	return nil
}

// Each deliberately broken producer is caught by the check that targets it.
func TestBrokenProducers(t *testing.T) {
	tests := []struct {
		name   string
		f      faults
		set    string
		check  string // prefix of Item.Check
		status Status
		reason string // substring of Item.Reason
	}{
		{"missing key", faults{missingKey: true}, "Customers", "metadata: set", Fail, "no key"},
		{"long name", faults{longName: true}, "Customers", "metadata: Customer_Segment_Classification_Code_Long", Fail, "41 characters"},
		{"string without MaxLength", faults{noMaxLength: true}, "Customers", "metadata: Name", Warn, "Text(128)"},
		{"decimal precision 38", faults{decimal38: true}, "Customers", "metadata: CreditLimit", Warn, "Precision 38"},
		{"wrong sort order", faults{wrongSort: true}, "Orders", "$orderby Total desc", Fail, "not in descending order"},
		{"case-insensitive collation", faults{collation: true}, "Customers", "$orderby CustomerID asc", Warn, "case-insensitive"},
		{"eq returns case-changed key", faults{eqCaseKey: true}, "Customers", "$filter CustomerID eq", Fail, "differ in case"},
		{"eq key lookup case-changed", faults{eqCaseKey: true}, "Customers", "key lookup ($filter)", Fail, "byte for byte"},
		{"ne drops null rows", faults{neDropsNull: true}, "Customers", "$filter City ne", Fail, "null"},
		{"not drops null rows", faults{neDropsNull: true}, "Orders", "$filter Status ne", Fail, "count"},
		{"page over 2000 rows", faults{bigPage: true}, "Orders", "paging: page size", Fail, "2100 rows"},
		{"relative nextLink", faults{relativeNextLink: true}, "Orders", "paging: nextLink", Fail, "relative"},
		{"duplicate rows across pages", faults{duplicatePages: true}, "Orders", "paging: no duplicates", Fail, "returned again"},
		{"count missing on page 2", faults{countMissingPage: true}, "Orders", "paging: count on every page", Fail, "page 2"},
		{"count inconsistent with walk", faults{countWrong: true}, "Orders", "paging: total = count", Fail, "1100 rows but @odata.count is 1101"},
		{"$count=false rejected", faults{countFalse400: true}, "Customers", "$count=false", Fail, "rejected"},
		{"500 on a bad filter", faults{badFilter500: true}, "", "invalid $filter", Fail, "HTTP 500"},
		{"HTML error body", faults{htmlErrors: true}, "", "unknown entity set", Fail, "not OData JSON"},
		{"$top ignored", faults{topIgnored: true}, "Customers", "$top", Fail, "$top is ignored"},
		{"$search not implemented", faults{noSearch: true}, "Customers", "$search", Warn, "HTTP 501"},
		{"URLs limited to 8 KB", faults{shortURLs: true}, "Orders", "SOQL IN list", Fail, "414"},
		{"no count with a filter", faults{noFilteredCount: true}, "Orders", "4.01: key lookup with $count=true", Fail, "every query"},
		{"$skip capped", faults{skipCapped: true}, "Orders", "SOQL OFFSET 2000", Fail, "400"},
		{"change tracking advertised but not served", faults{trackingIgnored: true}, "Orders", "change tracking", Fail, "not applied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fk := newFake(t, tc.f)
			items := runFake(t, fk, Options{})
			for _, it := range items {
				if it.Set == tc.set && strings.HasPrefix(it.Check, tc.check) && it.Status == tc.status && strings.Contains(it.Reason, tc.reason) {
					return
				}
			}
			t.Fatalf("no %s item %q on %q with reason ~%q; non-pass items:\n%s", tc.status, tc.check, tc.set, tc.reason, dump(items))
		})
	}
}

// A metadata failure makes Run report failure; the text report has the
// summary line and no credentials; JSON is the item list.
func TestRunReportAndCredentials(t *testing.T) {
	fk := newFake(t, faults{missingKey: true})
	fk.user, fk.pass = "sf", "s3cret-pw"
	var out bytes.Buffer
	failed, err := Run(context.Background(), Options{URL: fk.base, User: "sf", Password: "s3cret-pw", Sets: []string{"Customers"}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !failed {
		t.Errorf("Run did not report failure:\n%s", text)
	}
	if strings.Contains(text, "s3cret-pw") {
		t.Errorf("report leaks the password")
	}
	for _, want := range []string{"odatagw check " + fk.base, "\nCustomers\n", "FAIL", "no key", "passed,", "warned,", "failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\nOrders\n") {
		t.Errorf("Sets filter ignored:\n%s", text)
	}

	// Credentials in the URL work too, and are not printed.
	out.Reset()
	u := strings.Replace(fk.base, "http://", "http://sf:s3cret-pw@", 1)
	failed, err = Run(context.Background(), Options{URL: u, JSON: true, Sets: []string{"Orders"}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "s3cret-pw") {
		t.Errorf("JSON report leaks the password")
	}
	var items []Item
	if err := json.Unmarshal(out.Bytes(), &items); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, out.String())
	}
	if failed || len(items) == 0 || Summarize(items).Failed != 0 {
		t.Errorf("Orders with URL credentials: failed=%v\n%s", failed, dump(items))
	}

	// Wrong credentials: the metadata request fails, which is a failure.
	out.Reset()
	failed, err = Run(context.Background(), Options{URL: fk.base, User: "sf", Password: "wrong"}, &out)
	if err != nil || !failed || !strings.Contains(out.String(), "HTTP 401") {
		t.Errorf("wrong password: failed=%v err=%v\n%s", failed, err, out.String())
	}
}

func TestUnknownSetAndBadOptions(t *testing.T) {
	fk := newFake(t, faults{})
	items := runFake(t, fk, Options{Sets: []string{"Nope"}})
	if !has(items, "Nope", "metadata", Fail) {
		t.Errorf("unknown --sets name not reported:\n%s", dump(items))
	}
	for _, u := range []string{"", "ftp://x/odata", "/odata", "http://x/odata?a=b"} {
		if _, err := Check(context.Background(), Options{URL: u}); err == nil {
			t.Errorf("Check(%q) accepted a bad URL", u)
		}
	}
}

// An empty set is reported as such and its value checks are skipped.
func TestEmptySet(t *testing.T) {
	fk := newFake(t, faults{})
	fk.table("Customers").rows = nil
	items := runFake(t, fk, Options{Sets: []string{"Customers"}})
	if !has(items, "Customers", "read", Warn) || !has(items, "Customers", "runtime checks", Skip) {
		t.Errorf("empty set not reported:\n%s", dump(items))
	}
	if Summarize(items).Failed != 0 {
		t.Errorf("empty set failed:\n%s", dump(items))
	}
}

// Options.Progress hears every step in order: $metadata, the service
// checks, then each selected set's checks with a growing Done, and a last
// step with Done == Total; the items are the same as without it.
func TestProgress(t *testing.T) {
	fk := newFake(t, faults{})
	var steps []Step
	o := Options{Sets: []string{"Customers", "Orders"}, Progress: func(s Step) { steps = append(steps, s) }}
	items := runFake(t, fk, o)
	if len(steps) < 6 {
		t.Fatalf("%d steps: %+v", len(steps), steps)
	}
	if first := steps[0]; first != (Step{Check: "metadata"}) {
		t.Errorf("first step %+v", first)
	}
	if last := steps[len(steps)-1]; last != (Step{Done: 3, Total: 3}) {
		t.Errorf("last step %+v", last)
	}
	seen := map[string]bool{}
	prev := 0
	for _, s := range steps[1:] {
		if s.Total != 3 || s.Done < prev || s.Done > s.Total {
			t.Fatalf("step %+v after done %d", s, prev)
		}
		prev = s.Done
		seen[s.Set+"/"+s.Check] = true
	}
	for _, want := range []string{"/service document", "Customers/metadata", "Customers/read", "Customers/orderby", "Orders/filter", "Orders/SOQL"} {
		if !seen[want] {
			t.Errorf("no step %s in %+v", want, steps)
		}
	}
	for _, s := range steps {
		if s.Set == "Orders" && s.Done != 2 {
			t.Errorf("Orders checks run with %d units done, want 2: %+v", s.Done, s)
		}
	}
	o.Progress = nil
	if again := runFake(t, fk, o); len(again) != len(items) {
		t.Errorf("progress changed the items: %d vs %d", len(items), len(again))
	}

	// A service that cannot be reached: one unit, reported finished.
	steps = nil
	if _, err := Check(context.Background(), Options{URL: "http://127.0.0.1:1/odata", Progress: func(s Step) { steps = append(steps, s) }}); err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[1] != (Step{Done: 1, Total: 1}) {
		t.Errorf("unreachable service: %+v", steps)
	}
}
