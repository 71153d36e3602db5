package npm

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/rest"
)

// npm routes, GitLab's layout: the registry URL npm is configured with is
// routePrefix for a project, and every path npm derives from it lies below.
// Scoped names arrive escaped ("@scope%2fname"), one path segment. The
// patterns are spelled out (no catch-all) so that they do not overlap the
// package API's ".../packages/{package_id}/package_files/{file_id}".
const routePrefix = "/api/v4/projects/{id}/packages/npm/"

// Routes adds the npm (packuments, tarballs, dist-tags) routes.
func (f *Format) Routes(handle rest.HandleFunc) {
	handle("GET "+routePrefix+"-/whoami", f.handleWhoami)
	handle("GET "+routePrefix+"-/ping", func(w http.ResponseWriter, r *http.Request) { rest.WriteJSON(w, http.StatusOK, map[string]any{}) })
	handle("GET "+routePrefix+"{name}", f.handlePackument)
	handle("GET "+routePrefix+"{a}/{b}", f.handleTwoSegments)
	handle("GET "+routePrefix+"{name}/-/{file}", f.handleTarball)
	handle("PUT "+routePrefix+"{name}", f.handlePut)
	handle("PUT "+routePrefix+"{name}/-rev/{rev}", f.handlePut)
	handle("DELETE "+routePrefix+"{name}/-rev/{rev}", f.handleDeletePackage)
	handle("DELETE "+routePrefix+"{name}/-/{file}/-rev/{rev}", f.handleDeleteTarball)
	handle("GET "+routePrefix+"-/package/{name}/dist-tags", f.handleDistTags)
	handle("PUT "+routePrefix+"-/package/{name}/dist-tags/{tag}", f.handleSetDistTag)
	handle("POST "+routePrefix+"-/package/{name}/dist-tags/{tag}", f.handleSetDistTag)
	handle("DELETE "+routePrefix+"-/package/{name}/dist-tags/{tag}", f.handleDeleteDistTag)
}

// writeError writes an error in npm's shape, {"error": "..."}; anonymous
// callers asking for a project they cannot see get a Basic challenge so
// that npm sends its token.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := registry.PrincipalFrom(r.Context())
	if registry.IsProjectNotFound(err) && !p.Authenticated() {
		err = registry.Unauthenticated("401 Unauthorized")
	}
	status := rest.Status(registry.KindOf(err))
	rest.ErrorHeaders(w, r, status, err)
	rest.WriteJSON(w, status, map[string]string{"error": rest.Message(status, err)})
}

// base is the absolute URL of the project's npm endpoint as the client
// addressed it, so that tarball URLs lie under the registry URL of .npmrc
// (npm sends the token only there).
func (f *Format) base(r *http.Request) string {
	return f.api.ProjectURL(r) + "/packages/npm/"
}

func (f *Format) handlePackument(w http.ResponseWriter, r *http.Request) {
	f.servePackument(w, r, r.PathValue("name"), "")
}

// handleTwoSegments is an unescaped scoped name (@scope/name) or a version
// (or tag) of an unscoped one (name/1.0.0).
func (f *Format) handleTwoSegments(w http.ResponseWriter, r *http.Request) {
	first, second := r.PathValue("a"), r.PathValue("b")
	if strings.HasPrefix(first, "@") {
		f.servePackument(w, r, first+"/"+second, "")
		return
	}
	f.servePackument(w, r, first, second)
}

func (f *Format) servePackument(w http.ResponseWriter, r *http.Request, name, version string) {
	abbreviated := version == "" && strings.Contains(r.Header.Get("Accept"), AbbreviatedType)
	pk, err := f.Packument(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name, !abbreviated)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Vary", "Accept")
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	// The revision covers what the document is made of (versions, files,
	// dist-tags, and for REMOTE and VIRTUAL projects the upstream documents
	// and the tier that owns the name), so a 304 skips rendering.
	if version != "" {
		body, err := pk.VersionManifest(f.base(r), version)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if rest.NotModified(w, r, rest.RevisionETag(pk.Rev, "version:"+version)) {
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
	if rest.NotModified(w, r, rest.RevisionETag(pk.Rev, form)) {
		return
	}
	h.Set("Content-Type", "application/json")
	if abbreviated {
		h.Set("Content-Type", AbbreviatedType)
	}
	body, err := pk.RenderPackument(f.base(r), abbreviated)
	if err != nil {
		writeError(w, r, err)
		return
	}
	_, _ = w.Write(body)
}

func (f *Format) handleTarball(w http.ResponseWriter, r *http.Request) {
	d, err := f.OpenTarball(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"),
		r.PathValue("name"), r.PathValue("file"), rest.ReadOptions(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	rest.ServeDownload(w, r, d)
}

func (f *Format) handleWhoami(w http.ResponseWriter, r *http.Request) {
	name, err := Username(registry.PrincipalFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]string{"username": name})
}

// handlePut is a publish, a deprecate or an unpublish of one version.
func (f *Format) handlePut(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := f.PutPackage(r.Context(), registry.PrincipalFrom(r.Context()), Put{
		ProjectRef: r.PathValue("id"), Name: name, Rev: r.PathValue("rev"), Body: r.Body, Size: r.ContentLength,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func (f *Format) handleDeletePackage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := f.DeletePackage(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name,
		r.PathValue("rev")); err != nil {
		writeError(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func (f *Format) handleDeleteTarball(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := f.DeleteTarball(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name,
		r.PathValue("file"), r.PathValue("rev")); err != nil {
		writeError(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func (f *Format) handleDistTags(w http.ResponseWriter, r *http.Request) {
	tags, err := f.DistTagsOf(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("name"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, tags)
}

// handleSetDistTag reads the version, a JSON string, from the body.
func (f *Format) handleSetDistTag(w http.ResponseWriter, r *http.Request) {
	var version string
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1024))
	if err != nil || json.Unmarshal(raw, &version) != nil || version == "" {
		writeError(w, r, registry.Invalid("the body must be the version as a JSON string, like \"1.2.3\""))
		return
	}
	name := r.PathValue("name")
	if err := f.SetDistTag(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name,
		r.PathValue("tag"), version); err != nil {
		writeError(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func (f *Format) handleDeleteDistTag(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := f.DeleteDistTag(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name,
		r.PathValue("tag")); err != nil {
		writeError(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}
