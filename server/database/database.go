// Package database opens the metadata database: SQLite (embedded default)
// or PostgreSQL, and migrates its schema.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go: no cgo)

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/migrate"
)

// Open connects to url ("" means SQLite at <dataDir>/registry.db) and
// migrates the schema. It returns the client and the dialect name. onQuery,
// when set, is called for every statement (tests count queries with it).
func Open(ctx context.Context, url, dataDir string, onQuery func(context.Context)) (*ent.Client, string, error) {
	var (
		db   *sql.DB
		dial string
		err  error
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		dial = dialect.Postgres
		if db, err = openPostgres(url); err != nil {
			return nil, "", err
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
	default:
		dial = dialect.SQLite
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" {
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, "", err
			}
			path = filepath.Join(dataDir, "registry.db")
		}
		if db, err = sql.Open("sqlite", sqliteDSN(path)); err != nil {
			return nil, "", err
		}
		// SQLite has one writer; a small pool keeps readers concurrent under
		// WAL while immediate transactions queue on busy_timeout. All of
		// them stay open: database/sql keeps only 2 idle by default, and
		// under 8 concurrent requests the others were closed and reopened
		// again and again, each opening re-reading the schema, running the
		// DSN's pragmas and losing its prepared statements (13% of the CPU
		// of a small-download load).
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, "", fmt.Errorf("database unreachable: %w", err)
	}
	var drv dialect.Driver = entsql.OpenDB(dial, db)
	if dial == dialect.SQLite {
		drv = newStmtCache(entsql.OpenDB(dial, db), db)
	}
	if onQuery != nil {
		drv = dialect.DebugWithContext(drv, func(ctx context.Context, _ ...any) { onQuery(ctx) })
	}
	client := ent.NewClient(ent.Driver(drv))
	if err := client.Schema.Create(ctx, migrate.WithDropIndex(true)); err != nil {
		client.Close()
		return nil, "", fmt.Errorf("migrating the schema: %w", err)
	}
	return client, dial, nil
}

// sqliteDSN turns on what a server needs: foreign keys, WAL (readers do not
// block the writer), a busy timeout instead of instant SQLITE_BUSY, and
// BEGIN IMMEDIATE so that a transaction takes the write lock up front rather
// than failing when it upgrades from read to write.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(15000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}
