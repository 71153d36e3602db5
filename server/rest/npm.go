package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// npm routes, GitLab's layout: the registry URL npm is configured with is
// npmPrefix for a project, and every path npm derives from it lies below.
// Scoped names arrive escaped ("@scope%2fname"), one path segment. The
// patterns are spelled out (no catch-all) so that they do not overlap the
// package API's ".../packages/{package_id}/package_files/{file_id}".
const npmPrefix = "/api/v4/projects/{id}/packages/npm/"

// registerNPM adds the npm (packuments, tarballs, dist-tags) routes.
func (a *API) registerNPM(handle HandleFunc) {
	handle("GET "+npmPrefix+"-/whoami", a.npmWhoami)
	handle("GET "+npmPrefix+"-/ping", func(w http.ResponseWriter, r *http.Request) { WriteJSON(w, http.StatusOK, map[string]any{}) })
	handle("GET "+npmPrefix+"{name}", a.npmPackument)
	handle("GET "+npmPrefix+"{a}/{b}", a.npmTwoSegments)
	handle("GET "+npmPrefix+"{name}/-/{file}", a.npmTarball)
	handle("PUT "+npmPrefix+"{name}", a.npmPut)
	handle("PUT "+npmPrefix+"{name}/-rev/{rev}", a.npmPut)
	handle("DELETE "+npmPrefix+"{name}/-rev/{rev}", a.npmDeletePackage)
	handle("DELETE "+npmPrefix+"{name}/-/{file}/-rev/{rev}", a.npmDeleteTarball)
	handle("GET "+npmPrefix+"-/package/{name}/dist-tags", a.npmDistTags)
	handle("PUT "+npmPrefix+"-/package/{name}/dist-tags/{tag}", a.npmSetDistTag)
	handle("POST "+npmPrefix+"-/package/{name}/dist-tags/{tag}", a.npmSetDistTag)
	handle("DELETE "+npmPrefix+"-/package/{name}/dist-tags/{tag}", a.npmDeleteDistTag)
}

// npmError writes an error in npm's shape, {"error": "..."}; anonymous
// callers asking for a project they cannot see get a Basic challenge so
// that npm sends its token.
func npmError(w http.ResponseWriter, r *http.Request, err error) {
	p := registry.PrincipalFrom(r.Context())
	if registry.IsProjectNotFound(err) && !p.Authenticated() {
		err = registry.Unauthenticated("401 Unauthorized")
	}
	status := Status(registry.KindOf(err))
	ErrorHeaders(w, r, status, err)
	WriteJSON(w, status, map[string]string{"error": Message(status, err)})
}

// npmBase is the absolute URL of the project's npm endpoint as the client
// addressed it, so that tarball URLs lie under the registry URL of .npmrc
// (npm sends the token only there).
func (a *API) npmBase(r *http.Request) string {
	return a.ProjectURL(r) + "/packages/npm/"
}

func (a *API) npmPackument(w http.ResponseWriter, r *http.Request) {
	a.servePackument(w, r, r.PathValue("name"), "")
}

// npmTwoSegments is an unescaped scoped name (@scope/name) or a version
// (or tag) of an unscoped one (name/1.0.0).
func (a *API) npmTwoSegments(w http.ResponseWriter, r *http.Request) {
	first, second := r.PathValue("a"), r.PathValue("b")
	if strings.HasPrefix(first, "@") {
		a.servePackument(w, r, first+"/"+second, "")
		return
	}
	a.servePackument(w, r, first, second)
}

func (a *API) servePackument(w http.ResponseWriter, r *http.Request, name, version string) {
	abbreviated := version == "" && strings.Contains(r.Header.Get("Accept"), registry.NPMAbbreviatedType)
	pk, err := a.Svc.NPMPackument(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name, !abbreviated)
	if err != nil {
		npmError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Vary", "Accept")
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	// The revision covers what the document is made of (versions, files,
	// dist-tags, and for REMOTE and VIRTUAL projects the upstream documents
	// and the tier that owns the name), so a 304 skips rendering.
	if version != "" {
		body, err := pk.VersionManifest(a.npmBase(r), version)
		if err != nil {
			npmError(w, r, err)
			return
		}
		if NotModified(w, r, RevisionETag(pk.Rev, "version:"+version)) {
			return
		}
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return
	}
	form := "full"
	if abbreviated {
		form = "abbreviated"
	}
	if NotModified(w, r, RevisionETag(pk.Rev, form)) {
		return
	}
	h.Set("Content-Type", "application/json")
	if abbreviated {
		h.Set("Content-Type", registry.NPMAbbreviatedType)
	}
	body, err := pk.RenderPackument(a.npmBase(r), abbreviated)
	if err != nil {
		npmError(w, r, err)
		return
	}
	_, _ = w.Write(body)
}

func (a *API) npmTarball(w http.ResponseWriter, r *http.Request) {
	d, err := a.Svc.OpenNPMTarball(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"),
		r.PathValue("name"), r.PathValue("file"), ReadOptions(r))
	if err != nil {
		npmError(w, r, err)
		return
	}
	ServeDownload(w, r, d)
}

func (a *API) npmWhoami(w http.ResponseWriter, r *http.Request) {
	name, err := registry.NPMUsername(registry.PrincipalFrom(r.Context()))
	if err != nil {
		npmError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"username": name})
}

// npmPut is a publish, a deprecate or an unpublish of one version.
func (a *API) npmPut(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := a.Svc.PutNPMPackage(r.Context(), registry.PrincipalFrom(r.Context()), registry.NPMPut{
		ProjectRef: r.PathValue("id"), Name: name, Rev: r.PathValue("rev"), Body: r.Body, Size: r.ContentLength,
	})
	if err != nil {
		npmError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func (a *API) npmDeletePackage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := a.Svc.DeleteNPMPackage(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name,
		r.PathValue("rev")); err != nil {
		npmError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func (a *API) npmDeleteTarball(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := a.Svc.DeleteNPMTarball(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name,
		r.PathValue("file"), r.PathValue("rev")); err != nil {
		npmError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func (a *API) npmDistTags(w http.ResponseWriter, r *http.Request) {
	tags, err := a.Svc.NPMDistTags(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("name"))
	if err != nil {
		npmError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, tags)
}

// npmSetDistTag reads the version, a JSON string, from the body.
func (a *API) npmSetDistTag(w http.ResponseWriter, r *http.Request) {
	var version string
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1024))
	if err != nil || json.Unmarshal(raw, &version) != nil || version == "" {
		npmError(w, r, registry.Invalid("the body must be the version as a JSON string, like \"1.2.3\""))
		return
	}
	name := r.PathValue("name")
	if err := a.Svc.SetNPMDistTag(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name,
		r.PathValue("tag"), version); err != nil {
		npmError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func (a *API) npmDeleteDistTag(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := a.Svc.DeleteNPMDistTag(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name,
		r.PathValue("tag")); err != nil {
		npmError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}
