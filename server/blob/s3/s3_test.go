package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/blob/blobtest"
)

// testPartSize makes the 40 MiB conformance object span 8 parts.
const testPartSize = 5 << 20

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// newStore returns a store on a fresh random prefix that is emptied after
// the test.
func newStore(t *testing.T) *Store {
	t.Helper()
	endpoint, access, secret, bucket := blobtest.S3ConfigFromEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, Config{
		Endpoint:  endpoint,
		Bucket:    bucket,
		AccessKey: access,
		SecretKey: secret,
		Prefix:    randomName("test-"),
		PartSize:  testPartSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		_ = s.Walk(ctx, "", func(i blob.Info) error { keys = append(keys, i.Key); return nil })
		for _, k := range keys {
			_ = s.Delete(ctx, k)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	blobtest.S3ConfigFromEnv(t) // skip or fail once, not in every subtest
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

// TestUnknownSizeIsMultipart checks that a size -1 upload past one part
// really went through multipart with the configured part size (S3 ETags of
// multipart objects end in -<parts>).
func TestUnknownSizeIsMultipart(t *testing.T) {
	s := newStore(t)
	n, err := s.Put(t.Context(), "mp", blobtest.PRNG(1, 12<<20), -1)
	if err != nil || n != 12<<20 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	oi, err := s.client.StatObject(t.Context(), s.bucket, s.prefix+"mp", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(oi.ETag, "-3") {
		t.Errorf("ETag %q: want a 3-part multipart object (5+5+2 MiB)", oi.ETag)
	}
}

func TestPrefixIsolation(t *testing.T) {
	a, b := newStore(t), newStore(t)
	if _, err := a.Put(t.Context(), "k", bytes.NewReader([]byte("a")), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(t.Context(), "k"); !errors.Is(err, blob.ErrNotExist) {
		t.Errorf("other prefix sees key: %v", err)
	}
	if err := b.Walk(t.Context(), "", func(i blob.Info) error {
		t.Errorf("other prefix walks %q", i.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The key is stored under the prefix in the bucket.
	if _, err := a.client.StatObject(t.Context(), a.bucket, a.prefix+"k", minio.StatObjectOptions{}); err != nil {
		t.Errorf("raw object %q: %v", a.prefix+"k", err)
	}
}

// TestNewCreatesBucketConcurrently covers the create race between processes.
func TestNewCreatesBucketConcurrently(t *testing.T) {
	endpoint, access, secret, _ := blobtest.S3ConfigFromEnv(t)
	bucket := randomName("registry-test-new-")
	cfg := Config{Endpoint: endpoint, Bucket: bucket, AccessKey: access, SecretKey: secret}
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Go(func() {
			s, err := New(t.Context(), cfg)
			if err != nil {
				t.Errorf("New: %v", err)
			}
			stores[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Cleanup(func() { _ = stores[0].client.RemoveBucket(context.Background(), bucket) })
	for _, s := range stores {
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	}
}

func TestPingMissingBucket(t *testing.T) {
	s := newStore(t)
	missing := &Store{client: s.client, bucket: randomName("registry-missing-"), partSize: s.partSize}
	// The missing bucket must be the reason, not an unreachable server.
	if err := missing.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("bucket %q does not exist", missing.bucket)) {
		t.Errorf("Ping for a missing bucket: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{Bucket: "b"},
		{Endpoint: "localhost:9000"},
		{Endpoint: "http://localhost:9000", Bucket: "b"},
		{Endpoint: "localhost:9000", Bucket: "b", PartSize: 1 << 20},
	} {
		if _, err := New(t.Context(), cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// TestFailedMultipartLeavesNoUpload checks that failed multipart uploads are
// aborted (they cost storage without being visible as objects), including
// after cancellation.
func TestFailedMultipartLeavesNoUpload(t *testing.T) {
	s := newStore(t)
	boom := errors.New("boom")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cr := &cancelAfter{r: blobtest.PRNG(1, 40<<20), after: 6 << 20, cancel: cancel}
	if _, err := s.Put(ctx, "cancelled", cr, -1); !errors.Is(err, context.Canceled) {
		t.Errorf("Put = %v, want context.Canceled", err)
	}
	r := io.MultiReader(blobtest.PRNG(2, 6<<20), iotest.ErrReader(boom))
	if _, err := s.Put(t.Context(), "failed", r, -1); !errors.Is(err, boom) {
		t.Errorf("Put = %v, want boom", err)
	}
	// MinIO lists uploads only for an exact object name, not a prefix.
	for _, key := range []string{"cancelled", "failed"} {
		for u := range s.client.ListIncompleteUploads(t.Context(), s.bucket, s.prefix+key, true) {
			if u.Err != nil {
				t.Fatal(u.Err)
			}
			t.Errorf("incomplete upload left for %q", u.Key)
		}
	}
}

type cancelAfter struct {
	r      io.Reader
	after  int64
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n += int64(n); c.n >= c.after {
		c.cancel()
	}
	return n, err
}
