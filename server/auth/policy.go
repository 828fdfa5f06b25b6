package auth

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Op is an operation on an entity set.
type Op int

// Operations.
const (
	Read Op = iota
	Insert
	Update
	Delete
)

var opNames = [...]string{"read", "insert", "update", "delete"}

func (o Op) String() string { return opNames[o] }

// PolicyConfig is the YAML-friendly authorization configuration.
//
//	sets:
//	  "*":                       # rules for every set
//	    grants:
//	      - {to: ["role:reader", "scope:odata.read"], ops: [read]}
//	  Orders:
//	    grants:
//	      - {to: ["role:sales", "claim:dept=sales"], ops: [read, insert, update]}
//	      - {to: ["user:admin"], ops: [all]}
//	    properties:
//	      - {names: [Margin], read: ["role:finance"], write: [nobody]}
//	    row_filters:
//	      - {to: ["role:sales"], filter: "Country eq {claim:country}"}
//
// Subjects ("to", "read", "write") are "user:NAME", "role:NAME",
// "scope:NAME", "claim:NAME=VALUE" (a scalar claim equal to VALUE, or an
// array claim containing it), "*" (every principal) and "nobody".
// Ops are read, insert, update, delete, write (= insert, update, delete) and
// all.
type PolicyConfig struct {
	// Sets maps an entity set name (case-sensitive) or "*" to its rules.
	// Rules of "*" apply to every set in addition to the set's own.
	Sets map[string]SetRules `yaml:"sets"`
}

// SetRules are the authorization rules of one entity set (or of "*").
type SetRules struct {
	Grants     []Grant        `yaml:"grants"`
	Properties []PropertyRule `yaml:"properties"`
	RowFilters []RowFilter    `yaml:"row_filters"`
}

// Grant gives operations to subjects.
type Grant struct {
	To  []string `yaml:"to"`
	Ops []string `yaml:"ops"`
}

// PropertyRule restricts properties: when Read is non-empty only matching
// principals see them (for the others they are hidden: not selected, not
// filterable); when Write is non-empty only matching principals may set them.
type PropertyRule struct {
	Names []string `yaml:"names"`
	Read  []string `yaml:"read"`
	Write []string `yaml:"write"`
}

// RowFilter restricts the rows principals matching To may see and write.
// Filter is an OData $filter expression in which "{claim:NAME}" stands for
// the value of the principal's claim NAME (a dotted NAME reaches into nested
// claims) and "{user}" for the principal's name. Placeholders are turned
// into parameter aliases before parsing, so values are never spliced into
// the text; they must stand where a value may (not inside a string literal).
type RowFilter struct {
	To     []string `yaml:"to"`
	Filter string   `yaml:"filter"`
}

// Policy answers authorization questions. It is immutable and safe for
// concurrent use.
//
// Decisions when authentication is configured (anyAuth):
//   - Insert, update and delete are denied unless a grant of the set or of
//     "*" gives them to the principal.
//   - Read is allowed to every principal unless some grant of the set or of
//     "*" mentions read; then only to the grantees.
//   - Row filters of the set and of "*" matching the principal are ANDed.
//
// When no authentication is configured (every caller is Anonymous),
// everything is allowed, nothing is hidden and no row filter applies.
type Policy struct {
	anyAuth bool
	sets    map[string]*setPolicy
}

type setPolicy struct {
	grants     []grant
	readGrants bool // some grant mentions read
	props      []propRule
	filters    []rowFilter
}

type grant struct {
	to  []subject
	ops [4]bool
}

type propRule struct {
	names        []string
	read, write  []subject
	restrictRead bool
	restrictWrit bool
}

type rowFilter struct {
	to     []subject
	text   string     // as configured (for messages)
	expr   odata.Expr // parsed once
	params []param    // alias -> source of its value
}

// param is one placeholder: alias name (without '@') and where its value
// comes from: a claim (dotted path allowed) or the principal's name.
type param struct {
	alias string
	claim string // "" for {user}
}

