package rest

import (
	"net/http"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// CarryHops passes the hop chain of a request (registry.HopsHeader, sent
// by remote projects of other registries or of this one) to the domain,
// which detects loops of remote repositories with it.
func CarryHops(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := strings.Join(r.Header.Values(registry.HopsHeader), ","); h != "" {
			r = r.WithContext(registry.WithHops(r.Context(), h))
		}
		next.ServeHTTP(w, r)
	})
}
