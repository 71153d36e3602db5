package rest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// goProxyRoute is the GOPROXY base URL of a project plus the protocol's
// path. The module path is split into its first element and the rest
// because a single {path...} after /go/ would overlap
// /packages/{package_id}/package_files with neither more specific, which
// ServeMux refuses; a module path always has a first element.
const goProxyRoute = "/api/v4/projects/{id}/packages/go/{first}/{rest...}"

// registerGoProxy adds the Go modules (the GOPROXY protocol) routes.
func (a *API) registerGoProxy(handle HandleFunc) {
	handle("GET "+goProxyRoute, a.goProxyGet) // also HEAD
	handle("PUT "+goProxyRoute, a.goProxyPut)
}

// goRequest is a protocol path: <module>/@v/list, <module>/@v/<v>.info,
// .mod, .zip, or <module>/@latest, with module and version case-encoded.
type goRequest struct {
	escPath    string
	escVersion string
	// what is "list", "latest", ".info", ".mod" or ".zip".
	what string
}

// parseGoRequest splits the protocol path. A module path never contains
// "@", so the first "/@v/" ends it.
func parseGoRequest(r *http.Request) (goRequest, bool) {
	full := r.PathValue("first") + "/" + r.PathValue("rest")
	if mod, ok := strings.CutSuffix(full, "/@latest"); ok {
		return goRequest{escPath: mod, what: "latest"}, true
	}
	mod, file, ok := strings.Cut(full, "/@v/")
	if !ok || mod == "" {
		return goRequest{}, false
	}
	if file == "list" {
		return goRequest{escPath: mod, what: "list"}, true
	}
	for _, ext := range []string{".info", ".mod", ".zip"} {
		if v, ok := strings.CutSuffix(file, ext); ok && v != "" && !strings.Contains(v, "/") {
			return goRequest{escPath: mod, escVersion: v, what: ext}, true
		}
	}
	return goRequest{}, false
}

func (a *API) goProxyGet(w http.ResponseWriter, r *http.Request) {
	ctx, ref := r.Context(), r.PathValue("id")
	p := registry.PrincipalFrom(ctx)
	req, ok := parseGoRequest(r)
	if !ok {
		WriteError(w, r, registry.NotFound("404 Not found - not a GOPROXY protocol path"))
		return
	}
	switch req.what {
	case "list":
		versions, err := a.Svc.GoVersionList(ctx, p, ref, req.escPath)
		if err != nil {
			PackageError(w, r, err)
			return
		}
		var b strings.Builder
		for _, v := range versions {
			b.WriteString(v + "\n")
		}
		writeGoDocument(w, r, "text/plain; charset=utf-8", []byte(b.String()))
	case "latest":
		info, err := a.Svc.GoLatest(ctx, p, ref, req.escPath)
		if err != nil {
			PackageError(w, r, err)
			return
		}
		body, _ := json.Marshal(info)
		writeGoDocument(w, r, "application/json", body)
	case ".info", ".mod":
		read, ctype := a.Svc.GoInfoFile, "application/json"
		if req.what == ".mod" {
			read, ctype = a.Svc.GoModFile, "text/plain; charset=utf-8"
		}
		body, err := read(ctx, p, ref, req.escPath, req.escVersion)
		if err != nil {
			PackageError(w, r, err)
			return
		}
		writeGoDocument(w, r, ctype, body)
	case ".zip":
		d, err := a.Svc.OpenGoZip(ctx, p, ref, req.escPath, req.escVersion, ReadOptions(r))
		if err != nil {
			PackageError(w, r, err)
			return
		}
		ServeDownload(w, r, d)
	}
}

// writeGoDocument writes a small protocol document. The go command caches
// what it downloads itself, so only the HTTP layer's freshness matters:
// revalidate every time, against an ETag that digests the (small) document.
func writeGoDocument(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	h := w.Header()
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	if NotModified(w, r, BodyETag(ctype, body)) {
		return
	}
	h.Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// goProxyPut publishes a module version: PUT <module>/@v/<version>.zip.
// This is the registry's own API (the GOPROXY protocol is read-only).
func (a *API) goProxyPut(w http.ResponseWriter, r *http.Request) {
	req, ok := parseGoRequest(r)
	switch {
	case !ok:
		WriteError(w, r, registry.NotFound("404 Not found - publish a module version with PUT <module>/@v/<version>.zip"))
		return
	case req.what != ".zip":
		// The .mod and .info are derived from the zip, so they cannot
		// disagree with it.
		w.Header().Set("Allow", "GET, HEAD")
		WriteError(w, r, registry.MethodNotAllowed("405 Method Not Allowed - only the zip is published (PUT <module>/@v/<version>.zip); its .mod and .info are derived from it"))
		return
	}
	_, created, err := a.Svc.UploadGoModule(r.Context(), registry.PrincipalFrom(r.Context()), registry.GoModuleUpload{
		ProjectRef: r.PathValue("id"), EscapedPath: req.escPath, EscapedVersion: req.escVersion,
		Body: r.Body, Size: r.ContentLength,
	})
	if err != nil {
		PackageError(w, r, err)
		return
	}
	if !created {
		WriteJSON(w, http.StatusOK, map[string]string{"message": "200 OK - this version is already published with the same content"})
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"message": "201 Created"})
}
