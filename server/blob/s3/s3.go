// Package s3 is a blob.Store on an S3-compatible object store (AWS S3,
// MinIO, ...) using minio-go.
//
// Size limits: with a known size minio-go picks the part size itself and
// objects up to 5 TiB work. With an unknown size (-1) every part is
// Config.PartSize bytes (default 16 MiB) and S3 allows at most 10,000
// parts, so such uploads are capped at PartSize*10,000 (~156 GiB by
// default); raise PartSize for more. Each in-flight upload buffers one part
// in memory.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/blob/internal/blobutil"
)

const (
	// DefaultPartSize is used for unknown-size uploads when Config.PartSize
	// is zero. minio-go would otherwise size parts for 5 TiB (~512 MiB
	// buffers per upload).
	DefaultPartSize = 16 << 20
	minPartSize     = 5 << 20 // S3 minimum for all but the last part
	maxPartSize     = 5 << 30

	cleanupTimeout = 30 * time.Second
)

// Config configures a Store.
type Config struct {
	Endpoint  string // host[:port], no scheme
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
	UseSSL    bool
	// Prefix is prepended to every key (a "/" is appended if missing), so
	// several stores or test runs can share a bucket.
	Prefix string
	// PartSize is the multipart part size for unknown-size uploads; it
	// bounds them at PartSize*10,000. Zero means DefaultPartSize.
	PartSize uint64
}

// Store is a blob.Store backed by one bucket (and optional key prefix).
type Store struct {
	client   *minio.Client
	bucket   string
	prefix   string
	partSize uint64
	// live holds the object names of Puts running in this process: the
	// sweep never aborts their multipart uploads.
	live sync.Map
}

var (
	_ blob.Store          = (*Store)(nil)
	_ blob.StagingCleaner = (*Store)(nil)
)

// New connects to the endpoint and creates the bucket if it is missing.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("blob/s3: endpoint and bucket are required")
	}
	if strings.Contains(cfg.Endpoint, "://") {
		return nil, fmt.Errorf("blob/s3: endpoint %q must be host[:port] without a scheme (use UseSSL)", cfg.Endpoint)
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < minPartSize || partSize > maxPartSize {
		return nil, fmt.Errorf("blob/s3: part size %d outside [5 MiB, 5 GiB]", partSize)
	}
	prefix := strings.TrimLeft(cfg.Prefix, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	tr, err := minio.DefaultTransport(cfg.UseSSL)
	if err != nil {
		return nil, fmt.Errorf("blob/s3: %w", err)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.UseSSL,
		Region:    cfg.Region,
		Transport: &failFast{base: tr},
	})
	if err != nil {
		return nil, fmt.Errorf("blob/s3: %w", err)
	}
	s := &Store{client: client, bucket: cfg.Bucket, prefix: prefix, partSize: partSize}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob/s3: bucket %q: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err == nil {
		return nil
	}
	// Another process may have created it in the meantime.
	var er minio.ErrorResponse
	if errors.As(err, &er) && (er.Code == "BucketAlreadyOwnedByYou" || er.Code == "BucketAlreadyExists") {
		// BucketAlreadyExists can also mean someone else owns it: check access.
		if ok, err2 := s.client.BucketExists(ctx, s.bucket); err2 == nil && ok {
			return nil
		}
	}
	return fmt.Errorf("blob/s3: create bucket %q: %w", s.bucket, err)
}

// Name implements blob.Store.
func (s *Store) Name() string { return "s3" }

func (s *Store) objectName(key string) (string, error) {
	if err := blobutil.ValidateKey(key); err != nil {
		return "", err
	}
	if key == uploadsDir || strings.HasPrefix(key, uploadsDir+"/") {
		return "", fmt.Errorf("blob/s3: key %q uses the reserved %q prefix", key, uploadsDir)
	}
	return s.prefix + key, nil
}

