package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

func policyModel() *metadata.Model {
	prop := func(name string, t metadata.Type) *metadata.Property {
		return &metadata.Property{Name: name, Column: strings.ToLower(name), Type: t, Nullable: true}
	}
	oid := prop("OrderID", metadata.Int64)
	oid.Nullable = false
	orders := &metadata.EntitySet{Name: "Orders", Table: "orders", Kind: metadata.KindTable,
		Properties: []*metadata.Property{oid, prop("Country", metadata.String), prop("Dept", metadata.String),
			prop("OwnerID", metadata.Int32), prop("Amount", metadata.Decimal), prop("Margin", metadata.Decimal)},
		Key: []*metadata.Property{oid}}
	cid := prop("CustomerID", metadata.String)
	cid.Nullable = false
	customers := &metadata.EntitySet{Name: "Customers", Table: "customers", Kind: metadata.KindTable,
		Properties: []*metadata.Property{cid, prop("Country", metadata.String), prop("Name", metadata.String)},
		Key:        []*metadata.Property{cid}}
	return metadata.NewModel("odatagw", nil, orders, customers)
}

func testPolicyConfig() PolicyConfig {
	return PolicyConfig{Sets: map[string]SetRules{
		"*": {
			Grants: []Grant{{To: []string{"role:admin"}, Ops: []string{"all"}}},
			RowFilters: []RowFilter{{To: []string{"role:regional"},
				Filter: "Country eq {claim:country}"}},
		},
		"Orders": {
			Grants: []Grant{
				{To: []string{"role:sales", "claim:dept=sales"}, Ops: []string{"read", "insert", "update"}},
				{To: []string{"scope:orders.write"}, Ops: []string{"write"}},
				{To: []string{"user:auditor"}, Ops: []string{"read"}},
			},
			Properties: []PropertyRule{
				{Names: []string{"Margin"}, Read: []string{"role:finance", "role:admin"}, Write: []string{"nobody"}},
				{Names: []string{"Amount"}, Write: []string{"role:finance"}},
			},
			RowFilters: []RowFilter{
				{To: []string{"role:owner"}, Filter: "OwnerID eq {claim:owner_id} and Dept ne {user}"},
			},
		},
	}}
}

