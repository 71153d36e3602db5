package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// ConnLost reports whether err means the database connection broke: the
// server closed it (pg_terminate_backend, a restart, a failover), the
// network failed, or the pool handed out a connection that had died. Such a
// statement did not complete; whether a COMMIT that failed this way took
// effect is unknown (see registry.retryTx).
func ConnLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The caller gave up (context.DeadlineExceeded is also a net.Error).
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Class 08: connection exception. 57P01 admin_shutdown (what
		// pg_terminate_backend sends), 57P02 crash_shutdown, 57P03
		// cannot_connect_now (starting up or shutting down).
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.As(err, &ne)
}

// Transient reports whether a transaction that failed with err may succeed
// when run again from the start: the connection was lost, or PostgreSQL
// aborted it as a serialization failure (40001) or a deadlock (40P01).
func Transient(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01") {
		return true
	}
	return ConnLost(err)
}

// openPostgres opens a pool whose connections report a read that failed on
// a dead connection as driver.ErrBadConn, so that database/sql retries it on
// another connection (up to three times, the last on a new one) instead of
// failing the request.
//
// pgx's own driver does that only when nothing was sent (the pool noticed
// the close, or the write failed). A terminated backend is usually noticed
// later: the query goes out and the reply is the server's FATAL 57P01. For
// a SELECT outside a transaction that is still safe to repeat: it changed
// nothing. Statements that may write, and anything inside a transaction,
// keep their error; transactions are retried whole by the caller, which
// knows whether repeating them is safe.
func openPostgres(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(retryingConnector{stdlib.GetConnector(*cfg)}), nil
}

type retryingConnector struct{ driver.Connector }

func (c retryingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &retryingConn{Conn: dc.(*stdlib.Conn)}, nil
}

// retryingConn is pgx's connection with BeginTx and QueryContext turning
// connection loss into driver.ErrBadConn where repeating is safe. database/sql
// uses a connection from one goroutine at a time, so inTx needs no lock.
type retryingConn struct {
	*stdlib.Conn
	inTx bool
}

func (c *retryingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		// BEGIN changes nothing: always safe to repeat elsewhere.
		if ctx.Err() == nil && ConnLost(err) {
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	c.inTx = true
	return &trackedTx{Tx: tx, c: c}, nil
}

func (c *retryingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, query, args)
	if err != nil && !c.inTx && ctx.Err() == nil && readOnly(query) && ConnLost(err) {
		return nil, driver.ErrBadConn
	}
	return rows, err
}

// readOnly reports a plain SELECT (what ent's reads are).
func readOnly(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

type trackedTx struct {
	driver.Tx
	c *retryingConn
}

func (t *trackedTx) Commit() error {
	t.c.inTx = false
	return t.Tx.Commit()
}

func (t *trackedTx) Rollback() error {
	t.c.inTx = false
	return t.Tx.Rollback()
}
