package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Remote is the core's pull-through engine for REMOTE projects: it fills
// files from upstream registries (single-flight, verified against the
// upstream's digests, streamed to the first caller while stored), fetches
// and caches upstream index documents with their TTL and serve-stale rule,
// remembers misses and down upstreams, and guards every connection
// (egress policy, loop detection, origin-only credentials). Formats reach
// it as Service.Remote.
type Remote struct {
	s      *Service
	client *http.Client
	// egress decides where remote fetches may connect (egress.go).
	egress egressPolicy
	// instanceID tells this process apart in hop chains (hops.go).
	instanceID string
	flight     singleflight.Group
	// misses caches definitive 404/410 answers for files briefly, per
	// project and upstream URL.
	mu     sync.Mutex
	misses map[string]time.Time
	// down remembers upstreams that just failed at the transport level
	// (refused, reset, timed out), per project: until then, reads fail at
	// once instead of each waiting out the timeouts, and a virtual project
	// moves on to its other upstreams without delay.
	down map[int]time.Time
}

// downFor is how long an upstream that failed at the transport level is
// skipped before it is tried again.
const downFor = 30 * time.Second

// negativeTTL bounds how long a definitive upstream miss is remembered, so
// a package published upstream shows up soon.
const negativeTTL = time.Minute

// fillTimeout bounds one upstream file fetch, however slow the upstream.
const fillTimeout = 30 * time.Minute

func newRemote(allow []netip.Prefix) *Remote {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	egress := egressPolicy{allow: allow}
	return &Remote{
		client:     newEgressClient(egress),
		egress:     egress,
		instanceID: hex.EncodeToString(id),
		misses:     map[string]time.Time{},
		down:       map[int]time.Time{},
	}
}

// maxRememberedMisses bounds the negative cache: past it, expired
// entries are dropped, and if all are fresh the cache starts over (it only
// saves upstream requests), so requests for random missing paths cannot
// grow memory without bound.
const maxRememberedMisses = 100_000

// missed reports a miss remembered for key that has not expired.
func (f *Remote) missed(key string, now time.Time) bool {
	f.mu.Lock()
	until, ok := f.misses[key]
	f.mu.Unlock()
	return ok && now.Before(until)
}

func (f *Remote) rememberMiss(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.misses) >= maxRememberedMisses {
		for k, until := range f.misses {
			if !now.Before(until) {
				delete(f.misses, k)
			}
		}
		if len(f.misses) >= maxRememberedMisses {
			clear(f.misses)
		}
	}
	f.misses[key] = now.Add(negativeTTL)
}

// ErrUpstreamMiss is a definitive "not there" from the upstream.
var ErrUpstreamMiss = NotFound("404 Not found")