func mustPolicy(t *testing.T, cfg PolicyConfig, anyAuth bool) *Policy {
	t.Helper()
	p, err := NewPolicy(cfg, anyAuth)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

func TestPolicyAllow(t *testing.T) {
	p := mustPolicy(t, testPolicyConfig(), true)
	alice := &Principal{Name: "alice", Method: MethodBasic, Roles: []string{"sales"}}
	admin := &Principal{Name: "root", Method: MethodBasic, Roles: []string{"admin"}}
	writer := &Principal{Name: "svc", Method: MethodJWT, Scopes: []string{"orders.write"}}
	deptSales := &Principal{Name: "bob", Method: MethodJWT, Claims: map[string]any{"dept": "sales"}}
	deptArray := &Principal{Name: "carl", Method: MethodJWT, Claims: map[string]any{"dept": []any{"hr", "sales"}}}
	deptOther := &Principal{Name: "dora", Method: MethodJWT, Claims: map[string]any{"dept": "hr"}}
	auditor := &Principal{Name: "auditor", Method: MethodAPIKey}
	nobody := &Principal{Name: "eve", Method: MethodAPIKey, Roles: []string{"guest"}}
	type c struct {
		pr   *Principal
		set  string
		op   Op
		want bool
	}
	tests := []struct {
		name  string
		cases []c
	}{
		{"role grant", []c{{alice, "Orders", Read, true}, {alice, "Orders", Insert, true}, {alice, "Orders", Update, true}, {alice, "Orders", Delete, false}}},
		{"claim grant", []c{{deptSales, "Orders", Insert, true}, {deptArray, "Orders", Update, true}, {deptOther, "Orders", Insert, false}}},
		{"scope grant (write = insert, update, delete)", []c{{writer, "Orders", Insert, true}, {writer, "Orders", Delete, true}, {writer, "Orders", Read, false}}},
		{"user grant", []c{{auditor, "Orders", Read, true}, {auditor, "Orders", Update, false}}},
		{"star grant applies to every set", []c{{admin, "Orders", Delete, true}, {admin, "Customers", Insert, true}, {admin, "Anything", Read, true}}},
		{"reads restricted where read is granted", []c{{nobody, "Orders", Read, false}, {deptOther, "Orders", Read, false}}},
		{"writes denied by default", []c{{nobody, "Customers", Insert, false}, {nobody, "Customers", Update, false}, {nobody, "Customers", Delete, false}, {alice, "Customers", Insert, false}}},
		{"nil principal", []c{{nil, "Orders", Read, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range tc.cases {
				if got := p.Allow(k.pr, k.set, k.op); got != k.want {
					name := "<nil>"
					if k.pr != nil {
						name = k.pr.Name
					}
					t.Errorf("Allow(%s, %s, %s) = %v, want %v", name, k.set, k.op, got, k.want)
				}
			}
		})
	}
	// Without any read grant, reads are open to every principal but writes are not.
	open := mustPolicy(t, PolicyConfig{}, true)
	if !open.Allow(nobody, "Customers", Read) || open.Allow(nobody, "Customers", Insert) {
		t.Fatal("empty policy with auth: want read allowed, insert denied")
	}
	fe := Forbidden(nobody, "Customers", Insert)
	if fe.Status != http.StatusForbidden || fe.Code != "Forbidden" || !strings.Contains(fe.Msg, "insert Customers") {
		t.Fatalf("Forbidden = %+v", fe)
	}
}

func TestPolicyNoAuth(t *testing.T) {
	p := mustPolicy(t, testPolicyConfig(), false)
	m := policyModel()
	for _, op := range []Op{Read, Insert, Update, Delete} {
		if !p.Allow(Anonymous, "Orders", op) {
			t.Fatalf("no auth: %s denied", op)
		}
	}
	if h := p.HiddenProperties(Anonymous, "Orders"); h != nil {
		t.Fatalf("hidden %v", h)
	}
	if e, err := p.RowFilter(Anonymous, m.Set("Orders")); e != nil || err != nil {
		t.Fatalf("row filter %v %v", e, err)
	}
}

func TestPropertyRules(t *testing.T) {
	p := mustPolicy(t, testPolicyConfig(), true)
	tests := []struct {
		pr           *Principal
		wantHidden   string
		wantReadOnly string
	}{
		{&Principal{Name: "a", Roles: []string{"sales"}}, "Margin", "Amount,Margin"},
		{&Principal{Name: "f", Roles: []string{"finance"}}, "", "Margin"},
		{&Principal{Name: "r", Roles: []string{"admin"}}, "", "Amount,Margin"},
	}
	keys := func(m map[string]bool) string {
		var out []string
		for _, n := range []string{"Amount", "Margin"} {
			if m[n] {
				out = append(out, n)
			}
		}
		return strings.Join(out, ",")
	}
	for _, tc := range tests {
		if got := keys(p.HiddenProperties(tc.pr, "Orders")); got != tc.wantHidden {
			t.Errorf("%s hidden = %q, want %q", tc.pr.Name, got, tc.wantHidden)
		}
		if got := keys(p.ReadOnlyProperties(tc.pr, "Orders")); got != tc.wantReadOnly {
			t.Errorf("%s read-only = %q, want %q", tc.pr.Name, got, tc.wantReadOnly)
		}
		if h := p.HiddenProperties(tc.pr, "Customers"); h != nil {
			t.Errorf("Customers hidden %v", h)
		}
	}
}

// compareConst returns the constant of a "Prop op Const" comparison.
func compareConst(t *testing.T, e semantic.Expr) *semantic.Const {
	t.Helper()
	cmp, ok := e.(*semantic.Compare)
	if !ok {
		t.Fatalf("want *semantic.Compare, got %T (%s)", e, semantic.Format(e))
	}
	c, ok := cmp.R.(*semantic.Const)
	if !ok {
		t.Fatalf("right operand %T", cmp.R)
	}
	return c
}

func TestRowFilter(t *testing.T) {
	p := mustPolicy(t, testPolicyConfig(), true)
	m := policyModel()
	orders, customers := m.Set("Orders"), m.Set("Customers")
	const injection = "x' or 1 eq 1 or 'a"

	t.Run("claim value stays one string constant", func(t *testing.T) {
		for _, v := range []string{"DE", injection, "{claim:country}", "@claim_1", "O'Brien) or (1 eq 1"} {
			pr := &Principal{Name: "r", Roles: []string{"regional"}, Claims: map[string]any{"country": v}}
			e, err := p.RowFilter(pr, customers)
			if err != nil {
				t.Fatal(err)
			}
			c := compareConst(t, e)
			if c.T != metadata.String || c.V != v || c.Null {
				t.Fatalf("value %q bound as %+v", v, c)
			}
			if cmp := e.(*semantic.Compare); cmp.Op != semantic.Eq {
				t.Fatalf("operator %v", cmp.Op)
			}
		}
	})
	tests := []struct {
		name    string
		pr      *Principal
		set     *metadata.EntitySet
		want    string // semantic.Format of the result; "" = nil
		wantErr string // substring of the 403 Reason
	}{
		{"no matching filter", &Principal{Name: "a", Roles: []string{"sales"}}, orders, "", ""},
		{"star filter on Orders", &Principal{Name: "r", Roles: []string{"regional"}, Claims: map[string]any{"country": "FR"}}, orders,
			"(Country eq 'FR':String)", ""},
		{"numeric claim converted to the property type", &Principal{Name: "o", Roles: []string{"owner"}, Claims: map[string]any{"owner_id": json.Number("42")}}, orders,
			"((OwnerID eq 42:Int32) and (Dept ne 'o':String))", ""},
		{"string claim converted", &Principal{Name: "o", Roles: []string{"owner"}, Claims: map[string]any{"owner_id": "7"}}, orders,
			"((OwnerID eq 7:Int32) and (Dept ne 'o':String))", ""},
		{"two filters are ANDed", &Principal{Name: "o", Roles: []string{"owner", "regional"}, Claims: map[string]any{"owner_id": json.Number("1"), "country": "IT"}}, orders,
			"(((OwnerID eq 1:Int32) and (Dept ne 'o':String)) and (Country eq 'IT':String))", ""},
		{"missing claim denies", &Principal{Name: "r", Roles: []string{"regional"}, Claims: map[string]any{}}, customers, "", `needs claim "country"`},
		{"no claims at all denies", &Principal{Name: "r", Method: MethodBasic, Roles: []string{"regional"}}, customers, "", `needs claim "country"`},
		{"array claim denies", &Principal{Name: "r", Roles: []string{"regional"}, Claims: map[string]any{"country": []any{"DE", "FR"}}}, customers, "", "not a scalar"},
		{"unconvertible claim denies", &Principal{Name: "o", Roles: []string{"owner"}, Claims: map[string]any{"owner_id": injection}}, orders, "", "does not bind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := p.RowFilter(tc.pr, tc.set)
			if tc.wantErr != "" {
				var ae *Error
				if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || !strings.Contains(ae.Reason, tc.wantErr) {
					t.Fatalf("err = %v, want 403 with %q", err, tc.wantErr)
				}
				if e != nil {
					t.Fatal("expression returned with an error")
				}
				if strings.Contains(ae.Error(), injection) {
					t.Fatal("error echoes the claim value")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if e != nil {
				got = semantic.Format(e)
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNewPolicyErrors(t *testing.T) {
	one := func(r SetRules) PolicyConfig { return PolicyConfig{Sets: map[string]SetRules{"Orders": r}} }
	tests := []struct {
		name    string
		cfg     PolicyConfig
		wantErr string
	}{
		{"unknown op", one(SetRules{Grants: []Grant{{To: []string{"*"}, Ops: []string{"publish"}}}}), "unknown op"},
		{"no ops", one(SetRules{Grants: []Grant{{To: []string{"*"}}}}), "no ops"},
		{"bad subject", one(SetRules{Grants: []Grant{{To: []string{"group:x"}, Ops: []string{"read"}}}}), "bad subject"},
		{"bare subject", one(SetRules{Grants: []Grant{{To: []string{"alice"}, Ops: []string{"read"}}}}), "bad subject"},
		{"claim without value", one(SetRules{Grants: []Grant{{To: []string{"claim:dept"}, Ops: []string{"read"}}}}), "claim:NAME=VALUE"},
		{"property rule without names", one(SetRules{Properties: []PropertyRule{{Read: []string{"*"}}}}), "no property names"},
		{"row filter without subjects", one(SetRules{RowFilters: []RowFilter{{Filter: "Country eq 'x'"}}}), "no subjects"},
		{"unknown placeholder", one(SetRules{RowFilters: []RowFilter{{To: []string{"*"}, Filter: "Country eq {env:HOME}"}}}), "unknown placeholder"},
		{"unterminated placeholder", one(SetRules{RowFilters: []RowFilter{{To: []string{"*"}, Filter: "Country eq {claim:x"}}}), "unterminated"},
		{"placeholder inside string literal", one(SetRules{RowFilters: []RowFilter{{To: []string{"*"}, Filter: "Country eq '{claim:country}'"}}}), "string literal"},
		{"user alias", one(SetRules{RowFilters: []RowFilter{{To: []string{"*"}, Filter: "Country eq @c"}}}), "@c"},
		{"syntax error", one(SetRules{RowFilters: []RowFilter{{To: []string{"*"}, Filter: "Country eq"}}}), "$filter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPolicy(tc.cfg, true)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	m := policyModel()
	valid := []PolicyConfig{
		testPolicyConfig(),
		{Sets: map[string]SetRules{"Orders": {RowFilters: []RowFilter{{To: []string{"*"},
			Filter: "OwnerID gt {claim:o} and Country eq {claim:c} or {user} eq Dept"}}}}},
		{Sets: map[string]SetRules{"*": {RowFilters: []RowFilter{{To: []string{"*"},
			Filter: "Country in ({claim:c}, 'XX') and not startswith(Country, {claim:prefix})"}}}}},
	}
	for i, cfg := range valid {
		if err := mustPolicy(t, cfg, true).Check(m); err != nil {
			t.Fatalf("valid policy #%d: %v", i, err)
		}
	}
	tests := []struct {
		name    string
		cfg     PolicyConfig
		wantErr string
	}{
		{"unknown set", PolicyConfig{Sets: map[string]SetRules{"Ordres": {}}}, `"Ordres": no such entity set`},
		{"unknown property", PolicyConfig{Sets: map[string]SetRules{"Orders": {Properties: []PropertyRule{{Names: []string{"Profit"}}}}}}, "Profit"},
		{"star property missing in one set", PolicyConfig{Sets: map[string]SetRules{"*": {Properties: []PropertyRule{{Names: []string{"Dept"}, Read: []string{"*"}}}}}}, "Customers lacks"},
		{"row filter unknown property", PolicyConfig{Sets: map[string]SetRules{"Orders": {RowFilters: []RowFilter{{To: []string{"*"}, Filter: "Region eq {claim:region}"}}}}}, "Region"},
		{"star row filter missing property", PolicyConfig{Sets: map[string]SetRules{"*": {RowFilters: []RowFilter{{To: []string{"*"}, Filter: "OwnerID eq {claim:o}"}}}}}, "on Customers"},
		{"row filter with a lambda", PolicyConfig{Sets: map[string]SetRules{"Orders": {RowFilters: []RowFilter{{To: []string{"*"}, Filter: "Lines/any(l: l/Qty gt {claim:q})"}}}}}, "lambda operator any is not supported in a row filter"},
		{"row filter not boolean", PolicyConfig{Sets: map[string]SetRules{"Orders": {RowFilters: []RowFilter{{To: []string{"*"}, Filter: "OwnerID add {claim:o}"}}}}}, "row filter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := mustPolicy(t, tc.cfg, true).Check(m)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestPolicyWithJWT runs a real token through Authenticate and the policy:
// claim grants and row filters see the token's claims (numbers as
// json.Number).
func TestPolicyWithJWT(t *testing.T) {
	a := mustNew(t, Config{JWT: JWTConfig{HMACSecrets: []HMACKey{{Secret: testSecret}}}})
	p := mustPolicy(t, testPolicyConfig(), a.Enabled())
	m := policyModel()
	tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c jwt.MapClaims) {
		c["roles"] = []string{"owner", "regional"}
		c["dept"] = "sales"
		c["owner_id"] = 99
		c["country"] = "DE"
	}), "")
	pr, err := a.Authenticate(request(bearer(tok)))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Allow(pr, "Orders", Insert) || p.Allow(pr, "Orders", Delete) || p.Allow(pr, "Customers", Update) {
		t.Fatal("claim grant decisions wrong")
	}
	e, err := p.RowFilter(pr, m.Set("Orders"))
	if err != nil {
		t.Fatal(err)
	}
	want := "(((OwnerID eq 99:Int32) and (Dept ne 'alice@example.com':String)) and (Country eq 'DE':String))"
	if got := semantic.Format(e); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
