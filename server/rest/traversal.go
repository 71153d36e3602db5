package rest

import (
	"net/http"
	"net/url"
	"strings"
)

// RejectTraversal answers 400 to any API path with a ".." segment, plain or
// percent-encoded, before routing: ServeMux would otherwise "clean" the path
// and redirect, and a traversal attempt deserves a clear refusal, not a
// redirect to some other resource.
func RejectTraversal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if hasTraversal(r.URL.EscapedPath()) {
				WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "path is invalid: it must not contain '..' segments"})
				return
			}
			if strings.Contains(strings.TrimSuffix(r.URL.EscapedPath(), "/"), "//") {
				WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "path is invalid: it must not contain empty segments"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func hasTraversal(escaped string) bool {
	for _, seg := range strings.Split(escaped, "/") {
		// Decode repeatedly: %252e%252e is ".." after two rounds.
		for range 3 {
			dec, err := url.PathUnescape(seg)
			if err != nil || dec == seg {
				break
			}
			seg = dec
		}
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '/' || r == '\\' }) {
			if part == ".." || part == "." {
				return true
			}
		}
		if seg == ".." || seg == "." {
			return true
		}
	}
	return false
}