type subject struct {
	kind  string // "user", "role", "scope", "claim", "*", "nobody"
	name  string
	value string // claim value
}

// NewPolicy validates cfg and parses every row filter once. Names of sets
// and properties are checked later against a model with Check.
func NewPolicy(cfg PolicyConfig, anyAuth bool) (*Policy, error) {
	p := &Policy{anyAuth: anyAuth, sets: map[string]*setPolicy{}}
	for name, rules := range cfg.Sets {
		where := "authorization set " + strconv.Quote(name)
		sp := &setPolicy{}
		for i, g := range rules.Grants {
			gw := fmt.Sprintf("%s grant #%d", where, i+1)
			to, err := parseSubjects(gw, g.To)
			if err != nil {
				return nil, err
			}
			var gr grant
			gr.to = to
			if len(g.Ops) == 0 {
				return nil, fmt.Errorf("auth: %s: no ops", gw)
			}
			for _, o := range g.Ops {
				switch strings.ToLower(o) {
				case "read":
					gr.ops[Read] = true
				case "insert":
					gr.ops[Insert] = true
				case "update":
					gr.ops[Update] = true
				case "delete":
					gr.ops[Delete] = true
				case "write":
					gr.ops[Insert], gr.ops[Update], gr.ops[Delete] = true, true, true
				case "all", "*":
					gr.ops = [4]bool{true, true, true, true}
				default:
					return nil, fmt.Errorf("auth: %s: unknown op %q (read, insert, update, delete, write, all)", gw, o)
				}
			}
			if gr.ops[Read] {
				sp.readGrants = true
			}
			sp.grants = append(sp.grants, gr)
		}
		for i, pr := range rules.Properties {
			pw := fmt.Sprintf("%s property rule #%d", where, i+1)
			if len(pr.Names) == 0 {
				return nil, fmt.Errorf("auth: %s: no property names", pw)
			}
			read, err := parseSubjects(pw, pr.Read)
			if err != nil {
				return nil, err
			}
			write, err := parseSubjects(pw, pr.Write)
			if err != nil {
				return nil, err
			}
			sp.props = append(sp.props, propRule{names: pr.Names, read: read, write: write,
				restrictRead: len(read) > 0, restrictWrit: len(write) > 0})
		}
		for i, rf := range rules.RowFilters {
			fw := fmt.Sprintf("%s row filter #%d", where, i+1)
			to, err := parseSubjects(fw, rf.To)
			if err != nil {
				return nil, err
			}
			if len(to) == 0 {
				return nil, fmt.Errorf("auth: %s: no subjects (to)", fw)
			}
			f, err := parseRowFilter(rf.Filter)
			if err != nil {
				return nil, fmt.Errorf("auth: %s: %w", fw, err)
			}
			f.to = to
			sp.filters = append(sp.filters, f)
		}
		p.sets[name] = sp
	}
	return p, nil
}

func parseSubjects(where string, list []string) ([]subject, error) {
	out := make([]subject, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		switch s {
		case "*", "nobody":
			out = append(out, subject{kind: s})
			continue
		}
		kind, rest, ok := strings.Cut(s, ":")
		if !ok || rest == "" {
			return nil, fmt.Errorf("auth: %s: bad subject %q (user:, role:, scope:, claim:NAME=VALUE, *, nobody)", where, s)
		}
		switch kind {
		case "user", "role", "scope":
			out = append(out, subject{kind: kind, name: rest})
		case "claim":
			name, value, ok := strings.Cut(rest, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("auth: %s: bad claim subject %q (want claim:NAME=VALUE)", where, s)
			}
			out = append(out, subject{kind: kind, name: name, value: value})
		default:
			return nil, fmt.Errorf("auth: %s: bad subject %q (user:, role:, scope:, claim:NAME=VALUE, *, nobody)", where, s)
		}
	}
	return out, nil
}

