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
// what the database says about the transaction, asked until it knows, and
// only while the server is the one that assigned the transaction id.
func TestResolveCommit(t *testing.T) {
	cause := errors.New("connection reset")
	type answer struct{ status, incarnation string } // status "" = the database cannot be reached yet
	const boot = "2026-11-29 23:00:00+00"
	const reboot = "2026-11-29 23:05:00+00"
	cases := []struct {
		name    string
		answers []answer
		want    adapters.ErrorKind
		ok      bool
	}{
		{"committed", []answer{{"committed", boot}}, 0, true},
		{"rolled back", []answer{{"aborted", boot}}, adapters.Unavailable, false},
		{"still committing, then committed", []answer{{"in progress", boot}, {"in progress", boot}, {"committed", boot}}, 0, true},
		{"database restarting, then rolled back", []answer{{"", ""}, {"", ""}, {"aborted", boot}}, adapters.Unavailable, false},
		// After a crash the id may have been assigned to another
		// transaction: its "committed" says nothing about this one.
		{"restarted, id committed by another transaction", []answer{{"", ""}, {"committed", reboot}}, adapters.OutcomeUnknown, false},
		{"restarted, aborted", []answer{{"aborted", reboot}}, adapters.OutcomeUnknown, false},
		{"never known", nil, adapters.OutcomeUnknown, false},
	}
	for _, tc := range cases {
		asked := 0
		b := &Backend{ResolveFor: 500 * time.Millisecond, TxStatus: func(context.Context, *sql.DB, int64) (string, string, error) {
			asked++
			if asked > len(tc.answers) || tc.answers[asked-1].status == "" {
				return "", "", errors.New("connection refused")
			}
			a := tc.answers[asked-1]
			return a.status, a.incarnation, nil
		}}
		err := b.resolveCommit(context.Background(), TxRef{ID: 42, Incarnation: boot}, cause)
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
	if err := (&Backend{}).resolveCommit(context.Background(), TxRef{ID: -1}, cause); adapters.KindOf(err) != adapters.OutcomeUnknown {
		t.Errorf("no xid: %v", err)
	}
}
