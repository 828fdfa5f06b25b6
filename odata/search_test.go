package odata

import (
	"strings"
	"testing"
)

var searchCases = []parseCase{
	{in: "blue", want: "blue", errAt: ok},
	{in: "ACME-01", want: "ACME-01", errAt: ok},
	{in: "Sales Marketing", want: "Sales AND Marketing", errAt: ok},
	{in: "MyProspect OR John Smith", want: "MyProspect OR John AND Smith", errAt: ok},
	{in: `"blue green"`, want: `"blue green"`, errAt: ok},
	{in: `"say \"hi\" \\ bye"`, want: `"say \"hi\" \\ bye"`, errAt: ok},
	{in: `"a\b"`, want: `"a\\b"`, errAt: ok},
	{in: "blue AND green", want: "blue AND green", errAt: ok},
	{in: "blue OR green AND red", want: "blue OR green AND red", errAt: ok},
	{in: "(blue OR green) AND red", want: "(blue OR green) AND red", errAt: ok},
	{in: "NOT blue", want: "NOT blue", errAt: ok},
	{in: "NOT NOT blue", want: "NOT NOT blue", errAt: ok},
	{in: "NOT (a OR b)", want: "NOT (a OR b)", errAt: ok},
	{in: "NOT a OR b", want: "NOT a OR b", errAt: ok},
	{in: "a AND (b AND c)", want: "a AND (b AND c)", errAt: ok},
	{in: "(foo OR that) AND (bar OR baz) AND NOT quux", want: "(foo OR that) AND (bar OR baz) AND NOT quux", errAt: ok},
	{in: "a(b)", want: "a AND b", errAt: ok},
	{in: "  padded\tterms  ", want: "padded AND terms", errAt: ok},
	{in: "not and or", want: "not AND and AND or", errAt: ok},
	{in: "AND", want: "(AND)", errAt: ok},
	{in: "a OR", want: "a AND (OR)", errAt: ok},
	{in: "NOT", want: "(NOT)", errAt: ok},
	{in: "a OR OR", want: "a OR (OR)", errAt: ok},
	{in: "AND b", want: "(AND) AND b", errAt: ok},
	{in: "email@example.com 50%", want: "email@example.com AND 50%", errAt: ok},
	{in: "O'Neil", want: "O'Neil", errAt: ok},
	{in: `"blue`, errAt: 0, errText: "unterminated"},
	{in: `""`, errAt: 0, errText: "empty"},
	{in: `"blue"green`, errAt: 6, errText: "whitespace"},
	{in: "", errAt: 0},
	{in: "   ", errAt: 3},
	{in: "(a", errAt: 2, errText: "')'"},
	{in: "a)", errAt: 1},
	{in: "()", errAt: 1},
	{in: strings.Repeat("(", 300) + "a" + strings.Repeat(")", 300), errAt: 256, errText: "nested"},
}

func TestParseSearch(t *testing.T) {
	for _, c := range searchCases {
		x, err := ParseSearch(c.in)
		if c.errAt != ok {
			checkErr(t, c.in, err, c.errAt, c.errText, "$search")
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := x.String(); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSearchTree(t *testing.T) {
	x, err := ParseSearch(`NOT a b OR "c d"`)
	if err != nil {
		t.Fatal(err)
	}
	or, isBin := x.(*SearchBinary)
	if !isBin || !or.Or {
		t.Fatalf("top node %T %+v, want OR", x, x)
	}
	and, isBin := or.X.(*SearchBinary)
	if !isBin || and.Or {
		t.Fatalf("left node %T, want AND", or.X)
	}
	if not, isNot := and.X.(*SearchNot); !isNot || not.X.(*SearchTerm).Text != "a" {
		t.Errorf("NOT binds tighter than AND: %s", and.X)
	}
	phrase := or.Y.(*SearchTerm)
	if !phrase.Phrase || phrase.Text != "c d" || phrase.Span != (Span{11, 16}) {
		t.Errorf("phrase %+v", phrase)
	}
	if or.Span != (Span{0, 16}) {
		t.Errorf("or span %v", or.Span)
	}
	// Quoted phrases keep AND/OR as text.
	y, err := ParseSearch(`"a OR b"`)
	if err != nil || y.(*SearchTerm).Text != "a OR b" {
		t.Errorf("phrase with OR: %v %v", y, err)
	}
}
