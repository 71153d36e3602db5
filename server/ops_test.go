package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

func TestHealthReadinessMetrics(t *testing.T) {
	e := servertest.New(t)
	status, body, _ := e.Do(t, "GET", "/-/health", nil, nil)
	if status != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("health: %d %s", status, body)
	}
	status, body, _ = e.Do(t, "GET", "/-/readiness", nil, nil)
	var ready struct {
		Status string
		Checks map[string]string
	}
	if err := json.Unmarshal(body, &ready); err != nil || status != 200 || ready.Checks["database"] != "ok" || ready.Checks["blob_store"] != "ok" {
		t.Fatalf("readiness on %s: %d %s", servertest.Backends(), status, body)
	}
	// A request id comes back on every response, and a caller's own id is kept.
	_, _, hdr := e.Do(t, "GET", "/-/health", nil, map[string]string{"X-Request-Id": "abc123"})
	if hdr.Get("X-Request-Id") != "abc123" {
		t.Fatalf("request id not echoed: %q", hdr.Get("X-Request-Id"))
	}
	_, _, _ = e.Do(t, "GET", "/no/such/route", nil, nil)
	status, body, _ = e.Do(t, "GET", "/metrics", nil, nil)
	m := string(body)
	for _, want := range []string{
		`registry_http_requests_total{code="200",method="GET",route="GET /-/health"} 2`,
		`registry_http_requests_total{code="404",method="GET",route="/"} 1`,
		`registry_http_request_duration_seconds_bucket{method="GET",route="GET /-/readiness"`,
		`registry_http_response_bytes_total{route="GET /-/health"}`,
		`registry_http_request_bytes_total`,
	} {
		if status != 200 || !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestReadinessNamesFailingPart(t *testing.T) {
	e := servertest.New(t)
	// Closing the database under the server makes it unready, and says why.
	e.Server.DB.Close()
	status, body, _ := e.Do(t, "GET", "/-/readiness", nil, nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), `"database":"unreachable"`) ||
		!strings.Contains(string(body), `"blob_store":"ok"`) {
		t.Fatalf("readiness with a closed database: %d %s", status, body)
	}
}
