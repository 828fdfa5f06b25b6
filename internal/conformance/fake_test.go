package conformance

// A small in-memory OData 4.0 producer for the checker's tests. It is
// written independently of the checker's own expression code: its filter
// parser and evaluator live here. faults switch on deliberate bugs.

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type faults struct {
	missingKey       bool // Customers type has no Key
	longName         bool // Customers gets a 41-character property
	noMaxLength      bool // Customers.Name has no MaxLength
	decimal38        bool // Customers.CreditLimit has Precision 38
	wrongSort        bool // desc is ignored
	collation        bool // strings sort case-insensitively
	eqCaseKey        bool // eq on CustomerID returns the key lower-cased
	neDropsNull      bool // ne excludes rows where the property is null (SQL semantics)
	bigPage          bool // one page of everything
	relativeNextLink bool
	duplicatePages   bool // next page starts one row early
	countMissingPage bool // @odata.count only on the first page
	countWrong       bool // counts are one too high
	countFalse400    bool // $count=false is rejected
	badFilter500     bool // unknown property in $filter -> 500
	htmlErrors       bool // errors are HTML
	topIgnored       bool
	noSearch         bool // $search -> 501
	shortURLs        bool // URLs over 8 KB -> 414 (a common proxy default)
	noFilteredCount  bool // @odata.count missing when $filter is given
	skipCapped       bool // $skip beyond 1000 is 400
	trackingIgnored  bool // Orders advertises Capabilities.ChangeTracking but ignores odata.track-changes
}

type fcol struct {
	name     string
	typ      string // Edm type without prefix
	maxLen   int
	prec     int
	scale    int
	nullable bool
	computed bool
}

type ftable struct {
	name, typeName string
	cols           []fcol
	key            string
	rows           []map[string]any
}

func (t *ftable) col(name string) *fcol {
	for i := range t.cols {
		if t.cols[i].name == name {
			return &t.cols[i]
		}
	}
	return nil
}

type fake struct {
	mu       sync.Mutex
	f        faults
	tables   []*ftable
	pageSize int
	user     string
	pass     string
	srv      *httptest.Server
	base     string // http://host/odata
}

func num(s string) json.Number { return json.Number(s) }

