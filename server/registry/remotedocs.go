package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/blob"
	"github.com/pkgreg/registry/ent/remotedocument"
	blobstore "github.com/pkgreg/registry/server/blob"
)

// maxDocumentSize bounds one upstream metadata document (the largest npm
// packuments are tens of megabytes).
const maxDocumentSize = 64 << 20

// maxInlineDocument is the largest document body documentBody hands out as
// bytes (PyPI pages, Go version lists); larger ones are read as a stream.
const maxInlineDocument = 16 << 20

// Document is an upstream metadata document of a REMOTE project (a PyPI
// simple page, an npm packument, a Go version list), as fetched. It does
// not hold the body: the body is a blob, content-addressed by SHA256, read
// with openDocument or documentBody.
type Document struct {
	SHA256      string
	Size        int64
	ContentType string
	FetchedAt   time.Time
	// Stale is set when the copy is past its TTL and was served because
	// the upstream failed and the project serves stale content.
	Stale bool

	storageKey string
}

// Document returns a REMOTE project's upstream document at rawURL,
// cached under key:
//   - a cached copy younger than the project's cache TTL is served as is;
//   - otherwise it is fetched (once for concurrent callers), revalidated
//     with If-None-Match when the upstream gave an ETag;
//   - a definitive 404/410 drops the cached copy and is remembered as a
//     miss for a minute (errUpstreamMiss), in memory: requests for random
//     names must not fill the database;
//   - any other failure (5xx, 401/403, 429, timeout) is never cached: the
//     stale copy is served when the project allows it, else 502/504.
func (r *Remote) Document(ctx context.Context, prj *ent.Project, key, rawURL, accept string) (*Document, error) {
	flightKey := fmt.Sprintf("doc\x00%d\x00%s", prj.ID, key)
	if r.missed(flightKey, r.s.now()) {
		return nil, ErrUpstreamMiss
	}
	cached, err := r.cachedDocument(ctx, prj, key)
	if err != nil {
		return nil, err
	}
	if doc, fresh := r.freshDocument(prj, cached); fresh {
		return doc, nil
	}
	// Before joining a fetch: in a loop, the fetch in flight is the one
	// waiting for this request.
	if err := r.checkLoop(ctx, prj); err != nil {
		return nil, err
	}
	v, err, _ := r.flight.Do(flightKey, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		doc, err := r.fetchDocument(fctx, prj, key, rawURL, accept, cached)
		if errors.Is(err, ErrUpstreamMiss) {
			r.rememberMiss(flightKey, r.s.now())
		}
		return doc, err
	})
	if err != nil {
		if !errors.Is(err, ErrUpstreamMiss) && cached != nil && prj.RemoteServeStale {
			r.s.log.Warn("serving a stale upstream document; the upstream failed", "project", prj.FullPath, "key", key, "err", err)
			doc := documentOf(cached)
			doc.Stale = true
			return doc, nil
		}
		return nil, err
	}
	return v.(*Document), nil
}

// cachedDocument reads the pointer row of a cached document with its blob
// (nil when there is none). Rows without a blob predate bodies in the
// blob store and are dropped at start; one left over counts as absent.
func (r *Remote) cachedDocument(ctx context.Context, prj *ent.Project, key string) (*ent.RemoteDocument, error) {
	row, err := r.s.db.RemoteDocument.Query().Where(remotedocument.ProjectID(prj.ID), remotedocument.Key(key)).
		WithBlob(func(q *ent.BlobQuery) { q.Select(blob.FieldStorageKey) }).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, Internal(err, "could not read the remote cache")
	case row.Status != http.StatusOK || row.Edges.Blob == nil:
		return nil, nil
	}
	return row, nil
}

func documentOf(row *ent.RemoteDocument) *Document {
	return &Document{SHA256: row.Sha256, Size: row.Size, ContentType: row.ContentType, FetchedAt: row.FetchedAt,
		storageKey: row.Edges.Blob.StorageKey}
}

