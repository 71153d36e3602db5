// Package blobutil holds the pieces shared by the blob backends: key
// validation and the reader wrapper that enforces Put's size and ctx rules.
package blobutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/pkgreg/registry/server/blob"
)

// ValidateKey enforces one key syntax for every backend, so that a key
// accepted by one store is accepted by all and maps to exactly one path.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return errors.New("blob: empty key")
	case !utf8.ValidString(key):
		return fmt.Errorf("blob: key %q is not valid UTF-8", key)
	case strings.ContainsAny(key, "\\\x00"):
		return fmt.Errorf("blob: key %q contains a backslash or NUL", key)
	case key[0] == '/':
		return fmt.Errorf("blob: key %q is absolute", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("blob: key %q has an empty, '.' or '..' segment", key)
		}
	}
	return nil
}

// ValidateSize rejects sizes other than -1 (unknown) or a real length.
func ValidateSize(size int64) error {
	if size < -1 {
		return fmt.Errorf("blob: invalid size %d", size)
	}
	return nil
}

var errClosed = errors.New("blob: upload finished, reader closed")

// Reader wraps the body of a Put. It counts bytes, fails Reads once ctx is
// done, and when the size is known turns a short stream, or a long one, into
// an ErrSizeMismatch read error. The long case is detected by probing for
// one extra byte as soon as the announced length has been read, before the
// consumer sees EOF, so an S3 upload is aborted rather than committed.
type Reader struct {
	ctx  context.Context
	r    io.Reader
	size int64

	n      atomic.Int64
	closed atomic.Bool
	// readMu is held while the underlying reader is read, so that Close
	// can wait out a Read in progress.
	readMu sync.Mutex

	mu  sync.Mutex
	err error // first terminal error; io.EOF on a clean end
}

// NewReader wraps r; size is the announced length or -1.
func NewReader(ctx context.Context, r io.Reader, size int64) *Reader {
	return &Reader{ctx: ctx, r: r, size: size}
}

func (c *Reader) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	// An HTTP transport may still read the body after the request returned;
	// never touch the caller's reader once Put is done with it.
	if c.closed.Load() {
		return 0, errClosed
	}
	if err := c.terminal(); err != nil {
		return 0, err
	}
	if err := c.ctx.Err(); err != nil {
		return 0, c.setErr(err)
	}
	n := c.n.Load()
	if c.size >= 0 {
		rem := c.size - n
		if rem == 0 {
			return 0, c.setErr(c.probe())
		}
		if int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	k, err := c.r.Read(p)
	n = c.n.Add(int64(k))
	if c.size >= 0 {
		switch {
		case err == io.EOF && n < c.size:
			err = fmt.Errorf("%w: announced %d bytes, stream ended after %d", blob.ErrSizeMismatch, c.size, n)
		case err == nil && n == c.size:
			err = c.probe()
		}
	}
	if err != nil {
		err = c.setErr(err)
	}
	return k, err
}

// probe reads one byte past the end to tell a clean EOF from a long stream.
func (c *Reader) probe() error {
	var b [1]byte
	for range 100 {
		k, err := c.r.Read(b[:])
		if k > 0 {
			if c.size < 0 {
				return errors.New("blob: stream was not read to the end")
			}
			return fmt.Errorf("%w: announced %d bytes, stream is longer", blob.ErrSizeMismatch, c.size)
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

func (c *Reader) terminal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Reader) setErr(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	return c.err
}

// N returns the number of bytes delivered to the consumer.
func (c *Reader) N() int64 { return c.n.Load() }

// Err returns the error that ended the stream, or nil if it has not ended
// or ended cleanly.
func (c *Reader) Err() error {
	if err := c.terminal(); err != io.EOF {
		return err
	}
	return nil
}

// Finish confirms the stream ended cleanly at the expected length, probing
// for EOF if the consumer stopped reading early (e.g. S3 never reads a
// zero-length body). It returns nil only for a clean end.
func (c *Reader) Finish() error {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	err := c.terminal()
	if err == nil {
		if c.size >= 0 && c.N() != c.size {
			return fmt.Errorf("%w: announced %d bytes, %d consumed", blob.ErrSizeMismatch, c.size, c.N())
		}
		err = c.setErr(c.probe())
	}
	if err == io.EOF {
		return nil
	}
	return err
}

// Close stops all further reads of the underlying reader and waits for a
// Read in progress (a Put that returns while minio-go still runs in the
// background must not leave it reading the caller's reader).
func (c *Reader) Close() {
	c.closed.Store(true)
	c.readMu.Lock()
	c.readMu.Unlock() //nolint:staticcheck // an empty critical section: waiting is the point
}