func (s subject) matches(p *Principal) bool {
	switch s.kind {
	case "*":
		return true
	case "user":
		return p.Name == s.name
	case "role":
		return p.HasRole(s.name)
	case "scope":
		return p.HasScope(s.name)
	case "claim":
		if p.Claims == nil {
			return false
		}
		v := lookupClaim(p.Claims, s.name)
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if str, ok := claimString(e); ok && str == s.value {
					return true
				}
			}
			return false
		}
		str, ok := claimString(v)
		return ok && str == s.value
	}
	return false // "nobody"
}

func matchesAny(list []subject, p *Principal) bool {
	for _, s := range list {
		if s.matches(p) {
			return true
		}
	}
	return false
}

// parseRowFilter replaces placeholders by aliases (@claim_1, ...) and parses
// the result once.
func parseRowFilter(text string) (rowFilter, error) {
	f := rowFilter{text: text}
	var sb strings.Builder
	aliasOf := map[string]string{} // placeholder -> alias
	rest := text
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			sb.WriteString(rest)
			break
		}
		sb.WriteString(rest[:i])
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return f, errors.New("unterminated placeholder")
		}
		ph := rest[i+1 : i+j]
		rest = rest[i+j+1:]
		var claim string
		switch {
		case ph == "user":
		case strings.HasPrefix(ph, "claim:") && len(ph) > len("claim:"):
			claim = ph[len("claim:"):]
		default:
			return f, fmt.Errorf("unknown placeholder {%s} (want {claim:NAME} or {user})", ph)
		}
		alias, ok := aliasOf[ph]
		if !ok {
			alias = "claim_" + strconv.Itoa(len(aliasOf)+1)
			if claim == "" {
				alias = "user_name"
			}
			aliasOf[ph] = alias
			f.params = append(f.params, param{alias: alias, claim: claim})
		}
		sb.WriteString(" @" + alias + " ")
	}
	expr, err := odata.ParseFilter(sb.String())
	if err != nil {
		return f, err
	}
	used := map[string]bool{}
	collectAliasNames(expr, used)
	for _, pm := range f.params {
		if !used[pm.alias] {
			return f, errors.New("a placeholder must stand where a value may, not inside a string literal")
		}
	}
	for name := range used {
		if !slices.ContainsFunc(f.params, func(pm param) bool { return pm.alias == name }) {
			return f, fmt.Errorf("parameter alias @%s is not allowed in a row filter (use {claim:NAME})", name)
		}
	}
	f.expr = expr
	return f, nil
}

func collectAliasNames(e odata.Expr, seen map[string]bool) {
	switch n := e.(type) {
	case *odata.Alias:
		seen[n.Name] = true
	case *odata.Binary:
		collectAliasNames(n.X, seen)
		collectAliasNames(n.Y, seen)
	case *odata.Unary:
		collectAliasNames(n.X, seen)
	case *odata.Call:
		for _, a := range n.Args {
			collectAliasNames(a, seen)
		}
	case *odata.In:
		collectAliasNames(n.X, seen)
		for _, a := range n.List {
			collectAliasNames(a, seen)
		}
	case *odata.Lambda:
		if n.Body != nil {
			collectAliasNames(n.Body, seen)
		}
	}
}

// rulesFor returns the set's rules followed by those of "*".
func (p *Policy) rulesFor(set string) []*setPolicy {
	var out []*setPolicy
	if sp := p.sets[set]; sp != nil {
		out = append(out, sp)
	}
	if sp := p.sets["*"]; sp != nil && set != "*" {
		out = append(out, sp)
	}
	return out
}

