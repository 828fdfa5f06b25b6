package odata

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEntity(t *testing.T) {
	cases := []struct {
		body    string
		members string // name=raw pairs joined by ';'
		errMsg  string // substring of the error; "" for success
		offset  int
	}{
		{`{}`, "", "", 0},
		{` {"a":1, "b" : "x\"y", "c":null, "d":[1,{"e":2}]} `, `a=1;b="x\"y";c=null;d=[1,{"e":2}]`, "", 0},
		{`{"@odata.etag":"W/\"1\"","Name@odata.type":"String"}`, `@odata.etag="W/\"1\"";Name@odata.type="String"`, "", 0},
		{`{"CustomerID":"X1",`, "", "malformed JSON: unexpected end of input", 19},
		{`{"CustomerID" "X1"}`, "", "malformed JSON: expected colon after object key", 14},
		{`["CustomerID"]`, "", "expected a JSON object", 0},
		{`"x"`, "", "expected a JSON object", 0},
		{"\n  [1]", "", "expected a JSON object", 3},
		{``, "", "unexpected end of input", 0},
		{`{"a":1} {}`, "", "unexpected data after the JSON object", 9},
		{`{"a":1,"a":2}`, "", `property "a" appears twice`, 12},
		{`{"a":1,}`, "", "malformed JSON", 7},
		// Text a JSON decoder would silently turn into U+FFFD is refused.
		{"{\"a\":\"x\xffy\"}", "", `the value of "a" is not valid UTF-8`, 7},
		{"{\"a\":[\"ok\",{\"b\":\"\xc0\xaf\"}]}", "", `the value of "a" is not valid UTF-8`, 17},
		{"{\"a\":\"\xed\xa0\x80\"}", "", `the value of "a" is not valid UTF-8`, 6}, // a surrogate in UTF-8
		{"{\"a\xff\":1}", "", "a member name is not valid UTF-8", 3},
		{"{\"a\":1,\"b\xff\":2}", "", "a member name is not valid UTF-8", 9},
		{`{"a":"\ud800"}`, "", `the value of "a" contains an unpaired surrogate escape (\ud800)`, 6},
		{`{"a":"\udc00x"}`, "", `contains an unpaired surrogate escape (\udc00)`, 6},
		{`{"a":"\uD800\u0041"}`, "", `contains an unpaired surrogate escape (\uD800)`, 6},
		{`{"\ud800":1}`, "", `a member name contains an unpaired surrogate escape`, 2},
		{`{"a":"\ud83d\ude00 \\ud800 日本"}`, `a="\ud83d\ude00 \\ud800 日本"`, "", 0}, // a pair; an escaped backslash
	}
	for _, tc := range cases {
		ent, err := ParseEntity([]byte(tc.body))
		if tc.errMsg != "" {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Option != "body" || !strings.Contains(se.Msg, tc.errMsg) || se.Offset != tc.offset {
				t.Errorf("ParseEntity(%q) error %#v, want %q at byte %d", tc.body, err, tc.errMsg, tc.offset)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEntity(%q): %v", tc.body, err)
			continue
		}
		var parts []string
		for _, m := range ent.Members {
			parts = append(parts, m.Name+"="+string(m.Value))
		}
		if got := strings.Join(parts, ";"); got != tc.members {
			t.Errorf("ParseEntity(%q) = %s, want %s", tc.body, got, tc.members)
		}
	}
	err := &SyntaxError{Option: "body", Offset: 14, Msg: "malformed JSON"}
	if got := err.Error(); got != "request body, byte 14: malformed JSON" {
		t.Errorf("Error() = %q", got)
	}
}

func TestFormatKey(t *testing.T) {
	str := &Literal{Kind: StringLit, Value: "O'Brien/1 2"}
	num := &Literal{Kind: IntLit, Value: "10248"}
	bin := &Literal{Kind: BinaryLit, Value: "\xfb\xff"}
	cases := []struct {
		parts  []KeyPart
		escape bool
		want   string
	}{
		{[]KeyPart{{Value: num}}, false, "10248"},
		{[]KeyPart{{Value: str}}, false, "'O''Brien/1 2'"},
		{[]KeyPart{{Value: str}}, true, "%27O%27%27Brien%2F1%202%27"},
		{[]KeyPart{{Name: "order_id", Value: num}, {Name: "sku", Value: str}}, false, "order_id=10248,sku='O''Brien/1 2'"},
		{[]KeyPart{{Name: "order_id", Value: num}, {Name: "line", Value: bin}}, true, "order_id=10248,line=binary%27-_8%27"},
	}
	for _, tc := range cases {
		if got := FormatKey(tc.parts, tc.escape); got != tc.want {
			t.Errorf("FormatKey(%v, %v) = %s, want %s", tc.parts, tc.escape, got, tc.want)
		}
	}
	// An escaped key predicate parses back to the same key.
	p, err := parsePath("/Lines("+FormatKey(cases[4].parts, true)+")", nil)
	if err != nil || len(p.Key) != 2 || p.Key[1].Value.(*Literal).Value != "\xfb\xff" {
		t.Errorf("round trip: %+v %v", p, err)
	}
}

func TestOptionsEncode(t *testing.T) {
	req, err := ParseRequest("/Orders", "$top=50&x=1&$skip=10&$select=A,B&$filter=Name%20eq%20%27a%26b%27&@p=%27%C3%A9%27&$count=true&$skiptoken=abc&$orderby=A desc")
	if err != nil {
		t.Fatal(err)
	}
	got := req.Options.Encode("$skip", "$skiptoken")
	want := "$filter=Name%20eq%20'a%26b'&$orderby=A%20desc&$select=A,B&$count=true&$top=50&@p='%C3%A9'&x=1"
	if got != want {
		t.Errorf("Encode = %s\nwant     %s", got, want)
	}
	// What Encode prints parses back to the same options.
	again, err := ParseRequest("/Orders", got)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range req.Options.Raw {
		if k == "$skip" || k == "$skiptoken" {
			continue
		}
		if again.Options.Raw[k] != v {
			t.Errorf("%s: %q after the round trip, was %q", k, again.Options.Raw[k], v)
		}
	}
	if (&Options{}).Encode() != "" {
		t.Error("no options must encode to nothing")
	}
}

func TestParseEntityRef(t *testing.T) {
	for _, tt := range []struct {
		body, want, err string
	}{
		{`{"@odata.id":"Customers('ALFKI')"}`, "Customers('ALFKI')", ""},
		{`{"@odata.context":"http://h/odata/$metadata#$ref","@odata.id":"http://h/odata/Orders(1)"}`, "http://h/odata/Orders(1)", ""},
		{`{"@id":"Orders(1)"}`, "Orders(1)", ""},
		{`{"@id":"Orders(1)","@odata.id":"Orders(1)"}`, "Orders(1)", ""},
		{`{"@id":"Orders(1)","@odata.id":"Orders(2)"}`, "", "@odata.id and @id name different entities"},
		{`{}`, "", "the entity reference has no @odata.id"},
		{`{"@odata.id":5}`, "", "@odata.id must be a non-empty string"},
		{`{"@odata.id":""}`, "", "@odata.id must be a non-empty string"},
		{`{"@odata.id":null}`, "", "@odata.id must be a non-empty string"},
		{`{"@odata.id":"Orders(1)","OrderID":1}`, "", `an entity reference has no properties (found "OrderID")`},
		{`["Orders(1)"]`, "", "expected a JSON object"},
		{`{"@odata.id":"Orders(1)"`, "", "malformed JSON"},
	} {
		got, err := ParseEntityRef([]byte(tt.body))
		var se *SyntaxError
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("%s: got %q, %v; want %q", tt.body, got, err, tt.want)
		case tt.err != "" && (!errors.As(err, &se) || se.Option != "body" || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: got %q, %v; want error %q", tt.body, got, err, tt.err)
		}
	}
	// $id is parsed for DELETE …/$ref (an empty one is a syntax error).
	req, err := ParseRequest("/Customers('A')/Orders/$ref", "$id=Orders(1)")
	if err != nil || req.Options.ID != "Orders(1)" || len(req.Options.Unsupported) != 0 {
		t.Errorf("$id: %+v, %v", req, err)
	}
	if _, err := ParseRequest("/Customers('A')/Orders/$ref", "$id="); err == nil {
		t.Errorf("empty $id accepted")
	}
}
