package rest

import (
	"net/http"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// RegisterGitLabUsers adds GitLab's identity and instance endpoints, which
// clients (python-gitlab's gl.auth(), glab, go-gitlab) call before they
// touch packages. The rules are the core's (registry/identity.go).
func (a *API) RegisterGitLabUsers(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, wrap(h)) }
	handle("GET /api/v4/user", a.currentUser)
	handle("GET /api/v4/users", a.listUsers)
	handle("GET /api/v4/version", a.instanceMetadata)
	handle("GET /api/v4/metadata", a.instanceMetadata)
	handle("GET /api/v4/personal_access_tokens/self", a.currentToken)
}

// userBasicJSON is GitLab's UserBasic entity. The registry has no avatars
// and no locking, so avatar_url is null and locked false.
func (a *API) userBasicJSON(r *http.Request, u *ent.User) map[string]any {
	return map[string]any{
		"id": u.ID, "username": u.Username, "name": u.Name, "state": "active", "locked": false,
		"avatar_url": nil, "web_url": a.BaseURL(r) + "/" + u.Username,
	}
}

func (a *API) currentUser(w http.ResponseWriter, r *http.Request) {
	u, err := a.Svc.Users.CurrentUser(registry.PrincipalFrom(r.Context()))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	m := a.userBasicJSON(r, u)
	var email any
	if u.Email != "" {
		email = u.Email
	}
	// The caller's own record: GitLab shows them their email and whether
	// they are an administrator or a bot.
	m["created_at"] = u.CreatedAt.UTC()
	m["email"] = email
	m["is_admin"] = u.Admin
	m["bot"] = u.Bot
	WriteJSON(w, http.StatusOK, m)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := offsetParams(q)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	rows, total, err := a.Svc.Users.ListUsers(r.Context(), registry.PrincipalFrom(r.Context()),
		registry.UserFilter{Username: q.Get("username"), Search: q.Get("search")}, page)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := make([]map[string]any, len(rows))
	for i, u := range rows {
		out[i] = a.userBasicJSON(r, u)
	}
	a.writePaginated(w, r, page, total, out)
}

// instanceMetadata answers /metadata and /version: since GitLab 15.5 the
// latter mirrors the former. There is no agent server for Kubernetes.
func (a *API) instanceMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := a.Svc.Users.BuildInfo(registry.PrincipalFrom(r.Context()))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"version": b.Version, "revision": b.Revision, "enterprise": false,
		"kas": map[string]any{"enabled": false, "externalUrl": nil, "externalK8sProxyUrl": nil, "version": nil},
	})
}

func (a *API) currentToken(w http.ResponseWriter, r *http.Request) {
	t, err := a.Svc.Users.CurrentToken(registry.PrincipalFrom(r.Context()))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	scopes := t.Scopes
	if scopes == nil {
		scopes = []enum.Scope{}
	}
	var expires, lastUsed any
	if t.ExpiresAt != nil {
		// GitLab's expires_at is a date (go-gitlab parses it as one).
		expires = t.ExpiresAt.UTC().Format("2006-01-02")
	}
	if t.LastUsedAt != nil {
		lastUsed = t.LastUsedAt.UTC()
	}
	// Metadata only: the digest is never rendered and the secret is not
	// stored.
	WriteJSON(w, http.StatusOK, map[string]any{
		"id": t.ID, "name": t.Name, "revoked": t.RevokedAt != nil, "created_at": t.CreatedAt.UTC(),
		"description": nil, "scopes": scopes, "user_id": t.UserID, "last_used_at": lastUsed,
		"active": true, "expires_at": expires,
	})
}