// Allow reports whether pr may perform op on the entity set named set (see
// Policy for the rules). A nil principal is denied when authentication is
// configured.
func (p *Policy) Allow(pr *Principal, set string, op Op) bool {
	if !p.anyAuth {
		return true
	}
	if pr == nil {
		return false
	}
	rules := p.rulesFor(set)
	if op == Read && !slices.ContainsFunc(rules, func(sp *setPolicy) bool { return sp.readGrants }) {
		return true
	}
	for _, sp := range rules {
		for _, g := range sp.grants {
			if g.ops[op] && matchesAny(g.to, pr) {
				return true
			}
		}
	}
	return false
}

// Forbidden returns the 403 *Error the server sends when Allow is false.
func Forbidden(pr *Principal, set string, op Op) *Error {
	name := "<nil>"
	if pr != nil {
		name = pr.Name
	}
	return &Error{Status: http.StatusForbidden, Code: "Forbidden",
		Msg:    fmt.Sprintf("not allowed to %s %s", op, set),
		Reason: fmt.Sprintf("principal %q has no %s grant on %s", name, op, set)}
}

// HiddenProperties returns the names of the properties of set that pr may
// not read (nil when none). The server leaves them out of responses and
// $metadata-independent checks: a $select, $filter or $orderby naming one is
// answered as if the property did not exist.
func (p *Policy) HiddenProperties(pr *Principal, set string) map[string]bool {
	return p.restricted(pr, set, func(r propRule) ([]subject, bool) { return r.read, r.restrictRead })
}

// ReadOnlyProperties returns the names of the properties of set that pr may
// not write (nil when none); a write payload containing one is answered 403.
// Hidden properties are not implicitly read-only; configure both if needed.
func (p *Policy) ReadOnlyProperties(pr *Principal, set string) map[string]bool {
	return p.restricted(pr, set, func(r propRule) ([]subject, bool) { return r.write, r.restrictWrit })
}

func (p *Policy) restricted(pr *Principal, set string, pick func(propRule) ([]subject, bool)) map[string]bool {
	if !p.anyAuth {
		return nil
	}
	var out map[string]bool
	for _, sp := range p.rulesFor(set) {
		for _, r := range sp.props {
			subs, on := pick(r)
			if !on || (pr != nil && matchesAny(subs, pr)) {
				continue
			}
			if out == nil {
				out = map[string]bool{}
			}
			for _, n := range r.names {
				out[n] = true
			}
		}
	}
	return out
}

// RowFilter returns the restriction for pr on set: the AND of the row
// filters of set and of "*" whose subjects match pr, bound to set with the
// principal's claim values as String parameters (the binder converts them
// to the compared property's type). It returns nil, nil when no filter
// applies (or no authentication is configured). The server stores the result
// in semantic.Query.Restrict / the adapters' write Restrict.
//
// A required claim that is missing, not a scalar, or whose value does not
// convert to the compared property's type denies access: the error is a 403
// *Error (Reason names the claim, never its value). Other binding errors
// mean the policy does not fit the model (Check reports them at startup) and
// are returned as a 403 *Error as well (fail closed).
func (p *Policy) RowFilter(pr *Principal, set *metadata.EntitySet) (semantic.Expr, error) {
	if !p.anyAuth {
		return nil, nil
	}
	var out semantic.Expr
	for _, sp := range p.rulesFor(set.Name) {
		for _, f := range sp.filters {
			if pr == nil || !matchesAny(f.to, pr) {
				continue
			}
			params := make(map[string]semantic.Const, len(f.params))
			for _, pm := range f.params {
				var v string
				var ok bool
				if pm.claim == "" {
					v, ok = pr.Name, pr.Name != ""
				} else if pr.Claims != nil {
					v, ok = claimString(lookupClaim(pr.Claims, pm.claim))
				}
				if !ok {
					return nil, rowFilterDenied(set.Name, fmt.Sprintf("row filter %q needs claim %q, which principal %q lacks or is not a scalar", f.text, pm.claim, pr.Name))
				}
				params[pm.alias] = semantic.Const{T: metadata.String, V: v}
			}
			e, err := semantic.BindFilter(set, f.expr, semantic.Limits{}, params)
			if err != nil {
				return nil, rowFilterDenied(set.Name, fmt.Sprintf("row filter %q for principal %q does not bind: %s", f.text, pr.Name, bindMsg(err)))
			}
			if out == nil {
				out = e
			} else {
				out = &semantic.Logical{L: out, R: e}
			}
		}
	}
	return out, nil
}