// UpstreamError reports an upstream that failed (not a definitive miss).
func UpstreamError(cause error, format string, args ...any) error {
	return &Error{Kind: KindBadGateway, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// upstreamGet sends one GET to a REMOTE project's upstream, with its
// credentials when the URL is on the upstream's own host. It maps transport
// failures to 502/504; the caller owns the response's status.
func (r *Remote) upstreamGet(ctx context.Context, prj *ent.Project, rawURL string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return nil, UpstreamError(err, "502 Bad Gateway - invalid upstream URL")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "pkgreg-registry")
	if err := r.checkLoop(ctx, prj); err != nil {
		return nil, err
	}
	r.setHops(ctx, req, prj)
	if err := r.authorizeUpstream(req, prj); err != nil {
		return nil, err
	}
	r.mu.Lock()
	until, isDown := r.down[prj.ID]
	r.mu.Unlock()
	if isDown && r.s.now().Before(until) {
		return nil, UpstreamError(nil, "502 Bad Gateway - the upstream registry of %s failed moments ago; it is retried after %s",
			prj.FullPath, until.UTC().Format(time.RFC3339))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		var refused *refusedAddrError
		if errors.As(err, &refused) {
			// Not a failing upstream: nothing to remember as down.
			host := req.URL.Hostname()
			var ue *url.Error
			if errors.As(err, &ue) { // the URL of the hop that was refused
				if u, perr := url.Parse(ue.URL); perr == nil {
					host = u.Hostname()
				}
			}
			return nil, UpstreamError(err, "502 Bad Gateway - the upstream of %s is not reachable from this registry: %s; %s",
				prj.FullPath, refused.describe(host), refusedRule)
		}
		if ctx.Err() == nil { // the upstream failed, not our caller
			r.mu.Lock()
			r.down[prj.ID] = r.s.now().Add(downFor)
			r.mu.Unlock()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, &Error{Kind: KindGatewayTimeout, Message: "504 Gateway Timeout - the upstream registry did not answer in time", Cause: err}
		}
		return nil, UpstreamError(err, "502 Bad Gateway - the upstream registry is unreachable")
	}
	if isDown {
		r.mu.Lock()
		delete(r.down, prj.ID)
		r.mu.Unlock()
	}
	return resp, nil
}

// authorizeUpstream adds the stored credentials: Basic when a username is
// set, else the secret as a Bearer token (GitLab and this registry accept
// both). They go only to the origin (scheme, host and port) of the
// configured upstream URL: an index may link files on another host, and a
// redirect may lead anywhere (checkUpstreamRedirect drops them there). They
// are never logged.
func (r *Remote) authorizeUpstream(req *http.Request, prj *ent.Project) error {
	if prj.RemoteURL == nil {
		return nil
	}
	if base, err := url.Parse(*prj.RemoteURL); err != nil || !sameOrigin(base, req.URL) {
		return nil
	}
	var secret string
	if prj.RemoteSecret != nil && len(*prj.RemoteSecret) > 0 {
		b, err := r.s.sealer.open(*prj.RemoteSecret)
		if err != nil {
			return Internal(err, "could not unseal the upstream credentials")
		}
		secret = string(b)
	}
	switch {
	case prj.RemoteUsername != nil:
		req.SetBasicAuth(*prj.RemoteUsername, secret)
	case secret != "":
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	return nil
}

// RemoteFile is one file of a REMOTE project's upstream, with the
// coordinates it is cached under.
type RemoteFile struct {
	Project                 *ent.Project
	Format                  enum.Format
	Name, Version, FileName string
	// URL is the absolute upstream URL of the file.
	URL string
	// Expect holds the digests the upstream's metadata advertised; an
	// X-Checksum-SHA256 (X-Checksum-Sha1) response header fills in SHA256
	// (SHA1) when it is empty.
	Expect            Expected
	NeedSHA1, NeedMD5 bool
	NeedSHA512        bool
	// RequireSHA1 refuses (502, nothing cached) a file whose SHA-1 neither
	// Expect nor the upstream's X-Checksum-Sha1 header gives: a format
	// that caches only what it verified (Maven) sets it.
	RequireSHA1               bool
	PkgMetadata, FileMetadata json.RawMessage
	// stored reports whether the file is cached by now. The fill asks it
	// first: a read that missed the cache just before another fill
	// finished must not fetch (and record) the file a second time.
	stored func(ctx context.Context) (bool, error)
}

// Live is a cold-miss download streaming to its first client while it is
// stored. The last byte is held back until the file is verified and
// recorded: a client never sees a complete body that failed its checksum.
// A read error means the fill failed; the handler must abort the response.
type Live struct {
	io.ReadCloser
	FileName string
	// Size is the upstream's Content-Length, or -1.
	Size int64
	// SHA256 is the digest the upstream advertised, or "".
	SHA256 string
	// SHA1 is the SHA-1 the upstream advertised (RemoteFile.Expect or its
	// X-Checksum-Sha1 header), or "".
	SHA1 string
}

// Fill makes sure rf is cached, fetching it from the upstream once
// for any number of concurrent callers (single-flight). With stream set,
// the caller that starts the fetch gets the bytes as they arrive (a non-nil
// Live) instead of waiting for the whole file; callers that join a fetch in
// progress wait for it and then read the cache (nil Live, nil error).
// Errors: errUpstreamMiss on a definitive 404/410 (remembered briefly),
// else 502/504. Nothing partial is ever cached.
func (r *Remote) Fill(ctx context.Context, rf RemoteFile, stream bool) (*Live, error) {
	key := fmt.Sprintf("%d\x00%s", rf.Project.ID, rf.URL)
	if r.missed(key, r.s.now()) {
		return nil, ErrUpstreamMiss
	}
	// Before joining a fill: in a loop, the fill in flight is the one
	// waiting for this request.
	if err := r.checkLoop(ctx, rf.Project); err != nil {
		return nil, err
	}
	var started chan *Live // stays nil (never ready) without stream
	if stream {
		started = make(chan *Live, 1)
	}
	// The fill runs detached from the callers' contexts: a client that goes
	// away does not abort the fill the others wait for.
	done := r.flight.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fillTimeout)
		defer cancel()
		if rf.stored != nil {
			if ok, err := rf.stored(fctx); err != nil || ok {
				return nil, err
			}
		}
		err := r.fillRemoteOnce(fctx, ctx, rf, started)
		if errors.Is(err, ErrUpstreamMiss) {
			r.rememberMiss(key, r.s.now())
		}
		return nil, err
	})
	select {
	case lv := <-started:
		return lv, nil
	case res := <-done:
		return nil, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fillRemoteOnce fetches and stores one file. When started is set it hands
// the caller (whose context is callerCtx) a Live copy of the stream.
func (r *Remote) fillRemoteOnce(ctx, callerCtx context.Context, rf RemoteFile, started chan<- *Live) error {
	resp, err := r.upstreamGet(ctx, rf.Project, rf.URL, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return ErrUpstreamMiss
	case resp.StatusCode != http.StatusOK:
		return upstreamStatusError(resp)
	case r.s.maxFileSize > 0 && resp.ContentLength > r.s.maxFileSize:
		return UpstreamError(nil, "502 Bad Gateway - the upstream's file is %d bytes; the limit is %d bytes", resp.ContentLength, r.s.maxFileSize)
	}
	exp := rf.Expect
	if v := resp.Header.Get("X-Checksum-SHA256"); v != "" && exp.SHA256 == "" {
		exp.SHA256 = strings.ToLower(v)
	}
	if v := resp.Header.Get("X-Checksum-Sha1"); v != "" && exp.SHA1 == "" {
		exp.SHA1 = strings.ToLower(v)
	}
	if rf.RequireSHA1 && exp.SHA1 == "" {
		return UpstreamError(nil, "502 Bad Gateway - the upstream gives no SHA-1 for %s (no .sha1 file, no X-Checksum-Sha1 header); "+
			"an unverified file is not cached", rf.FileName)
	}
	var body io.Reader = resp.Body
	var live *liveWriter
	if started != nil {
		pr, pw := io.Pipe()
		live = &liveWriter{pw: pw, started: started,
			live: &Live{ReadCloser: pr, FileName: rf.FileName, Size: resp.ContentLength, SHA256: exp.SHA256, SHA1: exp.SHA1}}
		// The caller's request ends (client gone, or response done): stop
		// feeding it, keep storing.
		stop := context.AfterFunc(callerCtx, func() { pr.CloseWithError(context.Canceled) })
		defer stop()
		body = io.TeeReader(resp.Body, live)
	}
	nf := NewFile{
		Project: rf.Project, Format: rf.Format, Name: rf.Name, Version: rf.Version, FileName: rf.FileName,
		Body: body, Size: resp.ContentLength, Expect: exp, DuplicatesAllowed: true,
		NeedSHA1: rf.NeedSHA1, NeedMD5: rf.NeedMD5, NeedSHA512: rf.NeedSHA512, PkgMetadata: rf.PkgMetadata, FileMetadata: rf.FileMetadata,
	}
	if live != nil {
		// The client's copy is complete once the whole body has arrived
		// and matches its length and digests: it need not wait for the
		// cache to make it durable and record it (if that fails, the
		// client still has a verified file; the next read fetches again).
		nf.BodyRead = func(n int64, d Digests) {
			if (resp.ContentLength < 0 || n == resp.ContentLength) && exp.verify(d) == nil {
				live.commit()
			}
		}
	}
	_, err = r.s.AddPackageFile(ctx, nf)
	if err != nil {
		switch KindOf(err) {
		case KindInvalid:
			// Truncated body or checksum mismatch: nothing was cached.
			err = UpstreamError(err, "502 Bad Gateway - the upstream's file was incomplete or did not match its checksum")
		case KindTooLarge:
			// Sent without a length and cut off at the limit: say so, or
			// an operator looks for a broken upstream instead of the limit.
			err = UpstreamError(err, "502 Bad Gateway - the upstream's file exceeds the limit of %d bytes", r.s.maxFileSize)
		}
		if live != nil {
			live.fail(err)
		}
		return err
	}
	if live != nil {
		live.commit()
	}
	return nil
}

// liveThreshold is how much of a cold miss is buffered before it starts
// streaming to its first client. Smaller files are verified and stored
// before the client sees a status, so a bad upstream file is a clean 502;
// larger ones stream, and a failure aborts the response.
const liveThreshold = 256 << 10

// liveWriter passes a fill's bytes on to its first client once more than
// liveThreshold bytes have arrived, always holding back the last byte until
// commit. A client that stops reading is dropped; the fill goes on (its
// error never fails the store).
type liveWriter struct {
	pw      *io.PipeWriter
	started chan<- *Live
	live    *Live
	handed  bool
	buf     []byte
	held    []byte
	dead    bool
	ended   bool
}

func (w *liveWriter) Write(p []byte) (int, error) {
	n := len(p)
	if w.dead || n == 0 {
		return n, nil
	}
	if !w.handed {
		w.held = append(w.held, p...)
		if len(w.held) <= liveThreshold {
			return n, nil
		}
		w.handed = true
		w.started <- w.live
		p = nil
	}
	w.buf = append(append(w.buf[:0], w.held...), p...)
	w.held = append(w.held[:0], w.buf[len(w.buf)-1])
	if _, err := w.pw.Write(w.buf[:len(w.buf)-1]); err != nil {
		w.dead = true
	}
	return n, nil
}

// commit releases the held-back byte and ends the stream, once. A fill
// that never started streaming leaves the caller to read the stored file.
func (w *liveWriter) commit() {
	if w.ended {
		return
	}
	w.ended = true
	if w.handed && !w.dead {
		_, _ = w.pw.Write(w.held)
	}
	_ = w.pw.Close()
}

// fail ends the stream with the fill's error, unless it already ended
// complete and verified.
func (w *liveWriter) fail(err error) {
	if !w.ended {
		w.ended = true
		_ = w.pw.CloseWithError(err)
	}
}
