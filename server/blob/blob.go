// Package blob defines the streaming object store that holds package file
// contents. Implementations live in subpackages (fs, s3); blobtest holds the
// conformance suite that every implementation must pass.
//
// The store knows nothing about hashes or packages: the domain layer writes
// every upload once under a fresh random key while hashing the stream, and
// the database maps content hashes to keys.
package blob

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"
)

// ErrNotExist is returned when a key has no object. It matches fs.ErrNotExist
// with errors.Is.
var ErrNotExist = fs.ErrNotExist

// ErrSizeMismatch is returned by Put when the caller announced a size and the
// stream delivered a different number of bytes. Nothing is left at the key.
var ErrSizeMismatch = errors.New("blob: stream length does not match the announced size")

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Object is an open stored object. It is seekable so that http.ServeContent
// can answer Range and conditional requests on every backend.
type Object interface {
	io.ReadSeekCloser
	Info() Info
}

// Store is a flat key/value object store for large, immutable objects.
type Store interface {
	// Put streams r to key. size is the exact length when known, or -1.
	// Put never holds the whole body in memory, and on any error (including
	// ctx cancellation and ErrSizeMismatch) leaves nothing at key. It
	// returns the number of bytes written.
	Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error)
	// Open returns the object at key, or an error matching ErrNotExist.
	Open(ctx context.Context, key string) (Object, error)
	// Stat returns the object's Info, or an error matching ErrNotExist.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes key. A missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Walk calls fn for every object whose key starts with prefix, in no
	// particular order, until fn returns an error (which Walk returns).
	Walk(ctx context.Context, prefix string, fn func(Info) error) error
	// Ping checks that the backend is reachable (readiness probes).
	Ping(ctx context.Context) error
	// Name identifies the backend in logs and readiness output ("fs", "s3").
	Name() string
}

// FileBacked is implemented by objects that are open files on local disk.
type FileBacked interface {
	OSFile() *os.File
}

// StagingCleaner is implemented by stores whose Put keeps data outside the
// key space while it runs: the filesystem's staging files, S3's multipart
// uploads. A Put that is killed (a crash, kill -9) leaves that data behind
// where Walk never sees it; the sweeper reclaims it through this.
type StagingCleaner interface {
	// RemoveStaleUploads removes the staging data of uploads that no Put
	// of this process is running and that nothing has written to since
	// before. It returns how many uploads it removed and their bytes.
	RemoveStaleUploads(ctx context.Context, before time.Time) (removed int, bytes int64, err error)
}
