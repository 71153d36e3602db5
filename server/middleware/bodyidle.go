package middleware

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// ErrBodyIdle is what a request body's Read returns once the client has
// sent nothing for the idle timeout.
var ErrBodyIdle = errors.New("the request body sent nothing for too long")

// BodyIdleTimeout cuts request bodies that stop moving: every Read of the
// body first moves the connection's read deadline to now+d, so a client
// that stalls for d is cut (the handler's Read fails with ErrBodyIdle and
// the client gets 408), while a slow upload that keeps sending, however
// long it takes in total, is never cut. The deadline is set when a Read
// starts, not after one returns, so time the server spends not reading
// (a slow blob store applying backpressure) never counts against the
// client. d <= 0 disables it; requests without a body are not touched.
func BodyIdleTimeout(next http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		b := &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), d: d}
		r.Body = b
		iw := &idleWriter{ResponseWriter: w, body: b}
		next.ServeHTTP(iw, r)
		if b.stalled.Load() && !iw.wroteHeader {
			iw.WriteHeader(http.StatusRequestTimeout)
		}
	})
}

type idleBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	d       time.Duration
	stalled atomic.Bool
	// armed is set while a deadline is on the connection.
	armed atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.stalled.Load() {
		return 0, ErrBodyIdle
	}
	if b.rc.SetReadDeadline(time.Now().Add(b.d)) == nil {
		b.armed.Store(true)
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil && b.armed.Load() {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			b.stalled.Store(true)
			return n, fmt.Errorf("%w (%s): %w", ErrBodyIdle, b.d, err)
		}
		// End of body (or another failure): net/http now reads the
		// connection in the background to notice a client that goes away,
		// and a deadline left behind would fire there and cancel the
		// request's context while the handler is still working.
		_ = b.rc.SetReadDeadline(time.Time{})
		b.armed.Store(false)
	}
	return n, err
}

// idleWriter answers 408 instead of whatever the handler makes of a body
// that stalled (a 400 "interrupted", a 503 "could not store"): the client
// is the one that stopped, and every handler gets this for free.
type idleWriter struct {
	http.ResponseWriter
	body        *idleBody
	wroteHeader bool
	replaced    bool
}

const idleMessage = `{"message":"408 Request Timeout - the request body sent nothing for too long"}` + "\n"

func (w *idleWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if w.body.stalled.Load() {
		w.replaced = true
		h := w.Header()
		for k := range h {
			if k != "X-Request-Id" {
				delete(h, k)
			}
		}
		h.Set("Content-Type", "application/json")
		h.Set("Connection", "close")
		w.ResponseWriter.WriteHeader(http.StatusRequestTimeout)
		_, _ = io.WriteString(w.ResponseWriter, idleMessage)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *idleWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(p), nil // the handler's own answer is dropped
	}
	return w.ResponseWriter.Write(p)
}

func (w *idleWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
