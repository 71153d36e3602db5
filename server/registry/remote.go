package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry/enum"
)

// remoteFetcher fills REMOTE projects from their upstream registries.
type remoteFetcher struct {
	client *http.Client
	flight singleflight.Group
	// misses caches definitive 404/410 answers briefly, per project and path.
	mu     sync.Mutex
	misses map[string]time.Time
}

// negativeTTL bounds how long a definitive upstream miss is remembered, so
// a package published upstream shows up soon.
const negativeTTL = time.Minute

func newRemoteFetcher() *remoteFetcher {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 30 * time.Second
	tr.TLSHandshakeTimeout = 10 * time.Second
	return &remoteFetcher{
		client: &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		}},
		misses: map[string]time.Time{},
	}
}

// errUpstreamMiss is a definitive "not there" from the upstream.
var errUpstreamMiss = NotFound("404 Not found")

// upstreamError reports an upstream that failed (not a definitive miss).
func upstreamError(cause error, format string, args ...any) error {
	return &Error{Kind: KindBadGateway, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// fetchGeneric fills a REMOTE project's cache with one generic file, once
// for any number of concurrent callers (single-flight), and returns nil
// when the file is now cached, errUpstreamMiss on a definitive miss, or a
// bad-gateway error.
func (s *Service) fetchGeneric(ctx context.Context, prj *ent.Project, name, version, filePath string) error {
	key := fmt.Sprintf("%d/%s/%s/%s", prj.ID, name, version, filePath)
	s.remote.mu.Lock()
	until, missed := s.remote.misses[key]
	s.remote.mu.Unlock()
	if missed && s.now().Before(until) {
		return errUpstreamMiss
	}
	// The fetch runs detached from any one caller's context: a client that
	// goes away does not abort the fill the others wait for.
	_, err, _ := s.remote.flight.Do(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
		defer cancel()
		err := s.fetchGenericOnce(fctx, prj, name, version, filePath)
		if errors.Is(err, errUpstreamMiss) {
			s.remote.mu.Lock()
			s.remote.misses[key] = s.now().Add(negativeTTL)
			s.remote.mu.Unlock()
		}
		return nil, err
	})
	return err
}

func (s *Service) fetchGenericOnce(ctx context.Context, prj *ent.Project, name, version, filePath string) error {
	if prj.RemoteURL == nil {
		return upstreamError(nil, "502 Bad Gateway - remote project %s has no upstream URL", prj.FullPath)
	}
	u := strings.TrimRight(*prj.RemoteURL, "/") + "/" + url.PathEscape(name) + "/" + url.PathEscape(version) + "/" + filePath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return upstreamError(err, "502 Bad Gateway - invalid upstream URL")
	}
	if err := s.authorizeUpstream(req, prj); err != nil {
		return err
	}
	resp, err := s.remote.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &Error{Kind: KindGatewayTimeout, Message: "504 Gateway Timeout - the upstream registry did not answer in time", Cause: err}
		}
		return upstreamError(err, "502 Bad Gateway - the upstream registry is unreachable")
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return errUpstreamMiss
	case resp.StatusCode != http.StatusOK:
		return upstreamError(nil, "502 Bad Gateway - the upstream registry answered %d", resp.StatusCode)
	}
	exp := Expected{}
	if v := resp.Header.Get("X-Checksum-SHA256"); v != "" {
		exp.SHA256 = strings.ToLower(v)
	}
	_, err = s.addPackageFile(ctx, newFile{
		Project: prj, Format: enum.Generic, Name: name, Version: version, FileName: filePath,
		Body: resp.Body, Size: resp.ContentLength, Expect: exp, DuplicatesAllowed: true,
	})
	if err != nil {
		switch KindOf(err) {
		case KindInvalid, KindTooLarge:
			// Truncated body or checksum mismatch: nothing was cached.
			return upstreamError(err, "502 Bad Gateway - the upstream's file was incomplete or did not match its checksum")
		}
		return err
	}
	return nil
}

// authorizeUpstream adds the stored credentials: Basic when a username is
// set, else the secret as a Bearer token (GitLab and this registry accept
// both). They are never logged.
func (s *Service) authorizeUpstream(req *http.Request, prj *ent.Project) error {
	var secret string
	if prj.RemoteSecret != nil && len(*prj.RemoteSecret) > 0 {
		b, err := s.sealer.open(*prj.RemoteSecret)
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
