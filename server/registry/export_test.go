package registry

import (
	"net/http"
	"time"
)

// SetUpstreamHeaderTimeout shortens how long s waits for an upstream's
// response headers (30 s in production), so that a test of the timeout
// does not sleep for it.
func SetUpstreamHeaderTimeout(s *Service, d time.Duration) {
	s.Remote.client.Transport.(*http.Transport).ResponseHeaderTimeout = d
}
