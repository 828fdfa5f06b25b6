// Package progress is the command line's progress line: a counter or bar
// on stderr that long commands (`odatagw check`, `track install`) update
// as they go. On a terminal it rewrites one line in place (`\r`); in plain
// mode it prints an occasional ordinary line; off (the default when stderr
// is not a terminal) it prints nothing, so that scripts see the output they
// always saw. The composition root picks the mode and the writer; the
// packages doing the work only report steps through callbacks.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Mode says how a Bar shows itself.
type Mode int

// Modes.
const (
	Off   Mode = iota // prints nothing
	Plain             // an ordinary line now and then (logs, CI)
	Live              // one line rewritten in place (a terminal)
)

// ParseMode reads a --progress value: auto (Detect), on|bar|live, plain,
// off|never|none; "" is auto.
func ParseMode(s string, w io.Writer) (Mode, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return Detect(w), nil
	case "on", "bar", "live", "always", "true":
		return Live, nil
	case "plain":
		return Plain, nil
	case "off", "never", "none", "false":
		return Off, nil
	}
	return Off, fmt.Errorf("--progress %q: want auto, on, plain or off", s)
}

// Detect is Live when w is a terminal, else Off.
func Detect(w io.Writer) Mode {
	if IsTerminal(w) {
		return Live
	}
	return Off
}

// IsTerminal reports whether w is a character device other than
// /dev/null (no ioctl: a terminal is the only other character device a
// command's stderr is in practice).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(st, null) {
		return false
	}
	return true
}

// Options of a Bar; zero values are the defaults.
type Options struct {
	Mode Mode
	// Every is the least time between two renderings: Live default
	// 100ms, Plain default 5s. The first state always shows, and the
	// final one (a Live line when done reaches total, a Plain one on Done).
	Every time.Duration
	// Width of a Live line in columns (default 80); longer lines are cut.
	Width int
	Now   func() time.Time // default time.Now (tests move it)
}

// Bar is one progress line. Its methods are safe for concurrent use and
// do nothing on a nil or Off bar.
type Bar struct {
	w     io.Writer
	o     Options
	mu    sync.Mutex
	label string
	total int
	n     int
	note  string
	start time.Time
	last  time.Time // of the last rendering
	lastN int       // steps done at the last rendering
	shown int       // length of the line on screen (Live)
}

// New returns a bar writing to w (stderr).
func New(w io.Writer, o Options) *Bar {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Width <= 0 {
		o.Width = 80
	}
	if o.Every <= 0 {
		o.Every = 100 * time.Millisecond
		if o.Mode == Plain {
			o.Every = 5 * time.Second
		}
	}
	return &Bar{w: w, o: o}
}

// Start begins a task of total steps (0: unknown, a counter without a
// bar) under label, replacing any previous one.
func (b *Bar) Start(label string, total int) {
	if b == nil || b.o.Mode == Off {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.label, b.total, b.n, b.note = label, total, 0, ""
	b.start = b.o.Now()
	b.render(true)
}

// Update sets the steps done and what is being done now; it renders at
// most once per Options.Every.
func (b *Bar) Update(n int, note string) {
	if b == nil || b.o.Mode == Off {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n, b.note = n, note
	b.render(false)
}

// SetTotal changes the number of steps once it is known.
func (b *Bar) SetTotal(total int) {
	if b == nil || b.o.Mode == Off {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total = total
}

// Add counts delta more steps done.
func (b *Bar) Add(delta int, note string) {
	if b == nil || b.o.Mode == Off {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n += delta
	b.note = note
	b.render(false)
}

// Done ends the task: a Live line is erased (the command's own output
// follows on a clean line), a Plain one gets a last line with the time
// taken.
func (b *Bar) Done() {
	if b == nil || b.o.Mode == Off {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.label == "" {
		return
	}
	switch b.o.Mode {
	case Live:
		if b.shown > 0 {
			fmt.Fprint(b.w, "\r\x1b[K")
		}
	case Plain:
		fmt.Fprintf(b.w, "%s: done, %s in %s\n", b.label, b.count(), b.o.Now().Sub(b.start).Round(100*time.Millisecond))
	}
	b.label, b.shown = "", 0
}

func (b *Bar) render(force bool) {
	if b.label == "" {
		return // not started, or done
	}
	now := b.o.Now()
	// a live line shows its final state (Plain's is Done's line)
	finished := b.o.Mode == Live && b.total > 0 && b.n >= b.total && b.lastN < b.total
	if !force && !finished && now.Sub(b.last) < b.o.Every {
		return
	}
	b.last, b.lastN = now, b.n
	line := b.line()
	switch b.o.Mode {
	case Live:
		if r := []rune(line); len(r) > b.o.Width-1 {
			line = string(r[:b.o.Width-2]) + "…"
		}
		fmt.Fprint(b.w, "\r"+line+"\x1b[K")
		b.shown = len(line)
	case Plain:
		fmt.Fprintln(b.w, line)
	}
}

// line is the current state as text, e.g. "check [######----] 3/5 Orders: filter"
// (a bar only on a Live bar with a known total).
func (b *Bar) line() string {
	var s strings.Builder
	s.WriteString(b.label)
	if b.o.Mode == Live && b.total > 0 {
		const cells = 20
		fill := min(cells, b.n*cells/b.total)
		s.WriteString(" [" + strings.Repeat("#", fill) + strings.Repeat("-", cells-fill) + "]")
	}
	s.WriteString(" " + b.count())
	if b.note != "" {
		s.WriteString(" " + b.note)
	}
	return s.String()
}

func (b *Bar) count() string {
	if b.total > 0 {
		return fmt.Sprintf("%d/%d", b.n, b.total)
	}
	return fmt.Sprint(b.n)
}
