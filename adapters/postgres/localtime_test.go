package postgres

import (
	"database/sql"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/pgtest"
)

// TestLocalToUTCMatchesPostgreSQL compares localToUTC with PostgreSQL's own
// "AT TIME ZONE" around both daylight-saving transitions of two zones.
func TestLocalToUTCMatchesPostgreSQL(t *testing.T) {
	dsn := pgtest.NewDB(t)
	db, err := sql.Open("postgres", dsn+"&TimeZone=UTC")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, zoneName := range []string{"America/New_York", "Europe/Berlin", "UTC"} {
		zone, err := time.LoadLocation(zoneName)
		if err != nil {
			t.Fatal(err)
		}
		for _, wall := range []string{
			"2024-11-03 00:30:00", "2024-11-03 01:00:00", "2024-11-03 01:30:00", "2024-11-03 01:59:59.999999", "2024-11-03 02:00:00",
			"2024-03-10 01:59:59", "2024-03-10 02:00:00", "2024-03-10 02:30:00", "2024-03-10 03:00:00",
			"2024-10-27 01:30:00", "2024-10-27 02:30:00", "2024-10-27 03:00:00",
			"2024-03-31 02:30:00", "2024-03-31 03:30:00", "2024-07-01 12:00:00", "2024-01-15 08:00:00.123456",
		} {
			var want time.Time
			if err := db.QueryRow(`SELECT ($1::timestamp AT TIME ZONE $2)`, wall, zoneName).Scan(&want); err != nil {
				t.Fatal(err)
			}
			w, _ := time.Parse("2006-01-02 15:04:05.999999", wall)
			if got := localToUTC(w, zone); !got.Equal(want) {
				t.Errorf("%s in %s: got %s, PostgreSQL %s", wall, zoneName, got.UTC(), want.UTC())
			}
		}
	}
}