// bindMsg reports a binding error without echoing constant values.
func bindMsg(err error) string {
	var be *semantic.Error
	if errors.As(err, &be) {
		if be.Target != "" {
			return "cannot bind " + be.Target
		}
		return fmt.Sprintf("binding error at %s:%d", be.Option, be.Span.Start+1)
	}
	return "binding error"
}

func rowFilterDenied(set, reason string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "Forbidden",
		Msg: "not allowed to access " + set, Reason: reason}
}

// Check validates the policy against a model: every named set exists, every
// property named in a property rule exists in its set (for "*" rules: in
// every set of the model), and every row filter binds to its set (for "*":
// to every set) with sample values for its placeholders (see checkRowFilter).
// Errors are joined, in set-name order. The
// composition root calls it at startup and after each model reload and
// refuses a policy that does not fit.
func (p *Policy) Check(m *metadata.Model) error {
	var errs []error
	names := make([]string, 0, len(p.sets))
	for name := range p.sets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		sp := p.sets[name]
		sets := m.Sets
		if name != "*" {
			s := m.Set(name)
			if s == nil {
				errs = append(errs, fmt.Errorf("auth: authorization set %q: no such entity set", name))
				continue
			}
			sets = []*metadata.EntitySet{s}
		}
		for _, s := range sets {
			for _, r := range sp.props {
				for _, n := range r.names {
					if s.Property(n) == nil {
						errs = append(errs, fmt.Errorf("auth: authorization set %q: property rule names %s, which %s lacks", name, n, s.Name))
					}
				}
			}
			for _, f := range sp.filters {
				if err := checkRowFilter(s, f); err != nil {
					errs = append(errs, fmt.Errorf("auth: authorization set %q: row filter %q on %s: %w", name, f.text, s.Name, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// sampleValues are tried for each placeholder by checkRowFilter: one of them
// converts to every Edm type a claim can sensibly be compared with.
var sampleValues = []string{"0", "true", "2000-01-01", "2000-01-01T00:00:00Z", "00:00:00", "P1D",
	"00000000-0000-0000-0000-000000000000", "x"}

// checkRowFilter binds f to set: first with every placeholder null (names
// and structure), then each placeholder in turn with the first sample value
// that binds (others null), then all chosen samples together (types: a
// placeholder used where no String value can go, e.g. "OwnerID add
// {claim:x}", fails here).
func checkRowFilter(set *metadata.EntitySet, f rowFilter) error {
	params := make(map[string]semantic.Const, len(f.params))
	for _, pm := range f.params {
		params[pm.alias] = semantic.Const{Null: true}
	}
	if _, err := semantic.BindFilter(set, f.expr, semantic.Limits{}, params); err != nil {
		return err
	}
	chosen := make(map[string]semantic.Const, len(f.params))
	for _, pm := range f.params {
		var lastErr error
		for _, v := range sampleValues {
			params[pm.alias] = semantic.Const{T: metadata.String, V: v}
			_, lastErr = semantic.BindFilter(set, f.expr, semantic.Limits{}, params)
			if lastErr == nil {
				chosen[pm.alias] = params[pm.alias]
				break
			}
		}
		params[pm.alias] = semantic.Const{Null: true}
		if lastErr != nil {
			ph := "{user}"
			if pm.claim != "" {
				ph = "{claim:" + pm.claim + "}"
			}
			return fmt.Errorf("placeholder %s cannot take a value here: %w", ph, lastErr)
		}
	}
	_, err := semantic.BindFilter(set, f.expr, semantic.Limits{}, chosen)
	return err
}