// freshDocument answers from a cached row that is still fresh.
func (r *Remote) freshDocument(prj *ent.Project, row *ent.RemoteDocument) (*Document, bool) {
	if row == nil {
		return nil, false
	}
	ttl := time.Duration(prj.RemoteCacheTTLSeconds) * time.Second
	if r.s.now().Sub(row.FetchedAt) >= ttl {
		return nil, false
	}
	return documentOf(row), true
}

func (r *Remote) fetchDocument(ctx context.Context, prj *ent.Project, key, rawURL, accept string, cached *ent.RemoteDocument) (*Document, error) {
	h := http.Header{}
	if accept != "" {
		h.Set("Accept", accept)
	}
	if cached != nil && cached.Etag != "" {
		h.Set("If-None-Match", cached.Etag)
	}
	resp, err := r.upstreamGet(ctx, prj, rawURL, h)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	now := r.s.now()
	switch resp.StatusCode {
	case http.StatusOK:
		return r.storeDocument(ctx, prj, key, resp.Body, resp.Header.Get("Content-Type"), resp.Header.Get("ETag"), now)
	case http.StatusNotModified:
		if cached == nil {
			return nil, UpstreamError(nil, "502 Bad Gateway - the upstream answered 304 to an unconditional request")
		}
		// The same body: only the fetch time moves.
		if err := r.s.db.RemoteDocument.UpdateOne(cached).SetFetchedAt(now).Exec(ctx); err != nil {
			return nil, Internal(err, "could not cache the upstream document")
		}
		doc := documentOf(cached)
		doc.FetchedAt = now
		return doc, nil
	case http.StatusNotFound, http.StatusGone:
		// Gone upstream: the stale copy must not be served any more.
		err := r.s.RetryTx(ctx, func(tx *ent.Tx) error {
			old, err := previousDocumentBlob(ctx, tx, prj.ID, key)
			if err != nil {
				return err
			}
			if _, err := tx.RemoteDocument.Delete().Where(remotedocument.ProjectID(prj.ID), remotedocument.Key(key)).Exec(ctx); err != nil {
				return err
			}
			return r.s.markOrphans(ctx, tx, old)
		})
		if err != nil {
			return nil, Internal(err, "could not update the remote cache")
		}
		return nil, ErrUpstreamMiss
	}
	return nil, upstreamStatusError(resp)
}

// storeDocument streams an upstream body into the blob store under a fresh
// key while hashing it, then points the document's row at the Blob of that
// content (an identical body cached before, by any project, is reused and
// the new object deleted), in one transaction. A body the row no longer
// points at is marked for the sweeper once nothing else references it.
func (r *Remote) storeDocument(ctx context.Context, prj *ent.Project, key string, body io.Reader, ctype, etag string, now time.Time) (*Document, error) {
	objKey := newObjectKey()
	up := &readErrReader{r: body}
	hr := newHashingReader(up, false, false, false, maxDocumentSize)
	n, err := r.s.blobs.Put(ctx, objKey, hr, -1)
	switch {
	case hr.errTooLargeReached:
		return nil, UpstreamError(nil, "502 Bad Gateway - the upstream's document exceeds %d bytes", maxDocumentSize)
	case err != nil && up.err != nil:
		return nil, UpstreamError(err, "502 Bad Gateway - the upstream's answer was cut off")
	case err != nil:
		return nil, Unavailable(err, "could not store the upstream document")
	}
	sum := hr.digests().SHA256
	var storedKey string
	err = r.s.RetryTx(ctx, func(tx *ent.Tx) error {
		old, err := previousDocumentBlob(ctx, tx, prj.ID, key)
		if err != nil {
			return err
		}
		blobID, err := tx.Blob.Create().SetSha256(sum).SetSize(n).SetStorageKey(objKey).SetCreatedAt(now).
			OnConflictColumns(blob.FieldSha256).ClearOrphanedAt().ID(ctx)
		if err != nil {
			return err
		}
		b, err := tx.Blob.Query().Where(blob.ID(blobID)).Select(blob.FieldStorageKey).Only(ctx)
		if err != nil {
			return err
		}
		storedKey = b.StorageKey
		err = tx.RemoteDocument.Create().SetProjectID(prj.ID).SetKey(key).SetStatus(http.StatusOK).SetBlobID(blobID).
			SetSha256(sum).SetSize(n).SetContentType(ctype).SetEtag(etag).SetFetchedAt(now).
			OnConflictColumns(remotedocument.FieldProjectID, remotedocument.FieldKey).UpdateNewValues().Exec(ctx)
		if err != nil {
			return err
		}
		if len(old) == 1 && old[0] == blobID {
			return nil
		}
		return r.s.markOrphans(ctx, tx, old)
	})
	if err != nil {
		r.s.deleteObject(objKey)
		return nil, Internal(err, "could not cache the upstream document")
	}
	if storedKey != objKey {
		// The same content was cached before: keep one copy.
		r.s.deleteObject(objKey)
	}
	return &Document{SHA256: sum, Size: n, ContentType: ctype, FetchedAt: now, storageKey: storedKey}, nil
}

