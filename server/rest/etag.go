package rest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// Index documents (npm packuments, PyPI simple pages, Go version lists) are
// sent with "Cache-Control: private, max-age=0, must-revalidate": clients
// revalidate on every use. An ETag makes that revalidation a 304 with no
// body instead of the whole document again.

// BodyETag is a strong validator of a rendered document: a digest of its
// media type and bytes (the type is included because one URL serves
// several representations, chosen by Accept).
func BodyETag(ctype string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(ctype))
	h.Write([]byte{0})
	h.Write(body)
	return `"` + hex.EncodeToString(h.Sum(nil))[:32] + `"`
}

// RevisionETag is a weak validator derived from a document's revision and
// its representation, known before the document is rendered. Weak: the
// same revision renders an equivalent document, not one promised to be
// byte-identical.
func RevisionETag(rev, representation string) string {
	if rev == "" {
		return "" // no revision: no validator, rather than one that never changes
	}
	h := sha256.Sum256([]byte(rev + "\x00" + representation))
	return `W/"` + hex.EncodeToString(h[:16]) + `"`
}

// NotModified sets etag on the response and, when the request's
// If-None-Match names it (weak comparison, RFC 9110 13.1.2), answers 304
// and reports true. Headers set before the call (Cache-Control, Vary) go
// out with the 304 too.
func NotModified(w http.ResponseWriter, r *http.Request, etag string) bool {
	if etag == "" {
		return false
	}
	w.Header().Set("ETag", etag)
	inm := r.Header.Get("If-None-Match")
	if inm == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(inm, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == want {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}
