package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Errors are classified by SQLSTATE and by driver and network error values,
// never by their text.
func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		err  error
		want adapters.ErrorKind
	}{
		{&pq.Error{Code: "23505", Constraint: "c"}, adapters.Conflict},
		{&pq.Error{Code: "23503"}, adapters.Conflict},
		{&pq.Error{Code: "23502"}, adapters.Constraint},
		{&pq.Error{Code: "23514"}, adapters.Constraint},
		{&pq.Error{Code: "22021"}, adapters.Constraint},
		{&pq.Error{Code: "40001"}, adapters.Unavailable},
		{&pq.Error{Code: "57014"}, adapters.Timeout},
		{&pq.Error{Code: "57P01"}, adapters.Unavailable},
		{&pq.Error{Code: "08006"}, adapters.Unavailable},
		{&pq.Error{Code: "42501"}, adapters.Forbidden},
		{&pq.Error{Code: "XX000"}, adapters.Internal},
		{refused, adapters.Unavailable},
		{fmt.Errorf("connect: %w", syscall.ECONNREFUSED), adapters.Unavailable},
		{errors.New("dial tcp: connection refused"), adapters.Internal}, // text alone proves nothing
		{sql.ErrConnDone, adapters.Unavailable},
		{driver.ErrBadConn, adapters.Unavailable}, // a lost commit never gets here: sqlexec resolves it
		{io.EOF, adapters.Unavailable},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), adapters.Unavailable},
		{sql.ErrNoRows, adapters.NotFound},
		{context.Canceled, adapters.Canceled},
		{context.DeadlineExceeded, adapters.Timeout},
		{adapters.Errorf(adapters.Invalid, nil, "x"), adapters.Invalid},
	}
	for _, tc := range cases {
		if got := adapters.KindOf(classify(tc.err)); got != tc.want {
			t.Errorf("classify(%v) kind %d, want %d", tc.err, got, tc.want)
		}
	}
}

// NUL cannot be stored in or compared with PostgreSQL text: every point
// where the dialect binds text refuses it before any statement runs, naming
// the property when it knows it.
func TestDialectRefusesNUL(t *testing.T) {
	d := Dialect(time.UTC)
	nul := semantic.Const{T: metadata.String, V: "NUL\x00here"}
	city := &metadata.Property{Name: "City", Column: "city", Type: metadata.String, Nullable: true}
	code := &metadata.Property{Name: "Code", Column: "code", Type: metadata.String, FixedChar: true}
	doc := &metadata.Property{Name: "Doc", Column: "doc", Type: metadata.String, DBType: "jsonb"}
	x := sqlgen.Operand{SQL: `"city"`, Type: metadata.String}
	cases := []struct {
		name   string
		bind   func(ps *sqlgen.Params) (string, error)
		target string
	}{
		{"Param", func(ps *sqlgen.Params) (string, error) { return d.Param(ps, nul) }, ""},
		{"ColumnParam text", func(ps *sqlgen.Params) (string, error) { return d.ColumnParam(ps, city, nul) }, "City"},
		{"ColumnParam char(n)", func(ps *sqlgen.Params) (string, error) { return d.ColumnParam(ps, code, nul) }, "Code"},
		{"ColumnParam jsonb", func(ps *sqlgen.Params) (string, error) { return d.ColumnParam(ps, doc, nul) }, "Doc"},
		{"In", func(ps *sqlgen.Params) (string, error) {
			return d.In(ps, x, metadata.String, []semantic.Const{{T: metadata.String, V: "ok"}, nul})
		}, ""},
		{"Match", func(ps *sqlgen.Params) (string, error) { return d.Match(ps, semantic.FnContains, x, "a\x00") }, ""},
		{"Search", func(ps *sqlgen.Params) (string, error) { return d.Search(ps, x, "\x00") }, ""},
	}
	for _, tc := range cases {
		_, err := tc.bind(sqlgen.NewParams(d))
		var ae *adapters.Error
		if !errors.As(err, &ae) || ae.Kind != adapters.Invalid || ae.Target != tc.target {
			t.Errorf("%s: %#v, want an Invalid error with target %q", tc.name, err, tc.target)
		}
	}
	ok := semantic.Const{T: metadata.String, V: "tab\there \u0001"}
	if _, err := d.ColumnParam(sqlgen.NewParams(d), city, ok); err != nil {
		t.Errorf("other control characters refused: %v", err)
	}
}
