package app

import (
	"io"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/internal/progress"
)

// takeProgress removes --progress[=MODE] from args (bare --progress means
// on) and returns the progress bar of a command: the flag, else
// ODATAGW_PROGRESS, else auto (a live line when stderr is a terminal,
// nothing otherwise). The bar writes to stderr only.
func takeProgress(args []string, stderr io.Writer, getenv func(string) string) ([]string, *progress.Bar, error) {
	mode := getenv("ODATAGW_PROGRESS")
	out := args[:0:0]
	for i, a := range args {
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "progress" {
			out = append(out, a)
			continue
		}
		mode = "on"
		if hasVal {
			mode = val
		}
	}
	m, err := progress.ParseMode(mode, stderr)
	if err != nil {
		return args, nil, err
	}
	width, _ := strconv.Atoi(getenv("COLUMNS"))
	return out, progress.New(stderr, progress.Options{Mode: m, Width: width}), nil
}
