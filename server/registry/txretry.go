package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/database"
)

// maxTxAttempts bounds retryTx: a database that is still failing after this
// many tries (about a third of a second of backoff) is reported as down.
const maxTxAttempts = 5

// errCommitUnknown marks a transaction whose COMMIT was sent on a
// connection that then died, and whose outcome could not be read back: its
// changes may be in the database. Callers must not undo what the
// transaction depends on (addPackageFile keeps the stored object).
var errCommitUnknown = errors.New("the outcome of the commit is unknown")

// txOnce runs fn in one transaction, rolling back on error or panic.
// atCommit reports that err came from COMMIT itself. With xid set (on
// PostgreSQL), the transaction's id is read first, so that a COMMIT whose
// connection died can be looked up afterwards.
func (s *Service) txOnce(ctx context.Context, fn func(tx *ent.Tx) error, xid *int64) (atCommit bool, err error) {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return false, Internal(err, "could not start a transaction")
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if xid != nil && s.dialect == dialect.Postgres {
		if err := readXID(ctx, tx, xid); err != nil {
			_ = tx.Rollback()
			return false, err
		}
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			err = fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return true, err
	}
	return false, nil
}

func readXID(ctx context.Context, tx *ent.Tx, xid *int64) error {
	rows, err := tx.QueryContext(ctx, "SELECT txid_current()")
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return errors.New("txid_current() returned no row")
	}
	return rows.Scan(xid)
}

// RetryTx runs fn in a transaction and runs it again, from the start, when
// the database reports a transient failure: a deadlock or serialization
// failure (PostgreSQL), a busy database (SQLite), or a connection lost
// before the transaction committed (a terminated backend, a restart, a
// failover). fn must be safe to run again: it may only change the database
// through tx, and it sets its results afresh on each run. Domain errors end
// the attempt at once. What is still failing after maxTxAttempts is
// Unavailable (503 with Retry-After), never Internal.
//
// A COMMIT whose connection died may or may not have taken effect. Running
// fn again blindly could record an upload twice, or reject it as a
// duplicate of itself; so on PostgreSQL each attempt reads its transaction
// id and, when COMMIT fails that way, asks txid_status() on a fresh
// connection: committed is success (fn's results stand), aborted is safe
// to retry, and no answer is errCommitUnknown (503, nothing undone).
func (s *Service) RetryTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		var xid int64
		var atCommit bool
		atCommit, err = s.txOnce(ctx, fn, &xid)
		if err == nil {
			return nil
		}
		if atCommit && xid != 0 && database.ConnLost(err) {
			switch s.xactStatus(ctx, xid) {
			case "committed":
				s.log.InfoContext(ctx, "a commit's connection was lost; the transaction had committed", "xid", xid, "err", err)
				return nil
			case "aborted":
				// Nothing was written: retrying is safe.
			default:
				return &Error{Kind: KindUnavailable, Cause: errors.Join(errCommitUnknown, err),
					Message: "the database connection was lost while committing; the change may have been recorded"}
			}
		}
		if atCommit && ent.IsConstraintError(err) {
			// A deferred check failed against a concurrent change: as withTx.
			err = Conflict("a concurrent change conflicted with this one; try again")
		}
		if !transient(err) || attempt == maxTxAttempts {
			break
		}
		// Jittered exponential backoff (10, 20, 40, 80 ms on average):
		// enough for the pool to open a new connection, short enough that
		// the client does not notice.
		d := time.Duration(float64(10*time.Millisecond<<(attempt-1)) * (0.5 + rand.Float64()))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	if ent.IsConstraintError(err) {
		return Conflict("a concurrent change conflicted with this one; try again")
	}
	return Internal(err, "could not record the change")
}

// xactStatus asks PostgreSQL what became of transaction xid: "committed",
// "aborted", or "" when it cannot tell. It runs detached from the request
// (a client that went away still needs its object kept or deleted rightly),
// on a pool connection that the driver checks; a backend still finishing
// the dead connection's work answers "in progress" for a moment.
func (s *Service) xactStatus(ctx context.Context, xid int64) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for try := range 5 {
		if try > 0 {
			time.Sleep(time.Duration(25<<try) * time.Millisecond)
		}
		rows, err := s.db.QueryContext(ctx, "SELECT txid_status($1)", xid)
		if err != nil {
			continue
		}
		var st sql.NullString
		if rows.Next() {
			err = rows.Scan(&st)
		}
		rows.Close()
		if err == nil && (st.String == "committed" || st.String == "aborted") {
			return st.String
		}
	}
	return ""
}

// transient reports a failure after which the same transaction may
// succeed when run again.
func transient(err error) bool {
	if database.Transient(err) {
		return true
	}
	var de *Error
	if errors.As(err, &de) && de.Kind == KindConflict && de.Cause == nil && strings.Contains(de.Message, "try again") {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}
