package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pkgreg/registry/ent"
)

// maxSidecar bounds an upstream checksum file (a hex digest and perhaps a
// file name).
const maxSidecar = 4 << 10

// Sidecar fetches a small upstream text that is not worth caching: the
// checksum file next to an artifact (Maven's <file>.sha1), read just before
// the artifact is filled so that the fill can verify it (RemoteFile.Expect).
// Concurrent callers share one request; a definitive 404/410 is
// ErrUpstreamMiss, remembered for the negative TTL like a file's (clients
// probe many missing paths); other failures are 502/504 and never
// remembered. The body is at most 4 KiB.
func (r *Remote) Sidecar(ctx context.Context, prj *ent.Project, rawURL string) ([]byte, error) {
	key := fmt.Sprintf("sidecar\x00%d\x00%s", prj.ID, rawURL)
	if r.missed(key, r.s.now()) {
		return nil, ErrUpstreamMiss
	}
	if err := r.checkLoop(ctx, prj); err != nil {
		return nil, err
	}
	v, err, _ := r.flight.Do(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		resp, err := r.upstreamGet(fctx, prj, rawURL, nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusNotFound, http.StatusGone:
			r.rememberMiss(key, r.s.now())
			return nil, ErrUpstreamMiss
		default:
			return nil, upstreamStatusError(resp)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxSidecar+1))
		switch {
		case err != nil:
			return nil, UpstreamError(err, "502 Bad Gateway - the upstream's answer was cut off")
		case len(b) > maxSidecar:
			return nil, UpstreamError(nil, "502 Bad Gateway - the upstream's checksum file exceeds %d bytes", maxSidecar)
		}
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}