// readErrReader remembers a read failure of the stream it wraps (other
// than its end), so that a cut-off upstream is told from a failing store.
type readErrReader struct {
	r   io.Reader
	err error
}

func (e *readErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// previousDocumentBlob is the blob a document's row points at now (none or one).
func previousDocumentBlob(ctx context.Context, tx *ent.Tx, projectID int, key string) ([]int, error) {
	rows, err := tx.RemoteDocument.Query().Where(remotedocument.ProjectID(projectID), remotedocument.Key(key),
		remotedocument.BlobIDNotNil()).Select(remotedocument.FieldBlobID).All(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, r := range rows {
		ids = append(ids, *r.BlobID)
	}
	return ids, nil
}

// OpenDocument opens a document's body for reading as a stream.
func (r *Remote) OpenDocument(ctx context.Context, doc *Document) (blobstore.Object, error) {
	obj, err := r.s.blobs.Open(ctx, doc.storageKey)
	if err != nil {
		return nil, Unavailable(err, "could not read the cached upstream document")
	}
	return obj, nil
}

// DocumentBody reads a small document's body (a PyPI page, a Go version
// list), from the metadata cache when it is there: bodies are keyed by
// their content, so projects with the same upstream share them.
func (r *Remote) DocumentBody(ctx context.Context, doc *Document) ([]byte, error) {
	if doc.Size > maxInlineDocument {
		return nil, UpstreamError(nil, "502 Bad Gateway - the upstream's document exceeds %d bytes", maxInlineDocument)
	}
	ck := "doc\x00" + doc.SHA256
	if v, ok := r.s.meta.Get(ck); ok {
		return v.([]byte), nil
	}
	obj, err := r.OpenDocument(ctx, doc)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	body := make([]byte, 0, doc.Size)
	body, err = readAllInto(body, obj)
	if err != nil {
		return nil, Unavailable(err, "could not read the cached upstream document")
	}
	r.s.meta.Put(ck, body, int64(cap(body)))
	return body, nil
}

// readAllInto appends r's contents to b (sized by the caller: one
// allocation for a body of known length).
func readAllInto(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// DropInlineRemoteDocuments deletes cached upstream documents stored the
// old way, with the body in the database row (before bodies moved to the
// blob store). They are a cache: the next read fetches them again.
func (r *Remote) DropInlineRemoteDocuments(ctx context.Context) error {
	n, err := r.s.db.RemoteDocument.Delete().Where(remotedocument.BlobIDIsNil()).Exec(ctx)
	if err != nil {
		return Internal(err, "could not drop the old remote document cache")
	}
	if n > 0 {
		r.s.log.Info("dropped cached upstream documents stored in the database; they are fetched again when read", "rows", n)
	}
	return nil
}