// uploadsDir holds one empty marker object per multipart Put in flight,
// named after the Put's key. MinIO lists incomplete multipart uploads only
// for an exact object name, never by prefix, so a crashed upload would
// otherwise be impossible to find; the marker names it. Single-request
// PUTs (known size up to one part) are atomic and need none.
const uploadsDir = ".uploads"

// multipartFrom is minio-go's threshold: a known size above it, or an
// unknown size, is uploaded in parts.
const multipartFrom = 16 << 20

func (s *Store) markerName(key string) string { return s.prefix + uploadsDir + "/" + key }

// mapErr makes missing objects match blob.ErrNotExist while keeping the
// original error in the chain.
func mapErr(op, key string, err error) error {
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.Code != "NoSuchBucket" &&
		(er.Code == "NoSuchKey" || er.Code == "NotFound" || er.StatusCode == http.StatusNotFound) {
		return fmt.Errorf("blob/s3: %s %q: %w: %w", op, key, blob.ErrNotExist, err)
	}
	return fmt.Errorf("blob/s3: %s %q: %w", op, key, err)
}

func isNotExist(err error) bool { return errors.Is(mapErr("", "", err), blob.ErrNotExist) }

// Put implements blob.Store. Size and stream errors are detected before the
// upload completes; a failed Put still removes the key (best effort) as the
// contract demands, which also deletes an object it was meant to replace.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	name, err := s.objectName(key)
	if err != nil {
		return 0, err
	}
	if err := blobutil.ValidateSize(size); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.live.Store(name, struct{}{})
	defer s.live.Delete(name)
	// The upload ends at the first connection the store refuses (see
	// failFast): minio-go would otherwise retry for seconds while the
	// client waits.
	uctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := &putGuard{down: make(chan struct{}), cancel: cancel}
	uctx = context.WithValue(uctx, failFastKey{}, g)
	marker := ""
	if size < 0 || size > multipartFrom {
		marker = s.markerName(key)
		if _, err := s.client.PutObject(uctx, s.bucket, marker, strings.NewReader(""), 0, minio.PutObjectOptions{}); err != nil {
			if g.failed() {
				err = g.err
			}
			return 0, fmt.Errorf("blob/s3: put %q: upload marker: %w", key, err)
		}
	}
	cr := blobutil.NewReader(ctx, r, size)
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	if size < 0 {
		opts.PartSize = s.partSize
	}
	var info minio.UploadInfo
	if size == 0 {
		// minio-go never reads a zero-length body; check it is empty before
		// anything is stored.
		err = cr.Finish()
	}
	var background chan struct{}
	if err == nil {
		// In a goroutine so that Put can answer as soon as the store is
		// found unreachable: minio-go then still aborts the multipart
		// upload with retries, which take seconds against a dead store.
		type result struct {
			info minio.UploadInfo
			err  error
		}
		done := make(chan result, 1)
		go func() {
			info, err := s.client.PutObject(uctx, s.bucket, name, cr, size, opts)
			done <- result{info, err}
		}()
		select {
		case r := <-done:
			info, err = r.info, r.err
		case <-g.down:
			err = g.err
			background = make(chan struct{})
			go func() { <-done; close(background) }()
		}
	}
	if err == nil {
		err = cr.Finish()
	}
	cr.Close()
	if err == nil && info.Size != cr.N() {
		err = fmt.Errorf("%w: read %d bytes, stored %d", blob.ErrSizeMismatch, cr.N(), info.Size)
	}
	if err == nil && size >= 0 && cr.N() != size {
		err = fmt.Errorf("%w: announced %d bytes, stored %d", blob.ErrSizeMismatch, size, cr.N())
	}
	if err == nil {
		if marker != "" {
			s.removeDetached(ctx, marker)
		}
		return cr.N(), nil
	}

	// Report the root cause rather than minio-go's view of it.
	if g.failed() {
		err = g.err
	} else if rerr := cr.Err(); rerr != nil {
		err = rerr
	} else if cerr := ctx.Err(); cerr != nil {
		err = cerr
	}
	if g.failed() {
		// The store is down: answer now and clean up after minio-go is
		// done, in case it is back by then. Until then the marker names
		// the upload for the sweeper.
		go func() {
			if background != nil {
				<-background
			}
			s.cleanupFailedPut(ctx, name, marker)
		}()
	} else {
		s.cleanupFailedPut(ctx, name, marker)
	}
	return 0, fmt.Errorf("blob/s3: put %q: %w", key, err)
}

