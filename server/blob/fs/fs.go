// Package fs is a blob.Store on the local filesystem.
//
// Objects live at root/<key>. Put writes into root/.tmp (same filesystem, so
// rename is atomic), fsyncs, and renames into place: a reader never sees a
// partial object. The top-level ".tmp" key segment is therefore reserved.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/blob/internal/blobutil"
)

const (
	stagingName = ".tmp"
	// Staging files untouched for this long are leftovers of a crash; New
	// removes them even when no sweeper runs.
	staleAge = 24 * time.Hour
	// touchEvery is how often a running Put refreshes its staging file's
	// mtime while no bytes arrive (the read-ahead writes only whole
	// chunks, so a slow client can leave the file unwritten for long), so
	// that another process sharing root and sweeping with a grace above
	// this never takes a live upload for a leftover.
	touchEvery = time.Minute
)

// Store is a blob.Store rooted at a local directory.
type Store struct {
	root    string
	staging string
	// dirMu keeps Delete's pruning of empty parents from removing a
	// directory between a Put's mkdir and rename in this process.
	dirMu sync.RWMutex
	// live holds the staging paths of Puts running in this process: the
	// sweep never removes those, however long their client pauses.
	live sync.Map
}

var (
	_ blob.Store          = (*Store)(nil)
	_ blob.StagingCleaner = (*Store)(nil)
)

// New opens (creating if needed) a store rooted at root.
func New(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("blob/fs: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: %w", err)
	}
	s := &Store{root: abs, staging: filepath.Join(abs, stagingName)}
	if err := os.MkdirAll(s.staging, 0o755); err != nil {
		return nil, fmt.Errorf("blob/fs: create root: %w", err)
	}
	s.removeStale()
	return s, nil
}

// removeStale deletes temp files left by a crash; live uploads keep writing
// and so keep a recent mtime.
func (s *Store) removeStale() {
	entries, err := os.ReadDir(s.staging)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleAge {
			_ = os.Remove(filepath.Join(s.staging, e.Name()))
		}
	}
}

// keepFresh refreshes path's mtime every touchEvery until stop is called.
func keepFresh(path string) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(touchEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				_ = os.Chtimes(path, now, now)
			}
		}
	}()
	return func() { close(done) }
}

// RemoveStaleUploads implements blob.StagingCleaner: staging files that no
// Put of this process owns and whose mtime (last written, or refreshed by
// a running Put of another process) is before the cutoff.
func (s *Store) RemoveStaleUploads(ctx context.Context, before time.Time) (int, int64, error) {
	entries, err := os.ReadDir(s.staging)
	if err != nil {
		return 0, 0, fmt.Errorf("blob/fs: list staging: %w", err)
	}
	removed, bytes := 0, int64(0)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, bytes, err
		}
		p := filepath.Join(s.staging, e.Name())
		if !e.Type().IsRegular() {
			continue
		}
		if _, ok := s.live.Load(p); ok {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue // gone meanwhile, or written to recently
		}
		if err := os.Remove(p); err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				continue
			}
			return removed, bytes, fmt.Errorf("blob/fs: remove staging file: %w", err)
		}
		removed++
		bytes += info.Size()
	}
	return removed, bytes, nil
}

// Name implements blob.Store.
func (s *Store) Name() string { return "fs" }

