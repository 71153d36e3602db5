package fs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/blob/blobtest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s := newStore(t)
		// Every conformance test must leave the staging dir clean.
		t.Cleanup(func() { assertStagingEmpty(t, s) })
		return s
	})
}

func assertStagingEmpty(t *testing.T, s *Store) {
	t.Helper()
	entries, err := os.ReadDir(s.staging)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("staging file left behind: %s", e.Name())
	}
}

func TestReservedAndInvalidKeys(t *testing.T) {
	s := newStore(t)
	for _, key := range []string{".tmp", ".tmp/x", "", "/etc/passwd", "../x", "a/../../x", "a\\..\\b", "a\x00"} {
		if _, err := s.Put(t.Context(), key, bytes.NewReader([]byte("x")), 1); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
	}
	// Nothing escaped the root.
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.root), "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file written outside root: %v", err)
	}
	// Keys that merely start with a dot are fine.
	if _, err := s.Put(t.Context(), ".tmpx/a", bytes.NewReader([]byte("x")), 1); err != nil {
		t.Errorf("Put(.tmpx/a): %v", err)
	}
}

func TestFailedPutLeavesNoTempFiles(t *testing.T) {
	s := newStore(t)
	boom := errors.New("boom")
	cases := []struct {
		r    io.Reader
		size int64
	}{
		{bytes.NewReader(make([]byte, 10)), 11},
		{bytes.NewReader(make([]byte, 10)), 9},
		{io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), iotest.ErrReader(boom)), -1},
	}
	for _, tc := range cases {
		if _, err := s.Put(t.Context(), "k", tc.r, tc.size); err == nil {
			t.Errorf("Put(size %d) succeeded", tc.size)
		}
	}
	assertStagingEmpty(t, s)
	if _, err := os.Stat(filepath.Join(s.root, "k")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("final path exists after failed Puts: %v", err)
	}
}

func TestWalkSkipsStagingAndPrunesDirs(t *testing.T) {
	s := newStore(t)
	// Simulate an upload in progress.
	if err := os.WriteFile(filepath.Join(s.staging, "put-123"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "a/b/c", bytes.NewReader([]byte("x")), 1); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := s.Walk(t.Context(), "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "a/b/c" {
		t.Errorf("Walk = %q, want [a/b/c]", keys)
	}
	if err := s.Delete(t.Context(), "a/b/c"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.root, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty parent dirs not pruned: %v", err)
	}
	if _, err := os.Stat(s.staging); err != nil {
		t.Errorf("staging dir removed: %v", err)
	}
}

func TestNewRemovesStaleStagingFiles(t *testing.T) {
	root := t.TempDir()
	s := newStoreAt(t, root)
	stale := filepath.Join(s.staging, "put-stale")
	fresh := filepath.Join(s.staging, "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	newStoreAt(t, root)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale staging file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh staging file removed: %v", err)
	}
}

func newStoreAt(t *testing.T, root string) *Store {
	t.Helper()
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPingFailsWhenRootGone(t *testing.T) {
	s := newStore(t)
	if err := os.RemoveAll(s.root); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping succeeded on a removed root")
	}
}

// TestPutRacesDeletePruning: Delete prunes parent dirs that a concurrent Put
// into the same dirs may have just created.
func TestPutRacesDeletePruning(t *testing.T) {
	s := newStore(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 300 {
			_, _ = s.Put(t.Context(), "p/q/a", bytes.NewReader([]byte("a")), 1)
			_ = s.Delete(t.Context(), "p/q/a")
		}
	}()
	for i := range 300 {
		if _, err := s.Put(t.Context(), "p/q/b", bytes.NewReader([]byte("b")), 1); err != nil {
			t.Errorf("Put #%d: %v", i, err)
			break
		}
		if err := s.Delete(t.Context(), "p/q/b"); err != nil {
			t.Errorf("Delete #%d: %v", i, err)
			break
		}
	}
	<-done
}
