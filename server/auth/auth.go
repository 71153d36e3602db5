// Package auth reads credentials from HTTP requests the way GitLab does and
// resolves them through the domain layer into a Principal in the context.
package auth

import (
	"net/http"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// Credential extracts the presented token secret, if any: PRIVATE-TOKEN,
// JOB-TOKEN and Deploy-Token headers, Authorization: Bearer, and HTTP Basic
// with the token as the password (the username is ignored, as in GitLab).
func Credential(r *http.Request) (string, bool) {
	for _, h := range []string{"PRIVATE-TOKEN", "JOB-TOKEN", "Deploy-Token"} {
		if v := r.Header.Get(h); v != "" {
			return v, true
		}
	}
	if v := r.Header.Get("Authorization"); v != "" {
		if scheme, tok, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), true
		}
		if _, pw, ok := r.BasicAuth(); ok {
			return pw, true
		}
		// A malformed Authorization header is a credential that fails, not
		// an anonymous request.
		return "", true
	}
	// job_token / private_token query parameters, as GitLab accepts them
	// (CI scripts use them with curl).
	q := r.URL.Query()
	for _, k := range []string{"private_token", "job_token"} {
		if v := q.Get(k); v != "" {
			return v, true
		}
	}
	return "", false
}

// Middleware authenticates every request. A request with a credential that
// does not resolve gets 401 from onError; one without is anonymous.
func Middleware(svc *registry.Service, onError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			secret, presented := Credential(r)
			if !presented {
				next.ServeHTTP(w, r.WithContext(registry.WithPrincipal(r.Context(), registry.Anonymous)))
				return
			}
			p, err := svc.Tokens.Authenticate(r.Context(), secret)
			if err != nil {
				onError(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(registry.WithPrincipal(r.Context(), p)))
		})
	}
}