func (s *Store) path(key string) (string, error) {
	if err := blobutil.ValidateKey(key); err != nil {
		return "", err
	}
	if key == stagingName || strings.HasPrefix(key, stagingName+"/") {
		return "", fmt.Errorf("blob/fs: key %q uses the reserved %q directory", key, stagingName)
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	dst, err := s.path(key)
	if err != nil {
		return 0, err
	}
	if err := blobutil.ValidateSize(size); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(s.staging, "put-*")
	if err != nil {
		return 0, fmt.Errorf("blob/fs: put %q: %w", key, err)
	}
	tmp := f.Name()
	s.live.Store(tmp, struct{}{})
	stopTouch := keepFresh(tmp)
	done := false
	defer func() {
		stopTouch()
		if !done {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
		s.live.Delete(tmp)
	}()

	cr := blobutil.NewReader(ctx, r, size)
	// Copy in 1 MiB writes (io.Copy's 32 KiB means 32 syscalls per MiB);
	// the struct hides File.ReadFrom, whose fallback would use 32 KiB again.
	buf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(struct{ io.Writer }{f}, cr, *buf)
	copyBufs.Put(buf)
	if err == nil {
		err = cr.Finish()
	}
	if err != nil {
		return 0, fmt.Errorf("blob/fs: put %q: %w", key, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return 0, fmt.Errorf("blob/fs: put %q: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("blob/fs: put %q: sync: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("blob/fs: put %q: %w", key, err)
	}
	// Last chance to honour cancellation before the object becomes visible.
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("blob/fs: put %q: %w", key, err)
	}
	if err := s.commit(tmp, dst); err != nil {
		return 0, fmt.Errorf("blob/fs: put %q: %w", key, err)
	}
	done = true
	return n, nil
}

// commit renames tmp to dst and makes the rename durable.
func (s *Store) commit(tmp, dst string) error {
	dir := filepath.Dir(dst)
	var err error
	// Another process sharing root may still prune directories we just
	// created or found.
	for range 10 {
		s.dirMu.RLock()
		err = s.mkdirAll(dir)
		if err == nil {
			err = os.Rename(tmp, dst)
		}
		s.dirMu.RUnlock()
		if !errors.Is(err, iofs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		_ = os.Remove(dst)
		return err
	}
	return nil
}

// mkdirAll creates dir below root, fsyncing each parent that gains an entry
// so that the new path survives a crash.
func (s *Store) mkdirAll(dir string) error {
	rel, err := filepath.Rel(s.root, dir)
	if err != nil || rel == "." {
		return err
	}
	cur := s.root
	for seg := range strings.SplitSeq(rel, string(filepath.Separator)) {
		parent := cur
		cur = filepath.Join(cur, seg)
		err := os.Mkdir(cur, 0o755)
		switch {
		case err == nil:
			if err := syncDir(parent); err != nil {
				return err
			}
		case errors.Is(err, iofs.ErrExist):
			// Existing dir is fine; a file there makes rename fail later.
		default:
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

type object struct {
	*os.File
	info blob.Info
}

func (o *object) Info() blob.Info { return o.info }

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: open %q: %w", key, notExist(err))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file: %w", blob.ErrNotExist)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("blob/fs: open %q: %w", key, err)
	}
	return &object{File: f, info: info(key, fi)}, nil
}

// notExist makes "a/b" missing when "a" is an object (ENOTDIR), as on S3.
func notExist(err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", blob.ErrNotExist, err)
	}
	return err
}

func info(key string, fi iofs.FileInfo) blob.Info {
	return blob.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	p, err := s.path(key)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	fi, err := os.Stat(p)
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file: %w", blob.ErrNotExist)
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("blob/fs: stat %q: %w", key, notExist(err))
	}
	return info(key, fi), nil
}

// Delete implements blob.Store. Emptied parent directories are pruned.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return nil // not an object; os.Remove would delete an empty dir
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(notExist(err), iofs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("blob/fs: delete %q: %w", key, err)
	}
	// os.Remove fails on non-empty dirs, which ends the pruning.
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	for dir := filepath.Dir(p); dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// Walk implements blob.Store.
func (s *Store) Walk(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	// Start at the deepest directory the prefix names, when it is a valid key.
	start := s.root
	if i := strings.LastIndexByte(prefix, '/'); i > 0 {
		if p, err := s.path(prefix[:i]); err == nil {
			start = p
		}
	}
	var fnErr error
	err := filepath.WalkDir(start, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return nil // start dir absent or entry deleted meanwhile
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p == s.staging {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return nil
			}
			return err
		}
		// Returned via fnErr so that fn returning SkipDir/SkipAll is not
		// interpreted by WalkDir.
		if fnErr = fn(info(key, fi)); fnErr != nil {
			return filepath.SkipAll
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// Ping implements blob.Store: the root must exist and accept new files.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(s.root)
	if err != nil {
		return fmt.Errorf("blob/fs: ping: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("blob/fs: ping: %s is not a directory", s.root)
	}
	f, err := os.CreateTemp(s.staging, "ping-*")
	if err != nil {
		return fmt.Errorf("blob/fs: ping: not writable: %w", err)
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// OSFile exposes the open file so that HTTP handlers can hand it to
// http.ServeContent directly and get the kernel's sendfile path.
func (o *object) OSFile() *os.File { return o.File }