// cleanupFailedPut makes sure nothing is left at name: no object, no
// incomplete multipart upload (minio-go aborts its own, but not once the
// upload's context is over), and then no marker. It uses a fresh context
// because ctx may be why the upload failed.
func (s *Store) cleanupFailedPut(ctx context.Context, name, marker string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = s.client.RemoveObject(cctx, s.bucket, name, minio.RemoveObjectOptions{})
	if marker == "" {
		return
	}
	if s.client.RemoveIncompleteUpload(cctx, s.bucket, name) == nil {
		_ = s.client.RemoveObject(cctx, s.bucket, marker, minio.RemoveObjectOptions{})
	}
}

// removeDetached removes name with a context that outlives ctx.
func (s *Store) removeDetached(ctx context.Context, name string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = s.client.RemoveObject(cctx, s.bucket, name, minio.RemoveObjectOptions{})
}

// failFastKey carries a Put's putGuard to failFast.
type failFastKey struct{}

// putGuard records that one Put found the store unreachable.
type putGuard struct {
	once   sync.Once
	down   chan struct{}
	err    error
	cancel context.CancelCauseFunc
}

func (g *putGuard) unreachable(err error) {
	g.once.Do(func() {
		g.err = &unreachableError{err}
		g.cancel(g.err)
		close(g.down)
	})
}

func (g *putGuard) failed() bool {
	select {
	case <-g.down:
		return true
	default:
		return false
	}
}

// unreachableError is why a Put ended early: the store refused a new
// connection (or its name did not resolve).
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return "blob store unreachable: " + e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// failFast ends an upload as soon as the store cannot be connected to.
// minio-go retries a failed request up to 10 times over several seconds;
// for an upload that means the client's stream waits (or, before, kept
// being read) for nothing, since a store that refuses connections does not
// come back within a request. Only dial failures count: a reset on a
// reused connection (an idle keep-alive the store closed) is retried as
// before, and its retry dials, which tells the two apart. Requests outside
// Put (reads, Stat, the sweeper) carry no cancel function and keep
// minio-go's retries.
type failFast struct{ base http.RoundTripper }

func (f *failFast) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.base.RoundTrip(req)
	if err != nil {
		var op *net.OpError
		if g, ok := req.Context().Value(failFastKey{}).(*putGuard); ok && errors.As(err, &op) && op.Op == "dial" {
			g.unreachable(err)
		}
	}
	return resp, err
}

// object is an open S3 object read with as few requests as a download
// needs. minio-go's own Object sends a HEAD for Stat and then a GET for the
// first Read, two round trips (and, on MinIO, two metadata reads) per
// download. Here Open sends one GET, which answers both: its headers give the
// size and modtime and its body is the stream. A Seek only moves a logical
// position (http.ServeContent seeks to the end and back to learn the size);
// a Read at a position the open stream is not at closes it and sends a
// ranged GET from there, so Range requests still cost one request.
type object struct {
	ctx      context.Context
	core     minio.Core
	bucket   string
	name     string
	info     blob.Info
	body     io.ReadCloser // nil once closed or before a ranged re-open
	bodyPos  int64         // offset of the next byte body yields
	pos      int64         // logical offset of the next Read
	closeErr error
}

func (o *object) Info() blob.Info { return o.info }

