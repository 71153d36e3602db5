package database

import (
	"context"
	"database/sql"
	"sync"

	entsql "entgo.io/ent/dialect/sql"
)

// maxCachedStatements bounds the cache. ent writes one text per query
// shape, but IN lists make the length of a list part of the text, so the
// shapes are not a closed set: past the bound, new texts run unprepared.
const maxCachedStatements = 512

// stmtCache runs ent's queries outside transactions as prepared statements
// that are kept for reuse. SQLite (modernc) otherwise parses and plans every
// statement on every call: under a load of small downloads, a quarter of
// the CPU went to sqlite3Prepare for the same few queries. database/sql
// prepares a cached *sql.Stmt once per pooled connection, on first use
// there. Transactions and Exec go through the plain driver. PostgreSQL does
// not need this: pgx keeps its own per-connection statement cache.
type stmtCache struct {
	*entsql.Driver
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(drv *entsql.Driver, db *sql.DB) *stmtCache {
	return &stmtCache{Driver: drv, db: db, stmts: map[string]*sql.Stmt{}}
}

// Query implements dialect.Driver.
func (c *stmtCache) Query(ctx context.Context, query string, args, v any) error {
	rows, ok := v.(*entsql.Rows)
	argv, ok2 := args.([]any)
	if !ok || !ok2 {
		return c.Driver.Query(ctx, query, args, v)
	}
	st := c.stmt(ctx, query)
	if st == nil {
		return c.Driver.Query(ctx, query, args, v)
	}
	r, err := st.QueryContext(ctx, argv...)
	if err != nil {
		return err
	}
	*rows = entsql.Rows{ColumnScanner: r}
	return nil
}

// stmt returns the cached statement for query, preparing it on first use;
// nil when the cache is full or the statement does not prepare (the plain
// path then reports the error).
func (c *stmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStatements
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok { // prepared concurrently
		st.Close()
		return prev
	}
	c.stmts[query] = st
	return st
}

// Close implements dialect.Driver.
func (c *stmtCache) Close() error {
	c.mu.Lock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
	c.mu.Unlock()
	return c.Driver.Close()
}
