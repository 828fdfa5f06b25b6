package sqlite

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"sync"

	"modernc.org/sqlite"
)

// SQLite has the REGEXP operator but no implementation of it: "x REGEXP p"
// calls the function regexp(p, x), registered here with Go's RE2 syntax
// (matchesPattern). It is NULL when either argument is NULL; a malformed
// pattern is an error (answered 400).
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("regexp", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if args[0] == nil || args[1] == nil {
			return nil, nil
		}
		pattern, ok1 := textOf(args[0])
		text, ok2 := textOf(args[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("regexp: text arguments expected")
		}
		re, err := compiled(pattern)
		if err != nil {
			return nil, err
		}
		if re.MatchString(text) {
			return int64(1), nil
		}
		return int64(0), nil
	})
}

// patterns caches compiled patterns (bounded: a filter has few).
var patterns = struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}{m: map[string]*regexp.Regexp{}}

func compiled(p string) (*regexp.Regexp, error) {
	patterns.Lock()
	defer patterns.Unlock()
	if re, ok := patterns.m[p]; ok {
		return re, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %w", err)
	}
	if len(patterns.m) >= 256 {
		clear(patterns.m)
	}
	patterns.m[p] = re
	return re, nil
}

func textOf(v driver.Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}
