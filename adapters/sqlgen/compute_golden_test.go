package sqlgen_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/mysql"
	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/adapters/sqlite"
	"github.com/odatagw/odatagw/internal/golden"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// $compute: the computed properties are extra SELECT columns (aliases that
// name no column of the set), rendered like $filter's values; $filter and
// $orderby on an alias repeat the expression.
func TestComputeGolden(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	dialects := []sqlgen.Dialect{postgres.Dialect(berlin), sqlite.Dialect(), mysql.Dialect(mysql.MariaDB, berlin)}
	m := applyModel(t)
	codec := semantic.NewTokenCodec([]byte("k"))
	cases := []struct {
		name, query string
		page        int64 // offset of a later page
		count       bool
	}{
		{"compute_select", "$compute=Total mul 2 as T2,concat(Status,'!') as S,Customer/Country as C,Status as St,Qty gt 1 as Big" +
			"&$select=OrderID,T2,S,C,St,Big", 0, false},
		{"compute_filter_orderby", "$compute=Total mul Qty as A,length(Status) as N&$filter=A gt 10 and N ne 3&$orderby=A desc&$top=5", 3, false},
		{"compute_orderby_path", "$compute=Customer/Country as C&$select=C&$orderby=C", 0, false},
		{"compute_count", "$compute=Total mul Qty as A&$filter=A gt 10", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			req, err := odata.ParseRequest("/Orders", v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			q, err := semantic.Bind(m, req, semantic.Options{Access: countryDE{}, Tokens: codec})
			if err != nil {
				t.Fatal(err)
			}
			if tc.page > 0 {
				q.After = &semantic.Keyset{Offset: tc.page}
			}
			var b strings.Builder
			for _, d := range dialects {
				var st sqlgen.Statement
				var cols []*metadata.Property
				if tc.count {
					st, err = sqlgen.Count(d, q)
				} else {
					st, cols, err = sqlgen.Select(d, q, 11)
				}
				if err != nil {
					// refused as in $filter (SQLite: no decimal arithmetic)
					if !isNotImplemented(err) {
						t.Fatalf("%s: %v", d.Name(), err)
					}
					b.WriteString("-- " + d.Name() + "\n501: " + err.Error() + "\n")
					continue
				}
				args, _ := json.Marshal(st.Args)
				b.WriteString("-- " + d.Name() + "\n" + st.SQL + "\n-- args\n" + string(args) + "\n")
				if cols != nil {
					var names []string
					for _, p := range cols {
						names = append(names, p.Name+" "+string(p.Type))
					}
					b.WriteString("-- columns\n" + strings.Join(names, ",") + "\n")
				}
				if n := placeholders(st.SQL, d); n != len(st.Args) {
					t.Errorf("%s: %d distinct placeholders for %d args", d.Name(), n, len(st.Args))
				}
			}
			golden.Assert(t, filepath.Join("testdata", tc.name+".golden"), []byte(b.String()))
		})
	}
}

func isNotImplemented(err error) bool {
	var e *adapters.Error
	return errors.As(err, &e) && e.Kind == adapters.NotImplemented
}