func (o *object) Read(p []byte) (int, error) {
	if o.pos >= o.info.Size {
		return 0, io.EOF
	}
	if o.body == nil || o.bodyPos != o.pos {
		if o.body != nil {
			_ = o.body.Close()
			o.body = nil
		}
		opts := minio.GetObjectOptions{}
		if err := opts.SetRange(o.pos, o.info.Size-1); err != nil {
			return 0, err
		}
		body, _, _, err := o.core.GetObject(o.ctx, o.bucket, o.name, opts)
		if err != nil {
			return 0, mapErr("read", o.info.Key, err)
		}
		o.body, o.bodyPos = body, o.pos
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	o.bodyPos += int64(n)
	if err == io.EOF && o.pos < o.info.Size {
		err = io.ErrUnexpectedEOF // the stream ended short of the object's size
	}
	return n, err
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.info.Size
	default:
		return 0, errors.New("s3: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("s3: negative position")
	}
	o.pos = offset
	return offset, nil
}

func (o *object) Close() error {
	if o.body != nil {
		o.closeErr = o.body.Close()
		o.body = nil
	}
	return o.closeErr
}

// Open implements blob.Store. The object reads with ctx, so it must stay
// live while the object is read.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	name, err := s.objectName(key)
	if err != nil {
		return nil, err
	}
	core := minio.Core{Client: s.client}
	body, oi, _, err := core.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, mapErr("open", key, err)
	}
	return &object{ctx: ctx, core: core, bucket: s.bucket, name: name, body: body,
		info: blob.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}}, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	name, err := s.objectName(key)
	if err != nil {
		return blob.Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return blob.Info{}, mapErr("stat", key, err)
	}
	return blob.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	name, err := s.objectName(key)
	if err != nil {
		return err
	}
	err = s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{})
	if err != nil && !isNotExist(err) {
		return mapErr("delete", key, err)
	}
	return nil
}

// Walk implements blob.Store.
func (s *Store) Walk(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	lctx, cancel := context.WithCancel(ctx)
	ch := s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true})
	defer func() {
		// Stop the lister and drain it so its goroutine can exit.
		cancel()
		for range ch {
		}
	}()
	for oi := range ch {
		if oi.Err != nil {
			return fmt.Errorf("blob/s3: walk %q: %w", prefix, oi.Err)
		}
		key, ok := strings.CutPrefix(oi.Key, s.prefix)
		if !ok || key == "" || strings.HasSuffix(key, "/") {
			continue // directory markers created by other tools
		}
		if strings.HasPrefix(key, uploadsDir+"/") {
			continue // upload markers are not objects
		}
		if err := fn(blob.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}); err != nil {
			return err
		}
	}
	// A cancelled ctx ends the listing; do not report it as complete.
	return ctx.Err()
}

// Ping implements blob.Store.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob/s3: ping: %w", err)
	}
	if !ok {
		return fmt.Errorf("blob/s3: ping: bucket %q does not exist", s.bucket)
	}
	return nil
}

// RemoveStaleUploads implements blob.StagingCleaner: it aborts incomplete
// multipart uploads that a killed Put left behind (S3 keeps their parts,
// and bills them, until a lifecycle rule or this aborts them; minio-go
// aborts only the uploads whose Put returned). It finds them by listing
// the prefix (AWS S3, Ceph) and through the upload markers (MinIO, which
// lists uploads only by exact name).
//
// S3 gives an upload's initiation time only, and a multi-GiB upload from a
// slow client may run for hours, so initiation alone cannot tell a live
// upload from a dead one. An upload counts as stale when it was initiated
// before the cutoff and none of its parts was stored after it; live Puts
// of this process are skipped regardless. A Put running in another
// replica is therefore safe as long as its client sends at least one part
// (16 MiB; more above 160 GiB) per grace period.
func (s *Store) RemoveStaleUploads(ctx context.Context, before time.Time) (int, int64, error) {
	removed, bytes, err := s.abortStale(ctx, s.prefix, before)
	if err != nil {
		return removed, bytes, err
	}
	var markers []minio.ObjectInfo
	err = s.list(ctx, s.prefix+uploadsDir+"/", func(oi minio.ObjectInfo) error {
		if oi.LastModified.Before(before) {
			markers = append(markers, oi)
		}
		return nil
	})
	if err != nil {
		return removed, bytes, err
	}
	for _, m := range markers {
		name := s.prefix + strings.TrimPrefix(m.Key, s.prefix+uploadsDir+"/")
		if _, ok := s.live.Load(name); ok {
			continue
		}
		n, b, err := s.abortStale(ctx, name, before)
		removed, bytes = removed+n, bytes+b
		if err != nil {
			return removed, bytes, err
		}
		if s.hasUploads(ctx, name) {
			continue // still live elsewhere: keep its marker
		}
		if err := s.client.RemoveObject(ctx, s.bucket, m.Key, minio.RemoveObjectOptions{}); err != nil && !isNotExist(err) {
			return removed, bytes, fmt.Errorf("blob/s3: remove upload marker: %w", err)
		}
	}
	return removed, bytes, nil
}

