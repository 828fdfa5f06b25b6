package sqlexec

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters"
)

// TestResolveCommit: the answer to a commit whose connection broke follows
// what the database says about the transaction, asked until it knows.
func TestResolveCommit(t *testing.T) {
	cause := errors.New("connection reset")
	cases := []struct {
		name    string
		answers []string // "" = the database cannot be reached yet
		want    adapters.ErrorKind
		ok      bool
	}{
		{"committed", []string{"committed"}, 0, true},
		{"rolled back", []string{"aborted"}, adapters.Unavailable, false},
		{"still committing, then committed", []string{"in progress", "in progress", "committed"}, 0, true},
		{"database restarting, then rolled back", []string{"", "", "aborted"}, adapters.Unavailable, false},
		{"never known", nil, adapters.OutcomeUnknown, false},
	}
	for _, tc := range cases {
		asked := 0
		b := &Backend{ResolveFor: 500 * time.Millisecond, TxStatus: func(context.Context, *sql.DB, int64) (string, error) {
			asked++
			if asked > len(tc.answers) || tc.answers[asked-1] == "" {
				return "", errors.New("connection refused")
			}
			return tc.answers[asked-1], nil
		}}
		err := b.resolveCommit(context.Background(), 42, cause)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v, want success", tc.name, err)
			}
			continue
		}
		if adapters.KindOf(err) != tc.want || !errors.Is(err, cause) {
			t.Errorf("%s: %v (kind %d), want kind %d wrapping the cause", tc.name, err, adapters.KindOf(err), tc.want)
		}
	}
	// Without a transaction id nothing can be found out.
	if err := (&Backend{}).resolveCommit(context.Background(), -1, cause); adapters.KindOf(err) != adapters.OutcomeUnknown {
		t.Errorf("no xid: %v", err)
	}
}
