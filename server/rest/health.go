package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/pkgreg/registry/server/registry"
)

// readinessTimeout bounds the whole readiness answer. Load balancers probe
// every few seconds with short timeouts; a dead dependency must be
// reported within one probe, not after a client library's retries (minio-go
// retries a refused connection for about 5 s).
const readinessTimeout = 1500 * time.Millisecond

// Health answers while the process is up.
func Health(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readiness checks the database and the blob store; 503 names what failed.
// Both probes run at once under one deadline, and a probe that does not
// return by then (a backend that ignores ctx) counts as unreachable.
func Readiness(svc *registry.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readinessTimeout)
		defer cancel()
		probes := map[string]func(context.Context) error{
			"database":   svc.Ping,
			"blob_store": svc.Blobs().Ping,
		}
		type result struct {
			name string
			err  error
		}
		results := make(chan result, len(probes))
		for name, probe := range probes {
			go func() { results <- result{name, probe(ctx)} }()
		}
		checks := map[string]string{}
		for name := range probes {
			checks[name] = "unreachable" // until its probe answers in time
		}
	wait:
		for range probes {
			select {
			case res := <-results:
				if res.err == nil {
					checks[res.name] = "ok"
				}
			case <-ctx.Done():
				break wait
			}
		}
		status := http.StatusOK
		body := map[string]any{"status": "ok", "checks": checks}
		for _, v := range checks {
			if v != "ok" {
				status, body["status"] = http.StatusServiceUnavailable, "unavailable"
			}
		}
		WriteJSON(w, status, body)
	}
}
