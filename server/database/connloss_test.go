package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestConnLost pins which failures count as a lost connection (retried,
// else 503) and which do not (the statement's own fault: not retried).
func TestConnLost(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("ent: %w", &pgconn.PgError{Severity: "FATAL", Code: code}) }
	for _, tc := range []struct {
		name            string
		err             error
		lost, transient bool
	}{
		{"admin_shutdown (pg_terminate_backend)", pg("57P01"), true, true},
		{"crash_shutdown", pg("57P02"), true, true},
		{"cannot_connect_now", pg("57P03"), true, true},
		{"connection_failure", pg("08006"), true, true},
		{"bad pooled connection", driver.ErrBadConn, true, true},
		{"pgx conn closed", fmt.Errorf("rollback: %w", pgconn.ErrConnClosed), true, true},
		{"connection done", sql.ErrConnDone, true, true},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true, true},
		{"reset by peer", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true, true},
		{"serialization_failure", pg("40001"), false, true},
		{"deadlock_detected", pg("40P01"), false, true},
		{"unique_violation", pg("23505"), false, false},
		{"no rows", sql.ErrNoRows, false, false},
		{"canceled", fmt.Errorf("query: %w", context.Canceled), false, false},
		{"deadline", context.DeadlineExceeded, false, false},
		{"other", errors.New("syntax error"), false, false},
		{"nil", nil, false, false},
	} {
		if got := ConnLost(tc.err); got != tc.lost {
			t.Errorf("%s: ConnLost = %v, want %v", tc.name, got, tc.lost)
		}
		if got := Transient(tc.err); got != tc.transient {
			t.Errorf("%s: Transient = %v, want %v", tc.name, got, tc.transient)
		}
	}
}

// TestReadOnly: only plain SELECTs are repeated on another connection
// after a connection loss; anything that may write is not.
func TestReadOnly(t *testing.T) {
	for q, want := range map[string]bool{
		`SELECT "users"."id" FROM "users"`: true,
		"  select 1":                       true,
		"(SELECT 1) UNION (SELECT 2)":      true,
		`INSERT INTO "blobs" ("sha256") VALUES ($1) RETURNING "id"`: false,
		`UPDATE "access_tokens" SET "last_used_at" = $1`:            false,
		"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x":     false,
		"SEL": false,
	} {
		if got := readOnly(q); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", q, got, want)
		}
	}
}
