package registry

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/accesstoken"
	"github.com/pkgreg/registry/ent/pkg"
)

// Reads leave two marks: a package's last_downloaded_at and a token's
// last_used_at. Writing them from the request (or from a goroutine per
// request) put a database write on every first download: on SQLite each one
// queues for the single write lock while holding one of the pool's
// connections, so concurrent downloads waited for connections behind
// bookkeeping, and an upload holding the lock stalled downloads outright.
// Instead the marks are coalesced in memory (latest time per id) and written
// in one transaction per flush: at most usageFlushInterval after the first
// pending mark, when a map fills up, and on shutdown. The stored values are
// therefore at most that much behind, and lost only if the process dies.
const (
	usageFlushInterval = 10 * time.Second
	// usageMaxPending bounds each map (a few hundred KiB); past it, marks are
	// dropped until the flush that the full map triggers has run.
	usageMaxPending = 10000
)

// usage holds the pending marks.
type usage struct {
	mu        sync.Mutex
	downloads map[int]time.Time // package id -> latest download
	tokenUses map[int]time.Time // access token id -> latest use
	timer     *time.Timer       // the scheduled flush, nil when none
	closed    bool
	dropped   int
	interval  time.Duration
	flush     func() // runs a background flush (set by the Service)
}

func newUsage(interval time.Duration, flush func()) *usage {
	return &usage{downloads: map[int]time.Time{}, tokenUses: map[int]time.Time{}, interval: interval, flush: flush}
}

// note records that id was used at t and makes sure a flush is scheduled.
func (u *usage) note(m func(*usage) map[int]time.Time, id int, t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return
	}
	pending := m(u)
	prev, ok := pending[id]
	switch {
	case !ok && len(pending) >= usageMaxPending:
		u.dropped++
		u.scheduleLocked(0)
		return
	case !ok || t.After(prev):
		pending[id] = t
	}
	u.scheduleLocked(u.interval)
}

func (u *usage) scheduleLocked(after time.Duration) {
	if u.timer != nil {
		if after > 0 {
			return
		}
		u.timer.Stop()
	}
	u.timer = time.AfterFunc(after, u.flush)
}

// take empties the maps and returns what was pending.
func (u *usage) take() (downloads, tokenUses map[int]time.Time, dropped int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.timer != nil {
		u.timer.Stop()
		u.timer = nil
	}
	downloads, tokenUses, dropped = u.downloads, u.tokenUses, u.dropped
	u.downloads, u.tokenUses, u.dropped = map[int]time.Time{}, map[int]time.Time{}, 0
	return downloads, tokenUses, dropped
}

// restore puts back what a failed flush took (newer marks win) and
// schedules another attempt.
func (u *usage) restore(downloads, tokenUses map[int]time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, pair := range [][2]map[int]time.Time{{u.downloads, downloads}, {u.tokenUses, tokenUses}} {
		into, from := pair[0], pair[1]
		for id, t := range from {
			if prev, ok := into[id]; (ok && t.After(prev)) || (!ok && len(into) < usageMaxPending) {
				into[id] = t
			}
		}
	}
	if !u.closed && (len(u.downloads) > 0 || len(u.tokenUses) > 0) {
		u.scheduleLocked(u.interval)
	}
}

// NoteDownload records a download of p. A package whose stored time is
// less than a minute old is not marked again.
func (s *Service) NoteDownload(p *ent.Pkg) {
	now := s.now()
	if p == nil || (p.LastDownloadedAt != nil && now.Sub(*p.LastDownloadedAt) < time.Minute) {
		return
	}
	s.usage.note(func(u *usage) map[int]time.Time { return u.downloads }, p.ID, now)
}

// noteTokenUse records a use of the token with that id.
func (s *Service) noteTokenUse(id int, now time.Time) {
	s.usage.note(func(u *usage) map[int]time.Time { return u.tokenUses }, id, now)
}

// flushUsageInBackground is the timer's flush.
func (s *Service) flushUsageInBackground() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.FlushUsage(ctx); err != nil {
		s.log.Warn("could not record download and token use times; retrying", "err", err)
	}
}

// FlushUsage writes the pending last_downloaded_at and last_used_at marks
// now, in one transaction. Tests call it instead of waiting for the timer.
func (s *Service) FlushUsage(ctx context.Context) error {
	downloads, tokenUses, dropped := s.usage.take()
	if dropped > 0 {
		s.log.Warn("dropped download and token use marks: too many pending", "dropped", dropped)
	}
	if len(downloads) == 0 && len(tokenUses) == 0 {
		return nil
	}
	err := s.withTx(ctx, func(tx *ent.Tx) error {
		if err := s.writeMarks(ctx, tx, pkg.Table, pkg.FieldID, pkg.FieldLastDownloadedAt, downloads); err != nil {
			return err
		}
		return s.writeMarks(ctx, tx, accesstoken.Table, accesstoken.FieldID, accesstoken.FieldLastUsedAt, tokenUses)
	})
	if err != nil {
		s.usage.restore(downloads, tokenUses)
	}
	return err
}

// writeMarks sets column to each id's time, one UPDATE per distinct second
// (the stored resolution) covering all ids marked in it. The statement is
// built by hand because ent's update builders would also move updated_at,
// and a download changes nothing about a package. A time never moves
// backwards (another instance may have flushed a later one).
func (s *Service) writeMarks(ctx context.Context, tx *ent.Tx, table, idCol, column string, marks map[int]time.Time) error {
	bySecond := map[time.Time][]int{}
	for id, t := range marks {
		sec := t.UTC().Truncate(time.Second)
		bySecond[sec] = append(bySecond[sec], id)
	}
	b := entsql.Dialect(s.dialect)
	for _, sec := range slices.SortedFunc(maps.Keys(bySecond), time.Time.Compare) {
		ids := bySecond[sec]
		slices.Sort(ids)
		q, args := b.Update(table).Set(column, sec).
			Where(entsql.And(entsql.InInts(idCol, ids...), entsql.Or(entsql.IsNull(column), entsql.LT(column, sec)))).Query()
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return Internal(err, "could not record use times")
		}
	}
	return nil
}

// Close flushes the pending marks and stops scheduling flushes; call it
// before closing the database.
func (s *Service) Close(ctx context.Context) error {
	s.usage.mu.Lock()
	s.usage.closed = true
	s.usage.mu.Unlock()
	return s.FlushUsage(ctx)
}

func dialectOr(d string) string {
	if d == "" {
		return dialect.SQLite
	}
	return d
}
