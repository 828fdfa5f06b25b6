package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records errors instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestAssert(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := &recorder{TB: t}
	Assert(r, path, []byte("a\nb\nc\n"))
	if len(r.errs) != 0 {
		t.Fatalf("equal output reported: %q", r.errs)
	}

	Assert(r, path, []byte("a\nB\nc\n"))
	if len(r.errs) != 1 {
		t.Fatalf("%d errors for a difference, want 1", len(r.errs))
	}
	for _, want := range []string{path, "@@ line 1 @@\n  a\n- b\n+ B\n  c\n", "-update", "go test ./internal/golden -run '^TestAssert$' -update"} {
		if !strings.Contains(r.errs[0], want) {
			t.Errorf("message lacks %q:\n%s", want, r.errs[0])
		}
	}

	r.errs = nil
	Assert(r, filepath.Join(dir, "missing.golden"), []byte("x"))
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "-update") {
		t.Fatalf("missing file: %q", r.errs)
	}
}

func TestAssertUpdate(t *testing.T) {
	defer func(saved bool) { *update = saved }(*update)
	*update = true
	path := filepath.Join(t.TempDir(), "new", "dir", "x.golden")
	r := &recorder{TB: t}
	Assert(r, path, []byte("fresh\n"))
	if len(r.errs) != 0 {
		t.Fatalf("update reported: %q", r.errs)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "fresh\n" {
		t.Fatalf("written %q, %v", got, err)
	}
	*update = false
	Assert(r, path, []byte("fresh\n"))
	if len(r.errs) != 0 {
		t.Fatalf("the written file does not match: %q", r.errs)
	}
}

func TestDiff(t *testing.T) {
	lines := func(n int, change map[int]string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if s, ok := change[i]; ok {
				b.WriteString(s)
			} else {
				fmt.Fprintf(&b, "line %d\n", i)
			}
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, want, got, diff string
	}{
		{"equal", "a\n", "a\n", ""},
		{"changed line with context", lines(10, nil), lines(10, map[int]string{5: "five\n"}),
			"@@ line 2 @@\n  line 2\n  line 3\n  line 4\n- line 5\n+ five\n  line 6\n  line 7\n  line 8"},
		{"inserted line", "a\nb\n", "a\nx\nb\n", "@@ line 1 @@\n  a\n+ x\n  b"},
		{"removed line", "a\nx\nb\n", "a\nb\n", "@@ line 1 @@\n  a\n- x\n  b"},
		{"two hunks", lines(20, nil), lines(20, map[int]string{2: "two\n", 18: "eighteen\n"}),
			"@@ line 1 @@\n  line 1\n- line 2\n+ two\n  line 3\n  line 4\n  line 5\n" +
				"@@ line 15 @@\n  line 15\n  line 16\n  line 17\n- line 18\n+ eighteen\n  line 19\n  line 20"},
		{"trailing newline", "a\n", "a", "  (only the trailing newlines differ: 1 in the golden file, 0 in the output)"},
		{"line endings", "a\r\nb\r\n", "a\nb\n", `  (only the line endings differ: \r\n against \n)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Diff(tc.want, tc.got); got != tc.diff {
				t.Errorf("Diff =\n%s\nwant\n%s", got, tc.diff)
			}
		})
	}
	// Long diffs are cut.
	d := Diff(lines(500, nil), strings.ReplaceAll(lines(500, nil), "line", "LINE"))
	if n := strings.Count(d, "\n"); n != maxDiffLines || !strings.HasSuffix(d, "more diff lines)") {
		t.Errorf("long diff: %d lines, ends %q", n, d[len(d)-30:])
	}
}
