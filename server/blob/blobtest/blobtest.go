// Package blobtest is the conformance suite every blob.Store must pass.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/pkgreg/registry/server/blob"
)

const (
	// LargeSize is big enough to span several parts of an S3 store whose
	// PartSize is 5 MiB (multipart with unknown size).
	LargeSize = 40 << 20
	// pastOnePart exceeds a 5 MiB part, so failures happen mid-multipart.
	pastOnePart = 6 << 20
)

// Run runs the conformance suite. newStore must return an empty store that
// no other subtest uses.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"Basics", testBasics},
		{"RoundTrip", testRoundTrip},
		{"Seek", testSeek},
		{"ServeContentRange", testServeContent},
		{"Stat", testStat},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"SizeMismatch", testSizeMismatch},
		{"ReaderError", testReaderError},
		{"Cancelled", testCancelled},
		{"Overwrite", testOverwrite},
		{"Walk", testWalk},
		{"Large", testLarge},
		{"Concurrent", testConcurrent},
		{"InvalidKeys", testInvalidKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// PRNG returns n deterministic pseudo-random bytes for seed, generated on
// the fly so large bodies are never held in memory.
func PRNG(seed uint64, n int64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

func prngBytes(seed uint64, n int) []byte {
	b, err := io.ReadAll(PRNG(seed, int64(n)))
	if err != nil {
		panic(err)
	}
	return b
}

func sha(t *testing.T, r io.Reader) [32]byte {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("hashing: %v", err)
	}
	return [32]byte(h.Sum(nil))
}

func put(t *testing.T, s blob.Store, key string, data []byte, size int64) {
	t.Helper()
	n, err := s.Put(t.Context(), key, bytes.NewReader(data), size)
	if err != nil {
		t.Fatalf("Put(%q, size %d): %v", key, size, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Put(%q) = %d bytes, want %d", key, n, len(data))
	}
}

func get(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	if got := o.Info().Size; got != int64(len(b)) {
		t.Errorf("Open(%q).Info().Size = %d, read %d bytes", key, got, len(b))
	}
	return b
}

func assertNotExist(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if info, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotExist) {
		t.Errorf("Stat(%q) = %+v, %v; want ErrNotExist", key, info, err)
	}
	o, err := s.Open(t.Context(), key)
	if err == nil {
		o.Close()
	}
	if !errors.Is(err, blob.ErrNotExist) {
		t.Errorf("Open(%q) error = %v; want ErrNotExist", key, err)
	}
}

func assertEmpty(t *testing.T, s blob.Store) {
	t.Helper()
	var keys []string
	err := s.Walk(t.Context(), "", func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if len(keys) > 0 {
		t.Errorf("store should be empty, has %q", keys)
	}
}

func testBasics(t *testing.T, s blob.Store) {
	if s.Name() == "" {
		t.Error("Name() is empty")
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	for _, n := range []int{0, 1, 1000, 100 << 10} {
		for _, known := range []bool{true, false} {
			t.Run(fmt.Sprintf("len=%d/known=%v", n, known), func(t *testing.T) {
				data := prngBytes(uint64(n), n)
				size := int64(-1)
				if known {
					size = int64(n)
				}
				key := fmt.Sprintf("rt/%d/%v", n, known)
				put(t, s, key, data, size)
				if got := get(t, s, key); !bytes.Equal(got, data) {
					t.Errorf("read back %d bytes, differ from the %d written", len(got), len(data))
				}
			})
		}
	}
}

func testSeek(t *testing.T, s blob.Store) {
	data := prngBytes(1, 10000)
	put(t, s, "seek/obj", data, int64(len(data)))
	o, err := s.Open(t.Context(), "seek/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if info := o.Info(); info.Size != int64(len(data)) || info.Key != "seek/obj" {
		t.Errorf("Info() = %+v", info)
	}

	readAt := func(off int64, whence int, wantPos int64, n int) []byte {
		t.Helper()
		pos, err := o.Seek(off, whence)
		if err != nil || pos != wantPos {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", off, whence, pos, err, wantPos)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(o, buf); err != nil {
			t.Fatalf("read after Seek(%d, %d): %v", off, whence, err)
		}
		return buf
	}
	if got := readAt(100, io.SeekStart, 100, 50); !bytes.Equal(got, data[100:150]) {
		t.Error("range at 100 differs")
	}
	if got := readAt(1000, io.SeekCurrent, 1150, 10); !bytes.Equal(got, data[1150:1160]) {
		t.Error("range after SeekCurrent differs")
	}
	if got := readAt(-10, io.SeekEnd, int64(len(data))-10, 10); !bytes.Equal(got, data[len(data)-10:]) {
		t.Error("tail differs")
	}
	if n, err := o.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read at end = %d, %v; want 0, EOF", n, err)
	}
	if got := readAt(0, io.SeekStart, 0, len(data)); !bytes.Equal(got, data) {
		t.Error("full re-read differs")
	}
}

// testServeContent checks the reason Object is seekable.
func testServeContent(t *testing.T, s blob.Store) {
	data := prngBytes(2, 5000)
	put(t, s, "serve", data, int64(len(data)))
	o, err := s.Open(t.Context(), "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	req := httptest.NewRequest(http.MethodGet, "/serve", nil)
	req.Header.Set("Range", "bytes=10-19")
	rec := httptest.NewRecorder()
	http.ServeContent(rec, req, "serve", o.Info().ModTime, o)
	if rec.Code != http.StatusPartialContent {
		t.Fatalf("status %d, want 206", rec.Code)
	}
	if got, want := rec.Header().Get("Content-Range"), "bytes 10-19/5000"; got != want {
		t.Errorf("Content-Range %q, want %q", got, want)
	}
	if !bytes.Equal(rec.Body.Bytes(), data[10:20]) {
		t.Errorf("body %x, want %x", rec.Body.Bytes(), data[10:20])
	}
}

func testStat(t *testing.T, s blob.Store) {
	put(t, s, "stat/a", []byte("hello"), 5)
	info, err := s.Stat(t.Context(), "stat/a")
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != "stat/a" || info.Size != 5 || info.ModTime.IsZero() {
		t.Errorf("Stat = %+v", info)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	assertNotExist(t, s, "nope")
	assertNotExist(t, s, "missing/deep/key")
	// A key that is only a "directory" of another key is not an object.
	put(t, s, "dir/child", []byte("x"), 1)
	assertNotExist(t, s, "dir")
	// Nor is a key below an object.
	assertNotExist(t, s, "dir/child/below")
	if err := s.Delete(t.Context(), "dir/child/below"); err != nil {
		t.Errorf("Delete below an object = %v, want nil", err)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	if err := s.Delete(t.Context(), "never/existed"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil", err)
	}
	put(t, s, "del/a/b", []byte("x"), 1)
	put(t, s, "del/a/c", []byte("y"), 1)
	if err := s.Delete(t.Context(), "del/a/b"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertNotExist(t, s, "del/a/b")
	if got := get(t, s, "del/a/c"); string(got) != "y" {
		t.Errorf("sibling changed: %q", got)
	}
	if err := s.Delete(t.Context(), "del/a/b"); err != nil {
		t.Errorf("second Delete = %v, want nil", err)
	}
	if err := s.Delete(t.Context(), "del/a/c"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertEmpty(t, s)
	// Deleting must not stop later writes below the same parents.
	put(t, s, "del/a/d", []byte("z"), 1)
	if got := get(t, s, "del/a/d"); string(got) != "z" {
		t.Errorf("got %q", got)
	}
}

func testSizeMismatch(t *testing.T, s blob.Store) {
	cases := []struct {
		name string
		len  int
		size int64
	}{
		{"announced larger", 1000, 1001},
		{"announced smaller", 1000, 999},
		{"announced zero", 1000, 0},
		{"empty stream", 0, 10},
		{"announced smaller past one part", pastOnePart, pastOnePart - 1},
		// Above minio-go's 16 MiB single-PUT threshold: known-size multipart.
		{"announced larger multipart", 17 << 20, 17<<20 + 1},
		{"announced smaller multipart", 17 << 20, 17<<20 - 1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("mismatch/%d", i)
			n, err := s.Put(t.Context(), key, PRNG(uint64(i), int64(tc.len)), tc.size)
			if !errors.Is(err, blob.ErrSizeMismatch) {
				t.Errorf("Put = %d, %v; want ErrSizeMismatch", n, err)
			}
			assertNotExist(t, s, key)
		})
	}
}

var errBoom = errors.New("blobtest: reader failed")

func testReaderError(t *testing.T, s blob.Store) {
	cases := []struct {
		name      string
		goodBytes int64
		size      int64
	}{
		{"unknown size", 1000, -1},
		{"known size", 1000, 2000},
		{"unknown size past one part", pastOnePart, -1},
		{"known size past one part", 17 << 20, 18 << 20},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("readerr/%d", i)
			r := io.MultiReader(PRNG(1, tc.goodBytes), iotest.ErrReader(errBoom))
			if _, err := s.Put(t.Context(), key, r, tc.size); !errors.Is(err, errBoom) {
				t.Errorf("Put error = %v; want errBoom", err)
			}
			assertNotExist(t, s, key)
		})
	}
	assertEmpty(t, s)
}

// cancelReader cancels its context once after bytes have been read, then
// keeps serving data so only the context can stop the upload.
type cancelReader struct {
	r      io.Reader
	after  int64
	read   int64
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read >= c.after {
		c.cancel()
	}
	return n, err
}

func testCancelled(t *testing.T, s blob.Store) {
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Put(ctx, "cancel/before", bytes.NewReader([]byte("data")), 4); !errors.Is(err, context.Canceled) {
			t.Errorf("Put error = %v; want context.Canceled", err)
		}
		assertNotExist(t, s, "cancel/before")
	})
	cases := []struct {
		name  string
		after int64
		total int64
		size  int64
	}{
		{"midway unknown size", 1000, 1 << 20, -1},
		{"midway known size", 1000, 1 << 20, 1 << 20},
		{"midway past one part", pastOnePart, LargeSize, -1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("cancel/%d", i)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &cancelReader{r: PRNG(3, tc.total), after: tc.after, cancel: cancel}
			if _, err := s.Put(ctx, key, r, tc.size); !errors.Is(err, context.Canceled) {
				t.Errorf("Put error = %v; want context.Canceled", err)
			}
			assertNotExist(t, s, key)
		})
	}
	assertEmpty(t, s)
}

func testOverwrite(t *testing.T, s blob.Store) {
	put(t, s, "over", prngBytes(4, 2000), 2000)
	second := prngBytes(5, 300)
	put(t, s, "over", second, -1)
	if got := get(t, s, "over"); !bytes.Equal(got, second) {
		t.Error("content is not the second write")
	}
	if info, err := s.Stat(t.Context(), "over"); err != nil || info.Size != 300 {
		t.Errorf("Stat = %+v, %v; want size 300", info, err)
	}
}

func testWalk(t *testing.T, s blob.Store) {
	sizes := map[string]int{
		"walk/a/1":   1,
		"walk/a/2":   2,
		"walk/a2":    3,
		"walk/b/c/3": 4,
		"walkx/1":    5,
		"other":      6,
	}
	for k, n := range sizes {
		put(t, s, k, prngBytes(6, n), int64(n))
	}
	walk := func(prefix string) []string {
		t.Helper()
		var keys []string
		err := s.Walk(t.Context(), prefix, func(i blob.Info) error {
			if want := sizes[i.Key]; int64(want) != i.Size {
				t.Errorf("Walk: %q has size %d, want %d", i.Key, i.Size, want)
			}
			if i.ModTime.IsZero() {
				t.Errorf("Walk: %q has zero ModTime", i.Key)
			}
			keys = append(keys, i.Key)
			return nil
		})
		if err != nil {
			t.Fatalf("Walk(%q): %v", prefix, err)
		}
		slices.Sort(keys)
		return keys
	}
	for prefix, want := range map[string][]string{
		"":          {"other", "walk/a/1", "walk/a/2", "walk/a2", "walk/b/c/3", "walkx/1"},
		"walk/a/":   {"walk/a/1", "walk/a/2"},
		"walk/a":    {"walk/a/1", "walk/a/2", "walk/a2"},
		"walk/":     {"walk/a/1", "walk/a/2", "walk/a2", "walk/b/c/3"},
		"walk":      {"walk/a/1", "walk/a/2", "walk/a2", "walk/b/c/3", "walkx/1"},
		"walk/b/c/": {"walk/b/c/3"},
		"nothing/":  nil,
		"walk/zz/":  nil,
	} {
		if got := walk(prefix); !slices.Equal(got, want) {
			t.Errorf("Walk(%q) = %q, want %q", prefix, got, want)
		}
	}

	errStop := errors.New("stop")
	calls := 0
	err := s.Walk(t.Context(), "", func(blob.Info) error { calls++; return errStop })
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("Walk with failing fn = %v after %d calls; want errStop after 1", err, calls)
	}
}

