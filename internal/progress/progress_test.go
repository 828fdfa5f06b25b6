package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// clock is a time source the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }
func bar(m Mode, c *clock) (*Bar, *bytes.Buffer) {
	var buf bytes.Buffer
	return New(&buf, Options{Mode: m, Now: c.now}), &buf
}

func TestLiveRendersInPlace(t *testing.T) {
	c := newClock()
	b, buf := bar(Live, c)
	b.Start("check", 4)
	c.advance(time.Second)
	b.Update(1, "Orders: filter")
	c.advance(time.Second)
	b.Update(2, "Orders: orderby")
	want := "\rcheck [--------------------] 0/4\x1b[K" +
		"\rcheck [#####---------------] 1/4 Orders: filter\x1b[K" +
		"\rcheck [##########----------] 2/4 Orders: orderby\x1b[K"
	if got := buf.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	buf.Reset()
	b.Done()
	if got := buf.String(); got != "\r\x1b[K" {
		t.Fatalf("Done on a live bar erases the line, got %q", got)
	}
	buf.Reset()
	b.Done()
	b.Update(3, "x") // after Done: no task
	if buf.Len() != 0 {
		t.Fatalf("nothing after Done: %q", buf.String())
	}
}

func TestLiveRateLimited(t *testing.T) {
	c := newClock()
	b, buf := bar(Live, c)
	b.Start("load", 0)
	for i := 1; i <= 50; i++ {
		c.advance(10 * time.Millisecond) // 50 updates in 500ms
		b.Update(i, "")
	}
	// the start, then one per 100ms: at 100, 200, 300, 400, 500 ms
	if got := strings.Count(buf.String(), "\r"); got != 6 {
		t.Fatalf("%d renderings, want 6: %q", got, buf.String())
	}
	if !strings.HasSuffix(buf.String(), "\rload 50\x1b[K") {
		t.Fatalf("unknown total renders a counter: %q", buf.String())
	}
}

func TestFinalStepAlwaysShown(t *testing.T) {
	c := newClock()
	b, buf := bar(Live, c)
	b.Start("track install", 3)
	b.Update(1, "a")
	b.Update(2, "b") // within 100ms: skipped
	b.Update(3, "c") // the last step: shown anyway
	b.Update(3, "c") // but once
	got := buf.String()
	if strings.Contains(got, " a") || strings.Contains(got, " b") || strings.Count(got, "3/3 c") != 1 {
		t.Fatalf("got %q", got)
	}
}

func TestPlainLinesOccasionally(t *testing.T) {
	c := newClock()
	b, buf := bar(Plain, c)
	b.Start("check", 10)
	for i := 1; i <= 9; i++ {
		c.advance(900 * time.Millisecond)
		b.Add(1, "step")
	}
	c.advance(900 * time.Millisecond)
	b.Add(1, "last") // not shown: Done says it
	b.Done()
	want := "check 0/10\ncheck 6/10 step\ncheck: done, 10/10 in 9s\n"
	if got := buf.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if strings.ContainsAny(buf.String(), "\r\x1b") {
		t.Fatal("plain lines carry no control characters")
	}
}

func TestOffAndNilPrintNothing(t *testing.T) {
	c := newClock()
	b, buf := bar(Off, c)
	b.Start("check", 2)
	b.Update(1, "x")
	b.Add(1, "y")
	b.Done()
	if buf.Len() != 0 {
		t.Fatalf("off bar wrote %q", buf.String())
	}
	var nb *Bar
	nb.Start("x", 1)
	nb.Update(1, "")
	nb.Add(1, "")
	nb.Done()
}

func TestLiveCutsLongLines(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	b := New(&buf, Options{Mode: Live, Width: 30, Now: c.now})
	b.Start("check", 0)
	c.advance(time.Second)
	b.Update(1, strings.Repeat("x", 100))
	last := buf.String()[strings.LastIndex(buf.String(), "\r")+1:]
	last = strings.TrimSuffix(last, "\x1b[K")
	if n := len([]rune(last)); n != 29 || !strings.HasSuffix(last, "…") {
		t.Fatalf("line of %d runes: %q", n, last)
	}
}

func TestDetect(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) || Detect(&bytes.Buffer{}) != Off {
		t.Fatal("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("a regular file is not a terminal")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Fatal("/dev/null is a character device but not a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) {
		t.Fatal("a pipe is not a terminal")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !IsTerminal(tty) {
			t.Fatal("/dev/tty is a terminal")
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Off, "auto": Off, "on": Live, "bar": Live, "plain": Plain, "off": Off, "never": Off} {
		got, err := ParseMode(in, &bytes.Buffer{})
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseMode("loud", &bytes.Buffer{}); err == nil {
		t.Error("an unknown mode is an error")
	}
}
