package rest

import (
	"net/http"
	"net/url"
	"strings"
)

const projectsPrefix = "/api/v4/projects/"

// ProjectPath is "/api/v4/projects/:id" with :id exactly as the caller
// wrote it (a numeric id, or the URL-encoded full path such as
// acme%2Fpystd), for every URL the registry writes into a response to a
// project route. Clients configured with an index URL send credentials
// only under that URL (pip, npm's nerf-darted .npmrc), and a decoded
// "acme/pystd" is a path no route serves, so :id is taken from the
// escaped request path rather than re-built from the decoded value.
func ProjectPath(r *http.Request) string {
	if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), projectsPrefix); ok {
		// {id} is one path segment in every project route; EscapedPath
		// keeps the client's escaping (RawPath) when it is valid.
		if seg, _, _ := strings.Cut(rest, "/"); seg != "" {
			return projectsPrefix + seg
		}
	}
	return projectsPrefix + url.PathEscape(r.PathValue("id"))
}

// ProjectURL is projectPath as an absolute URL.
func (a *API) ProjectURL(r *http.Request) string {
	return a.BaseURL(r) + ProjectPath(r)
}

// AddTrailingSlash redirects to the request's path plus "/", as ServeMux
// does for a subtree pattern (the generic format's {file...} route) asked
// without its slash, but from the escaped path: ServeMux builds that
// Location from the decoded path, turning acme%2Fpystd into acme/pystd, a
// 404. 307 keeps the method, like ServeMux's.
func AddTrailingSlash(w http.ResponseWriter, r *http.Request) {
	target := r.URL.EscapedPath() + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusTemporaryRedirect)
}
