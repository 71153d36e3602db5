package servertest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Fault is what a FaultProxy does to the requests it relays.
type Fault string

const (
	NoFault     Fault = ""         // relay faithfully
	Fail500     Fault = "500"      // answer 500 "upstream is broken"
	Truncate    Fault = "truncate" // announce 1000 bytes, send 15 and end
	BadChecksum Fault = "badsum"   // relay with a wrong X-Checksum-SHA256
	Swap        Fault = "swap"     // answer SwapBody's bytes where it gives some
)

// FaultProxy sits in front of an upstream (a REMOTE project's remote URL
// points at it): it counts requests per path and fails on purpose.
type FaultProxy struct {
	*httptest.Server
	// SwapBody, under Swap, gives the complete (well-formed) body to
	// answer instead of the upstream's; ok false relays the request. Set it
	// before Set(Swap).
	SwapBody func(r *http.Request) (body []byte, ok bool)

	fault  atomic.Value // Fault
	mu     sync.Mutex
	counts map[string]int
}

// NewFaultProxy starts a FaultProxy relaying to target; it closes with t.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &FaultProxy{counts: map[string]int{}}
	p.fault.Store(NoFault)
	rp.ModifyResponse = func(resp *http.Response) error {
		if p.fault.Load() == BadChecksum {
			resp.Header.Set("X-Checksum-SHA256", strings.Repeat("0", 64))
		}
		return nil
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.counts[r.URL.Path]++
		p.mu.Unlock()
		switch p.fault.Load() {
		case Fail500:
			http.Error(w, "upstream is broken", http.StatusInternalServerError)
			return
		case Truncate:
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte("only part of it"))
			return
		case Swap:
			if body, ok := p.SwapBody(r); ok {
				_, _ = w.Write(body)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// Set switches the fault for the requests from now on.
func (p *FaultProxy) Set(f Fault) { p.fault.Store(f) }

// Count is how many requests reached the proxy for paths ending in suffix.
func (p *FaultProxy) Count(suffix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for path, c := range p.counts {
		if strings.HasSuffix(path, suffix) {
			n += c
		}
	}
	return n
}
