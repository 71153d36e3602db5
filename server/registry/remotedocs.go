package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/remotedocument"
)

// maxDocumentSize bounds one upstream metadata document (the largest npm
// packuments are tens of megabytes).
const maxDocumentSize = 64 << 20

// Document is an upstream metadata document of a REMOTE project (a PyPI
// simple page, an npm packument, a Go version list), as fetched.
type Document struct {
	Body        []byte
	ContentType string
	FetchedAt   time.Time
	// Stale is set when the copy is past its TTL and was served because
	// the upstream failed and the project serves stale content.
	Stale bool
}

// remoteDocument returns a REMOTE project's upstream document at rawURL,
// cached under key:
//   - a cached copy younger than the project's cache TTL is served as is;
//   - otherwise it is fetched (once for concurrent callers), revalidated
//     with If-None-Match when the upstream gave an ETag;
//   - a definitive 404/410 drops the cached copy and is remembered as a
//     miss for a minute (errUpstreamMiss), in memory: requests for random
//     names must not fill the database;
//   - any other failure (5xx, 401/403, 429, timeout) is never cached: the
//     stale copy is served when the project allows it, else 502/504.
func (s *Service) remoteDocument(ctx context.Context, prj *ent.Project, key, rawURL, accept string) (*Document, error) {
	flightKey := fmt.Sprintf("doc\x00%d\x00%s", prj.ID, key)
	if s.remote.missed(flightKey, s.now()) {
		return nil, errUpstreamMiss
	}
	cached, err := s.db.RemoteDocument.Query().Where(remotedocument.ProjectID(prj.ID), remotedocument.Key(key)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, Internal(err, "could not read the remote cache")
	}
	if doc, fresh, err := s.freshDocument(prj, cached); fresh {
		return doc, err
	}
	// Before joining a fetch: in a loop, the fetch in flight is the one
	// waiting for this request.
	if err := s.checkLoop(ctx, prj); err != nil {
		return nil, err
	}
	v, err, _ := s.remote.flight.Do(flightKey, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		doc, err := s.fetchDocument(fctx, prj, key, rawURL, accept, cached)
		if errors.Is(err, errUpstreamMiss) {
			s.remote.rememberMiss(flightKey, s.now())
		}
		return doc, err
	})
	if err != nil {
		if !errors.Is(err, errUpstreamMiss) && cached != nil && cached.Status == http.StatusOK && prj.RemoteServeStale {
			s.log.Warn("serving a stale upstream document; the upstream failed", "project", prj.FullPath, "key", key, "err", err)
			return &Document{Body: cached.Body, ContentType: cached.ContentType, FetchedAt: cached.FetchedAt, Stale: true}, nil
		}
		return nil, err
	}
	return v.(*Document), nil
}

// freshDocument answers from a cached row that is still fresh.
func (s *Service) freshDocument(prj *ent.Project, row *ent.RemoteDocument) (*Document, bool, error) {
	if row == nil {
		return nil, false, nil
	}
	ttl := time.Duration(prj.RemoteCacheTTLSeconds) * time.Second
	if row.Status != http.StatusOK || s.now().Sub(row.FetchedAt) >= ttl {
		return nil, false, nil
	}
	return &Document{Body: row.Body, ContentType: row.ContentType, FetchedAt: row.FetchedAt}, true, nil
}

func (s *Service) fetchDocument(ctx context.Context, prj *ent.Project, key, rawURL, accept string, cached *ent.RemoteDocument) (*Document, error) {
	h := http.Header{}
	if accept != "" {
		h.Set("Accept", accept)
	}
	if cached != nil && cached.Status == http.StatusOK && cached.Etag != "" {
		h.Set("If-None-Match", cached.Etag)
	}
	resp, err := s.upstreamGet(ctx, prj, rawURL, h)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	now := s.now()
	save := func(status int, body []byte, ctype, etag string) error {
		err := s.db.RemoteDocument.Create().SetProjectID(prj.ID).SetKey(key).SetStatus(status).SetBody(body).
			SetContentType(ctype).SetEtag(etag).SetFetchedAt(now).
			OnConflictColumns(remotedocument.FieldProjectID, remotedocument.FieldKey).UpdateNewValues().Exec(ctx)
		if err != nil {
			return Internal(err, "could not cache the upstream document")
		}
		return nil
	}
	switch resp.StatusCode {
	case http.StatusOK:
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
		switch {
		case err != nil:
			return nil, upstreamError(err, "502 Bad Gateway - the upstream's answer was cut off")
		case len(body) > maxDocumentSize:
			return nil, upstreamError(nil, "502 Bad Gateway - the upstream's document exceeds %d bytes", maxDocumentSize)
		}
		ctype, etag := resp.Header.Get("Content-Type"), resp.Header.Get("ETag")
		if err := save(http.StatusOK, body, ctype, etag); err != nil {
			return nil, err
		}
		return &Document{Body: body, ContentType: ctype, FetchedAt: now}, nil
	case http.StatusNotModified:
		if cached == nil {
			return nil, upstreamError(nil, "502 Bad Gateway - the upstream answered 304 to an unconditional request")
		}
		if err := save(http.StatusOK, cached.Body, cached.ContentType, cached.Etag); err != nil {
			return nil, err
		}
		return &Document{Body: cached.Body, ContentType: cached.ContentType, FetchedAt: now}, nil
	case http.StatusNotFound, http.StatusGone:
		// Gone upstream: the stale copy must not be served any more.
		if _, err := s.db.RemoteDocument.Delete().Where(remotedocument.ProjectID(prj.ID), remotedocument.Key(key)).Exec(ctx); err != nil {
			return nil, Internal(err, "could not update the remote cache")
		}
		return nil, errUpstreamMiss
	}
	return nil, upstreamStatusError(resp)
}