func newFake(t *testing.T, f faults) *fake {
	fk := &fake{f: f, pageSize: 500}
	cust := &ftable{name: "Customers", typeName: "Customer", key: "CustomerID", cols: []fcol{
		{name: "CustomerID", typ: "String", maxLen: 10},
		{name: "Name", typ: "String", maxLen: 100},
		{name: "City", typ: "String", maxLen: 60, nullable: true},
		{name: "CreatedAt", typ: "DateTimeOffset", prec: 3, nullable: true},
		{name: "CreditLimit", typ: "Decimal", prec: 18, scale: 2},
		{name: "Active", typ: "Boolean"},
		{name: "Rank", typ: "Int32", nullable: true},
	}}
	if f.longName {
		cust.cols = append(cust.cols, fcol{name: "Customer_Segment_Classification_Code_Long", typ: "String", maxLen: 10, nullable: true})
	}
	type c struct {
		id, name string
		city     any
		created  any
		limit    string
		active   bool
		rank     any
	}
	for _, r := range []c{
		{"ALFKI", "Alfreds Futterkiste", "Berlin", "2024-01-15T10:30:00Z", "12000.00", true, num("3")},
		{"ANATR", "Ana Trujillo Emparedados", "México D.F.", "2023-11-02T08:00:00.125Z", "500.50", false, nil},
		{"ANTON", "Antonio Moreno Taquería", nil, nil, "0.00", true, num("7")},
		{"AROUT", "Around the Horn", "London", "2024-03-01T00:00:00Z", "2500.00", true, num("1")},
		{"BERGS", "Berglunds snabbköp", "Luleå", "2022-06-30T23:59:59Z", "99999.99", false, num("2")},
		{"BLAUS", "Blauer See Delikatessen", "Mannheim", "2024-01-15T10:30:00Z", "12000.00", true, nil},
		{"O'NEIL", "O'Neil & Sons", "Dublin", "2021-05-05T05:05:05Z", "-15.25", true, num("9")},
		{"alpha", "alpha lowercase", "berlin", nil, "1.00", false, num("4")},
		{"Zeta", "Zeta Corp", "Zürich", "2020-02-29T12:00:00Z", "750.00", true, num("5")},
		{"bravo", "Bravo Ltd", nil, "2024-12-31T23:59:59.999Z", "42.42", false, nil},
		{"CHOPS", "Chop-suey Chinese", "Bern", "2019-09-09T09:09:09Z", "310.00", true, num("6")},
		{"DRACD", "Drachenblut Delikatessen", "Aachen", "2018-01-01T00:00:00Z", "18.00", true, num("8")},
	} {
		row := map[string]any{"CustomerID": r.id, "Name": r.name, "City": r.city, "CreatedAt": r.created,
			"CreditLimit": num(r.limit), "Active": r.active, "Rank": r.rank}
		if f.longName {
			row["Customer_Segment_Classification_Code_Long"] = nil
		}
		cust.rows = append(cust.rows, row)
	}
	orders := &ftable{name: "Orders", typeName: "Order", key: "OrderID", cols: []fcol{
		{name: "OrderID", typ: "Int64", computed: true},
		{name: "CustomerID", typ: "String", maxLen: 10},
		{name: "OrderDate", typ: "Date"},
		{name: "Total", typ: "Decimal", prec: 18, scale: 2},
		{name: "Status", typ: "String", maxLen: 20, nullable: true},
	}}
	statuses := []any{"Open", "Shipped", nil, "Closed", "open"}
	nOrders := 1100 // three pages of 500
	if f.bigPage {
		nOrders = 2100
	}
	for i := 0; i < nOrders; i++ {
		d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%400)
		orders.rows = append(orders.rows, map[string]any{
			"OrderID":    num(strconv.Itoa(10248 + i)),
			"CustomerID": cust.rows[i%len(cust.rows)]["CustomerID"],
			"OrderDate":  d.Format("2006-01-02"),
			"Total":      num(fmt.Sprintf("%d.%02d", (i*37)%5000, i%100)),
			"Status":     statuses[i%len(statuses)],
		})
	}
	fk.tables = []*ftable{cust, orders}
	if f.bigPage {
		fk.pageSize = 5000
	}
	fk.srv = httptest.NewServer(http.HandlerFunc(fk.serve))
	fk.base = fk.srv.URL + "/odata"
	t.Cleanup(fk.srv.Close)
	return fk
}

func (fk *fake) table(name string) *ftable {
	for _, t := range fk.tables {
		if t.name == name {
			return t
		}
	}
	return nil
}

func (fk *fake) metadata() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
<edmx:DataServices>
<Schema Namespace="Fake.Model" Alias="F" xmlns="http://docs.oasis-open.org/odata/ns/edm">
`)
	for _, t := range fk.tables {
		fmt.Fprintf(&b, "<EntityType Name=%q>", t.typeName)
		if !(fk.f.missingKey && t.name == "Customers") {
			fmt.Fprintf(&b, "<Key><PropertyRef Name=%q/></Key>", t.key)
		}
		b.WriteString("\n")
		for _, c := range t.cols {
			fmt.Fprintf(&b, "  <Property Name=%q Type=\"Edm.%s\"", c.name, c.typ)
			if !c.nullable {
				b.WriteString(` Nullable="false"`)
			}
			if c.maxLen > 0 && !(fk.f.noMaxLength && c.name == "Name") {
				fmt.Fprintf(&b, ` MaxLength="%d"`, c.maxLen)
			}
			if c.typ == "Decimal" {
				p := c.prec
				if fk.f.decimal38 && c.name == "CreditLimit" {
					p = 38
				}
				fmt.Fprintf(&b, ` Precision="%d" Scale="%d"`, p, c.scale)
			} else if c.prec > 0 {
				fmt.Fprintf(&b, ` Precision="%d"`, c.prec)
			}
			b.WriteString("/>\n")
		}
		b.WriteString("</EntityType>\n")
	}
	orders := `<EntitySet Name="Orders" EntityType="F.Order"/>`
	if fk.f.trackingIgnored {
		orders = `<EntitySet Name="Orders" EntityType="F.Order"><Annotation Term="Org.OData.Capabilities.V1.ChangeTracking">` +
			`<Record><PropertyValue Property="Supported" Bool="true"/></Record></Annotation></EntitySet>`
	}
	b.WriteString(`<EntityContainer Name="Container">
