package semantic

import (
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// Page plans one page of a collection read (server-driven paging): how many
// rows it may hold, how many to fetch, and where the next page starts. The
// position travels in a $skiptoken (TokenCodec) as the sort values of the
// last row written (a keyset), or as an offset when the order has
// expressions whose values are not carried.
//
// A Page is used by one request: NewPage, Columns once the adapter has
// answered, Keep for every row written, Next at the end.
type Page struct {
	// Size is the most rows this page may hold: the configured maximum,
	// the client's odata.maxpagesize and the rows still owed to $top,
	// whichever is smallest. It is 0 when $top is 0 or already reached:
	// there is nothing to fetch, only the count when asked.
	Size int64
	// Fetch is how many rows to ask the adapter for: Size+1, the extra row
	// telling whether a next page exists, or Size when $top ends the result
	// on this page.
	Fetch int64
	// PreferenceApplied is true when the client's odata.maxpagesize was
	// honoured: the response says odata.maxpagesize=Preferred, the page size
	// asked for (capped at the configured maximum), whatever $top made of
	// this page.
	PreferenceApplied bool
	Preferred         int64
	// NeedCount is true when the page must count the matching rows: $count
	// was asked and no earlier page of the walk carries the count. Later
	// pages report the count of the first (see Keyset.Count); give a count
	// taken now to SetCount.
	NeedCount bool

	q        *Query
	returned int64 // rows sent on earlier pages of the walk
	owed     int64 // rows still owed to $top; -1 without $top
	order    []Order
	keyset   bool
	pos      []int // positions of the order's keyset columns among the row's columns
	cols     []*metadata.Property
	last     []edm.Value // the kept columns of the last row written (owned copies)
	count    int64       // the walk's count; valid when counted
	counted  bool
	track    string // the walk's change-log position ("": not tracking)
}

// NewPage plans the page of q. maxPageSize is the configured maximum (> 0);
// preferred is the client's odata.maxpagesize (0 when absent).
func NewPage(q *Query, maxPageSize, preferred int) *Page {
	p := &Page{q: q, Size: int64(maxPageSize), owed: -1}
	if preferred > 0 {
		p.PreferenceApplied = true
		if int64(preferred) < p.Size {
			p.Size = int64(preferred)
		}
		p.Preferred = p.Size
	}
	if q.After != nil {
		p.returned = q.After.Returned
	}
	if q.Top != nil {
		p.owed = max(*q.Top-p.returned, 0)
		p.Size = min(p.Size, p.owed)
	}
	p.Fetch = p.Size + 1
	if p.owed >= 0 && p.owed <= p.Size {
		p.Fetch = p.Size // no probe row when $top ends the result here
	}
	p.order, p.keyset = TotalOrder(q)
	if a := q.After; a != nil && a.Counted {
		p.count, p.counted = a.Count, true
	}
	p.NeedCount = q.Count && !p.counted
	if a := q.After; a != nil {
		p.track = a.Track
	}
	return p
}

// Track is the change-log position of a walk that asked for change
// tracking: taken by the first page (SetTrack), carried by the nextLinks;
// "" when none.
func (p *Page) Track() string { return p.track }

// SetTrack records the change-log position taken before the first page was
// read.
func (p *Page) SetTrack(pos string) { p.track = pos }

// SetCount records the count taken for this page (NeedCount).
func (p *Page) SetCount(n int64) { p.count, p.counted = n, true }

// Count is the @odata.count to report: the one taken for this page, or the
// one carried from the walk's first page; ok is false when there is none
// ($count not asked, or a count that could not be taken).
func (p *Page) Count() (n int64, ok bool) { return p.count, p.counted && p.q.Count }

// Columns records the columns of the rows the adapter returns, so that Keep
// copies only what the next position needs.
func (p *Page) Columns(cols []*metadata.Property) {
	p.cols = cols
	p.last = make([]edm.Value, len(cols))
	p.pos = nil
	if !p.keyset {
		return
	}
	want, _ := keysetCols(p.order)
	for _, prop := range want {
		for j, c := range cols {
			if c == prop {
				p.pos = append(p.pos, j)
				break
			}
		}
	}
}

// Keep records row as the last one written. Row buffers are reused by the
// adapter, so the bytes of the kept columns are copied.
func (p *Page) Keep(row []edm.Value) {
	for _, i := range p.pos {
		text := p.last[i].Text[:0]
		p.last[i] = row[i]
		if row[i].Text != nil {
			p.last[i].Text = append(text, row[i].Text...)
		}
	}
}

// Next returns the position after the last kept row when the result goes
// on after this page (more: a row beyond the page was seen, or the page
// was cut short by its byte limit), or nil when it ends here. written is
// the number of rows on this page.
func (p *Page) Next(written int64, more bool) *Keyset {
	if !more || p.owed >= 0 && written >= p.owed {
		return nil
	}
	ks := &Keyset{Returned: p.returned + written, Count: p.count, Counted: p.counted, Track: p.track}
	if !p.keyset {
		base := p.q.Skip
		if p.q.After != nil {
			base = p.q.After.Offset
		}
		ks.Offset = base + written
		return ks
	}
	ks.Values = make([]Const, len(p.pos))
	for i, j := range p.pos {
		ks.Values[i] = ConstOf(p.cols[j], &p.last[j])
	}
	return ks
}