func testLarge(t *testing.T, s blob.Store) {
	want := sha(t, PRNG(7, LargeSize))
	for _, size := range []int64{-1, LargeSize} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			key := fmt.Sprintf("large/%d", size)
			n, err := s.Put(t.Context(), key, PRNG(7, LargeSize), size)
			if err != nil || n != LargeSize {
				t.Fatalf("Put = %d, %v; want %d", n, err, LargeSize)
			}
			o, err := s.Open(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if o.Info().Size != LargeSize {
				t.Errorf("Info().Size = %d", o.Info().Size)
			}
			if got := sha(t, o); got != want {
				t.Error("SHA-256 of the stored object differs")
			}
			// A range from a later part.
			const off = 30<<20 + 123
			if _, err := o.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 4096)
			if _, err := io.ReadFull(o, got); err != nil {
				t.Fatal(err)
			}
			exp := PRNG(7, LargeSize)
			if _, err := io.CopyN(io.Discard, exp, off); err != nil {
				t.Fatal(err)
			}
			wantRange := make([]byte, len(got))
			if _, err := io.ReadFull(exp, wantRange); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, wantRange) {
				t.Error("range at 30 MiB differs")
			}
		})
	}
}

func testConcurrent(t *testing.T, s blob.Store) {
	const workers = 8
	const n = 256 << 10
	var wg sync.WaitGroup
	var failed atomic.Bool
	for i := range workers {
		wg.Go(func() {
			size := int64(n)
			if i%2 == 1 {
				size = -1
			}
			key := fmt.Sprintf("concurrent/%d", i)
			if got, err := s.Put(t.Context(), key, PRNG(uint64(100+i), n), size); err != nil || got != n {
				t.Errorf("Put(%q) = %d, %v", key, got, err)
				failed.Store(true)
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return
	}
	for i := range workers {
		key := fmt.Sprintf("concurrent/%d", i)
		o, err := s.Open(t.Context(), key)
		if err != nil {
			t.Errorf("Open(%q): %v", key, err)
			continue
		}
		if sha(t, o) != sha(t, PRNG(uint64(100+i), n)) {
			t.Errorf("%q content differs", key)
		}
		o.Close()
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	for _, key := range []string{
		"", "/abs", "a/../b", "..", "../up", "a/..", "a\\b", "a\x00b",
		"a//b", "a/./b", "./a", "trailing/",
	} {
		if _, err := s.Put(t.Context(), key, bytes.NewReader([]byte("x")), 1); err == nil {
			t.Errorf("Put(%q) succeeded, want error", key)
		}
		if _, err := s.Stat(t.Context(), key); err == nil {
			t.Errorf("Stat(%q) succeeded, want error", key)
		}
		if o, err := s.Open(t.Context(), key); err == nil {
			o.Close()
			t.Errorf("Open(%q) succeeded, want error", key)
		}
		if err := s.Delete(t.Context(), key); err == nil {
			t.Errorf("Delete(%q) succeeded, want error", key)
		}
	}
	assertEmpty(t, s)
}