<EntitySet Name="Customers" EntityType="Fake.Model.Customer"/>
` + orders + `
</EntityContainer>
<Annotations Target="F.Order/OrderID"><Annotation Term="Org.OData.Core.V1.Computed"/></Annotations>
</Schema>
</edmx:DataServices>
</edmx:Edmx>
`)
	return b.String()
}

// ---- HTTP ----

type httpErr struct {
	status int
	msg    string
}

func (fk *fake) fail(w http.ResponseWriter, status int, msg string) {
	if fk.f.htmlErrors {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body><h1>Error %d</h1></body></html>", status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": strconv.Itoa(status), "message": msg}})
}

func (fk *fake) write(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("OData-Version", "4.0")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(body)
		_ = zw.Close()
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (fk *fake) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fk.write(w, r, status, "application/json;odata.metadata=minimal", b)
}

func (fk *fake) serve(w http.ResponseWriter, r *http.Request) {
	fk.mu.Lock()
	defer fk.mu.Unlock()
	if fk.user != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != fk.user || p != fk.pass {
			fk.fail(w, http.StatusUnauthorized, "authentication required")
			return
		}
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/odata")
	switch {
	case path == "/" || path == "":
		var v []map[string]any
		for _, t := range fk.tables {
			v = append(v, map[string]any{"name": t.name, "kind": "EntitySet", "url": t.name})
		}
		fk.writeJSON(w, r, 200, map[string]any{"@odata.context": fk.base + "/$metadata", "value": v})
		return
	case path == "/$metadata":
		fk.write(w, r, 200, "application/xml", []byte(fk.metadata()))
		return
	}
	seg := strings.TrimPrefix(path, "/")
	countOnly := strings.HasSuffix(seg, "/$count")
	seg = strings.TrimSuffix(seg, "/$count")
	name, keyLit := seg, ""
	if i := strings.Index(seg, "("); i > 0 && strings.HasSuffix(seg, ")") {
		name = seg[:i]
		k, err := url.PathUnescape(seg[i+1 : len(seg)-1])
		if err != nil {
			fk.fail(w, 400, "bad key")
			return
		}
		keyLit = k
	}
	t := fk.table(name)
	if t == nil {
		fk.fail(w, 404, "no entity set "+name)
		return
	}
	q := r.URL.Query()
	var err *httpErr
	switch {
	case keyLit != "":
		err = fk.entity(w, r, t, keyLit)
	case r.Method == http.MethodGet:
		err = fk.collection(w, r, t, q, countOnly)
	case r.Method == http.MethodPost:
		err = fk.create(w, r, t)
	default:
		err = &httpErr{405, "method not allowed"}
	}
	if err != nil {
		fk.fail(w, err.status, err.msg)
	}
}

func (fk *fake) parseKey(t *ftable, lit string) (any, *httpErr) {
	c := t.col(t.key)
	v, err := parseLiteral(c, lit)
	if err != nil {
		return nil, &httpErr{400, err.Error()}
	}
	return v, nil
}

func (fk *fake) find(t *ftable, key any) int {
	c := t.col(t.key)
	for i, row := range t.rows {
		if cmpVal(c, row[t.key], key) == 0 {
			return i
		}
	}
	return -1
}

func (fk *fake) entity(w http.ResponseWriter, r *http.Request, t *ftable, lit string) *httpErr {
	key, herr := fk.parseKey(t, lit)
	if herr != nil {
		return herr
	}
	i := fk.find(t, key)
	if i < 0 {
		return &httpErr{404, "no entity with key " + lit}
	}
	switch r.Method {
	case http.MethodGet:
		out := map[string]any{"@odata.context": fk.base + "/$metadata#" + t.name + "/$entity"}
		for k, v := range t.rows[i] {
			out[k] = v
		}
		fk.writeJSON(w, r, 200, out)
	case http.MethodPatch:
		var body map[string]any
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return &httpErr{400, "bad body"}
		}
		for k, v := range body {
			c := t.col(k)
			if c == nil || k == t.key {
				return &httpErr{400, "cannot set " + k}
			}
			t.rows[i][k] = v
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		t.rows = slices.Delete(t.rows, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	default:
		return &httpErr{405, "method not allowed"}
	}
	return nil
}

func (fk *fake) create(w http.ResponseWriter, r *http.Request, t *ftable) *httpErr {
	var body map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return &httpErr{400, "bad body"}
	}
	row := map[string]any{}
	for _, c := range t.cols {
		v, ok := body[c.name]
		switch {
		case c.computed && ok:
			return &httpErr{400, c.name + " is computed"}
		case c.computed:
			hi := int64(0)
			for _, r := range t.rows {
				n, _ := strconv.ParseInt(string(r[c.name].(json.Number)), 10, 64)
				hi = max(hi, n)
			}
			v = num(strconv.FormatInt(hi+1, 10))
		case !ok || v == nil:
			if !c.nullable {
				return &httpErr{400, c.name + " is required"}
			}
			v = nil
		}
		if s, isStr := v.(string); isStr && c.maxLen > 0 && len(s) > c.maxLen {
			return &httpErr{400, c.name + " too long"}
		}
		row[c.name] = v
	}
	for k := range body {
		if t.col(k) == nil {
			return &httpErr{400, "unknown property " + k}
		}
	}
	if fk.find(t, row[t.key]) >= 0 {
		return &httpErr{409, "duplicate key"}
	}
	t.rows = append(t.rows, row)
	out := map[string]any{"@odata.context": fk.base + "/$metadata#" + t.name + "/$entity"}
	for k, v := range row {
		out[k] = v
	}
	fk.writeJSON(w, r, http.StatusCreated, out)
	return nil
}

func (fk *fake) collection(w http.ResponseWriter, r *http.Request, t *ftable, q url.Values, countOnly bool) *httpErr {
	if fk.f.shortURLs && len(r.URL.RawQuery) > 8<<10 {
		return &httpErr{414, "URI too long"}
	}
	var pred func(map[string]any) bool = func(map[string]any) bool { return true }
	filterText := q.Get("$filter")
	if filterText != "" {
		p, err := parseFilter(t, filterText, fk.f.neDropsNull)
		if err != nil {
			if fk.f.badFilter500 {
				return &httpErr{500, "internal error"}
			}
			return &httpErr{400, "$filter: " + err.Error()}
		}
		pred = p
	}
	search := q.Get("$search")
	if search != "" && fk.f.noSearch {
		return &httpErr{501, "$search is not supported"}
	}
	var rows []map[string]any
	for _, row := range t.rows {
		if !pred(row) {
			continue
		}
		if search != "" && !rowContains(t, row, search) {
			continue
		}
		rows = append(rows, row)
	}
	count := len(rows)
	if fk.f.countWrong {
		count++
	}
	if countOnly {
		fk.write(w, r, 200, "text/plain", []byte(strconv.Itoa(count)))
		return nil
	}
	if err := fk.sort(t, rows, q.Get("$orderby")); err != nil {
		return err
	}
	atoi := func(name string, def int) (int, *httpErr) {
		s := q.Get(name)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, &httpErr{400, "bad " + name}
		}
		return n, nil
	}
	skip, herr := atoi("$skip", 0)
	if herr != nil {
		return herr
	}
	top, herr := atoi("$top", len(rows))
	if herr != nil {
		return herr
	}
	token, herr := atoi("$skiptoken", 0)
	if herr != nil {
		return herr
	}
	if fk.f.topIgnored {
		top = len(rows)
	}
	if fk.f.skipCapped && skip > 1000 {
		return &httpErr{400, "$skip too large"}
	}
	withCount := false
	switch q.Get("$count") {
	case "true":
		withCount = !(fk.f.noFilteredCount && filterText != "")
	case "false":
		if fk.f.countFalse400 {
			return &httpErr{400, "$count=false is not supported"}
		}
	case "":
	default:
		return &httpErr{400, "bad $count"}
	}
	end := min(len(rows), skip+top)
	start := min(skip+token, end)
	pageEnd := min(end, start+fk.pageSize)
	page := rows[start:pageEnd]
	var sel []string
	if s := q.Get("$select"); s != "" {
		sel = strings.Split(s, ",")
		for _, name := range sel {
			if t.col(name) == nil {
				return &httpErr{400, "unknown property " + name}
			}
		}
	}
	lowerKey := fk.f.eqCaseKey && t.name == "Customers" && strings.Contains(filterText, t.key+" eq ")
	out := make([]map[string]any, 0, len(page))
	for _, row := range page {
		o := map[string]any{}
		for _, c := range t.cols {
			if sel != nil && !slices.Contains(sel, c.name) {
				continue
			}
			v := row[c.name]
			if lowerKey && c.name == t.key {
				v = strings.ToLower(v.(string))
			}
			o[c.name] = v
		}
		out = append(out, o)
	}
	resp := map[string]any{"@odata.context": fk.base + "/$metadata#" + t.name, "value": out}
	if withCount && !(fk.f.countMissingPage && token > 0) {
		resp["@odata.count"] = count
	}
	if pageEnd < end {
		nq := url.Values{}
		for k, v := range q {
			if k != "$skiptoken" {
				nq[k] = v
			}
		}
		next := token + (pageEnd - start)
		if fk.f.duplicatePages {
			next--
		}
		nq.Set("$skiptoken", strconv.Itoa(next))
		link := t.name + "?" + nq.Encode()
		if !fk.f.relativeNextLink {
			link = fk.base + "/" + link
		}
		resp["@odata.nextLink"] = link
	}
	fk.writeJSON(w, r, 200, resp)
	return nil
}

func rowContains(t *ftable, row map[string]any, word string) bool {
	for _, c := range t.cols {
		if s, ok := row[c.name].(string); ok && c.typ == "String" && strings.Contains(strings.ToLower(s), strings.ToLower(word)) {
			return true
		}
	}
	return false
}

func (fk *fake) sort(t *ftable, rows []map[string]any, orderby string) *httpErr {
	type key struct {
		c    *fcol
		desc bool
	}
	var keys []key
	if orderby != "" {
		for _, part := range strings.Split(orderby, ",") {
			f := strings.Fields(part)
			if len(f) == 0 || len(f) > 2 {
				return &httpErr{400, "bad $orderby"}
			}
			c := t.col(f[0])
			if c == nil {
				return &httpErr{400, "unknown property " + f[0]}
			}
			desc := len(f) == 2 && f[1] == "desc"
			if fk.f.wrongSort {
				desc = false
			}
			keys = append(keys, key{c, desc})
		}
	}
	keys = append(keys, key{t.col(t.key), false})
	sort.SliceStable(rows, func(i, j int) bool {
		for _, k := range keys {
			a, b := rows[i][k.c.name], rows[j][k.c.name]
			var c int
			switch {
			case a == nil && b == nil:
				c = 0
			case a == nil:
				c = -1
			case b == nil:
				c = 1
			case fk.f.collation && k.c.typ == "String":
				c = strings.Compare(strings.ToLower(a.(string)), strings.ToLower(b.(string)))
			default:
				c = cmpVal(k.c, a, b)
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	return nil
}

// ---- values and filters (independent of the checker's code) ----

func cmpVal(c *fcol, a, b any) int {
	switch c.typ {
	case "String", "Date":
		return strings.Compare(a.(string), b.(string))
	case "DateTimeOffset":
		x, _ := time.Parse(time.RFC3339Nano, a.(string))
		y, _ := time.Parse(time.RFC3339Nano, b.(string))
		return x.Compare(y)
	case "Boolean":
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	x, _ := new(big.Rat).SetString(fmt.Sprint(a))
	y, _ := new(big.Rat).SetString(fmt.Sprint(b))
	return x.Cmp(y)
}

func parseLiteral(c *fcol, lit string) (any, error) {
	if lit == "null" {
		return nil, nil
	}
	switch c.typ {
	case "String":
		if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
			return nil, fmt.Errorf("want a string literal for %s, got %s", c.name, lit)
		}
		inner := lit[1 : len(lit)-1]
		if strings.Count(inner, "'")%2 != 0 {
			return nil, fmt.Errorf("unescaped quote in %s", lit)
		}
		return strings.ReplaceAll(inner, "''", "'"), nil
	case "Boolean":
		switch lit {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case "Date":
		if len(lit) == 10 {
			if _, err := time.Parse("2006-01-02", lit); err == nil {
				return lit, nil
			}
		}
		if tm, err := time.Parse(time.RFC3339Nano, lit); err == nil {
			return tm.UTC().Format("2006-01-02"), nil // compare on the date part
		}
	case "DateTimeOffset":
		if _, err := time.Parse(time.RFC3339Nano, lit); err == nil {
			return lit, nil
		}
	default:
		if _, ok := new(big.Rat).SetString(lit); ok {
			return num(lit), nil
		}
	}
	return nil, fmt.Errorf("bad literal %s for %s", lit, c.name)
}

type fparser struct {
	toks   []string
	pos    int
	t      *ftable
	neSQL  bool
	failed error
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		switch ch := s[i]; {
		case ch == ' ':
			i++
		case ch == '(' || ch == ')' || ch == ',':
			toks = append(toks, string(ch))
			i++
		case ch == '\'':
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" (),'", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func parseFilter(t *ftable, s string, neSQL bool) (func(map[string]any) bool, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &fparser{toks: toks, t: t, neSQL: neSQL}
	f := p.or()
	if p.failed == nil && p.pos != len(p.toks) {
		p.failed = fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return f, p.failed
}

func (p *fparser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *fparser) next() string {
	s := p.peek()
	p.pos++
	return s
}

func (p *fparser) expect(s string) {
	if got := p.next(); got != s && p.failed == nil {
		p.failed = fmt.Errorf("expected %q, got %q", s, got)
	}
}

func (p *fparser) or() func(map[string]any) bool {
	l := p.and()
	for p.peek() == "or" {
		p.next()
		a, b := l, p.and()
		l = func(r map[string]any) bool { return a(r) || b(r) }
	}
	return l
}

func (p *fparser) and() func(map[string]any) bool {
	l := p.unary()
	for p.peek() == "and" {
		p.next()
		a, b := l, p.unary()
		l = func(r map[string]any) bool { return a(r) && b(r) }
	}
	return l
}

func (p *fparser) unary() func(map[string]any) bool {
	if p.peek() == "not" {
		p.next()
		e := p.unary()
		return func(r map[string]any) bool { return !e(r) }
	}
	return p.primary()
}

func (p *fparser) column(name string) *fcol {
	c := p.t.col(name)
	if c == nil && p.failed == nil {
		p.failed = fmt.Errorf("unknown property %q", name)
	}
	return c
}

func (p *fparser) primary() func(map[string]any) bool {
	never := func(map[string]any) bool { return false }
	tok := p.next()
	switch tok {
	case "(":
		e := p.or()
		p.expect(")")
		return e
	case "startswith", "endswith", "contains":
		p.expect("(")
		c := p.column(p.next())
		p.expect(",")
		lit := p.next()
		p.expect(")")
		if p.failed != nil {
			return never
		}
		arg, err := parseLiteral(&fcol{name: "arg", typ: "String"}, lit)
		if err != nil || c.typ != "String" {
			p.failed = fmt.Errorf("bad %s arguments", tok)
			return never
		}
		fn := map[string]func(string, string) bool{"startswith": strings.HasPrefix, "endswith": strings.HasSuffix, "contains": strings.Contains}[tok]
		return func(r map[string]any) bool {
			s, ok := r[c.name].(string)
			return ok && fn(s, arg.(string))
		}
	}
	c := p.column(tok)
	op := p.next()
	lit := p.next()
	if p.failed != nil {
		return never
	}
	if !slices.Contains([]string{"eq", "ne", "gt", "ge", "lt", "le"}, op) {
		p.failed = fmt.Errorf("unknown operator %q", op)
		return never
	}
	v, err := parseLiteral(c, lit)
	if err != nil {
		p.failed = err
		return never
	}
	col := *c
	neSQL := p.neSQL
	return func(r map[string]any) bool {
		rv := r[col.name]
		if rv == nil || v == nil {
			switch op {
			case "eq":
				return rv == nil && v == nil
			case "ne":
				if neSQL && rv == nil {
					return false
				}
				return !(rv == nil && v == nil)
			}
			return false
		}
		c := cmpVal(&col, rv, v)
		switch op {
		case "eq":
			return c == 0
		case "ne":
			return c != 0
		case "gt":
			return c > 0
		case "ge":
			return c >= 0
		case "lt":
			return c < 0
		case "le":
			return c <= 0
		}
		return false
	}
}