// list calls fn for every object under the full object-name prefix.
func (s *Store) list(ctx context.Context, prefix string, fn func(minio.ObjectInfo) error) error {
	lctx, cancel := context.WithCancel(ctx)
	ch := s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	defer func() {
		cancel()
		for range ch {
		}
	}()
	for oi := range ch {
		if oi.Err != nil {
			return fmt.Errorf("blob/s3: list %q: %w", prefix, oi.Err)
		}
		if err := fn(oi); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (s *Store) hasUploads(ctx context.Context, name string) bool {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for u := range s.client.ListIncompleteUploads(lctx, s.bucket, name, false) {
		if u.Err != nil || u.Key == name {
			return true // unsure counts as live
		}
	}
	return false
}

// abortStale aborts the stale incomplete uploads whose object name starts
// with prefix.
func (s *Store) abortStale(ctx context.Context, prefix string, before time.Time) (int, int64, error) {
	lctx, cancel := context.WithCancel(ctx)
	ch := s.client.ListIncompleteUploads(lctx, s.bucket, prefix, true)
	defer func() {
		cancel()
		for range ch {
		}
	}()
	core := minio.Core{Client: s.client}
	removed, bytes := 0, int64(0)
	for u := range ch {
		if u.Err != nil {
			return removed, bytes, fmt.Errorf("blob/s3: list incomplete uploads: %w", u.Err)
		}
		if !strings.HasPrefix(u.Key, s.prefix) {
			continue
		}
		if _, ok := s.live.Load(u.Key); ok || !u.Initiated.Before(before) {
			continue
		}
		last, size, err := partsActivity(ctx, core, s.bucket, u.Key, u.UploadID)
		if err != nil {
			if isNotExist(err) {
				continue // completed or aborted meanwhile
			}
			return removed, bytes, fmt.Errorf("blob/s3: list parts: %w", err)
		}
		if !last.Before(before) {
			continue // still receiving parts
		}
		if err := core.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID); err != nil && !isNotExist(err) {
			return removed, bytes, fmt.Errorf("blob/s3: abort stale upload: %w", err)
		}
		removed++
		bytes += size
	}
	return removed, bytes, ctx.Err()
}

// partsActivity returns the time the upload's newest part was stored (zero
// without parts) and the bytes its parts hold.
func partsActivity(ctx context.Context, core minio.Core, bucket, name, uploadID string) (time.Time, int64, error) {
	var last time.Time
	var size int64
	marker := 0
	for {
		res, err := core.ListObjectParts(ctx, bucket, name, uploadID, marker, 1000)
		if err != nil {
			return last, size, err
		}
		for _, p := range res.ObjectParts {
			size += p.Size
			if p.LastModified.After(last) {
				last = p.LastModified
			}
		}
		if !res.IsTruncated {
			return last, size, nil
		}
		marker = res.NextPartNumberMarker
	}
}
