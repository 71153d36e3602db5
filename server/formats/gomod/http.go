package gomod

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/rest"
)

// route is the GOPROXY base URL of a project plus the protocol's path.
// The module path is split into its first element and the rest because a
// single {path...} after /go/ would overlap
// /packages/{package_id}/package_files with neither more specific, which
// ServeMux refuses; a module path always has a first element.
const route = "/api/v4/projects/{id}/packages/go/{first}/{rest...}"

// Routes adds the Go modules (the GOPROXY protocol) routes.
func (f *Format) Routes(handle rest.HandleFunc) {
	handle("GET "+route, f.get) // also HEAD
	handle("PUT "+route, f.put)
}

// requestOf is the protocol path of a request on route.
func requestOf(r *http.Request) (request, bool) {
	return parseRequest(r.PathValue("first") + "/" + r.PathValue("rest"))
}

func (f *Format) get(w http.ResponseWriter, r *http.Request) {
	ctx, ref := r.Context(), r.PathValue("id")
	p := registry.PrincipalFrom(ctx)
	req, ok := requestOf(r)
	if !ok {
		rest.WriteError(w, r, registry.NotFound("404 Not found - not a GOPROXY protocol path"))
		return
	}
	switch req.what {
	case "list":
		versions, err := f.VersionList(ctx, p, ref, req.escPath)
		if err != nil {
			rest.PackageError(w, r, err)
			return
		}
		var b strings.Builder
		for _, v := range versions {
			b.WriteString(v + "\n")
		}
		writeDocument(w, r, "text/plain; charset=utf-8", []byte(b.String()))
	case "latest":
		info, err := f.Latest(ctx, p, ref, req.escPath)
		if err != nil {
			rest.PackageError(w, r, err)
			return
		}
		body, _ := json.Marshal(info)
		writeDocument(w, r, "application/json", body)
	case ".info", ".mod":
		read, ctype := f.InfoFile, "application/json"
		if req.what == ".mod" {
			read, ctype = f.ModFile, "text/plain; charset=utf-8"
		}
		body, err := read(ctx, p, ref, req.escPath, req.escVersion)
		if err != nil {
			rest.PackageError(w, r, err)
			return
		}
		writeDocument(w, r, ctype, body)
	case ".zip":
		d, err := f.OpenZip(ctx, p, ref, req.escPath, req.escVersion, rest.ReadOptions(r))
		if err != nil {
			rest.PackageError(w, r, err)
			return
		}
		rest.ServeDownload(w, r, d)
	}
}

// writeDocument writes a small protocol document. The go command caches
// what it downloads itself, so only the HTTP layer's freshness matters:
// revalidate every time, against an ETag that digests the (small) document.
func writeDocument(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	h := w.Header()
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	if rest.NotModified(w, r, rest.BodyETag(ctype, body)) {
		return
	}
	h.Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// put publishes a module version: PUT <module>/@v/<version>.zip. This is
// the registry's own API (the GOPROXY protocol is read-only).
func (f *Format) put(w http.ResponseWriter, r *http.Request) {
	req, ok := requestOf(r)
	switch {
	case !ok:
		rest.WriteError(w, r, registry.NotFound("404 Not found - publish a module version with PUT <module>/@v/<version>.zip"))
		return
	case req.what != ".zip":
		// The .mod and .info are derived from the zip, so they cannot
		// disagree with it.
		w.Header().Set("Allow", "GET, HEAD")
		rest.WriteError(w, r, registry.MethodNotAllowed("405 Method Not Allowed - only the zip is published (PUT <module>/@v/<version>.zip); its .mod and .info are derived from it"))
		return
	}
	_, created, err := f.UploadModule(r.Context(), registry.PrincipalFrom(r.Context()), ModuleUpload{
		ProjectRef: r.PathValue("id"), EscapedPath: req.escPath, EscapedVersion: req.escVersion,
		Body: r.Body, Size: r.ContentLength,
	})
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	if !created {
		rest.WriteJSON(w, http.StatusOK, map[string]string{"message": "200 OK - this version is already published with the same content"})
		return
	}
	rest.WriteJSON(w, http.StatusCreated, map[string]string{"message": "201 Created"})
}
