package rest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry"
)

// API serves the REST endpoints over the domain service.
type API struct {
	Svc *registry.Service
	// ExternalURL is the configured base URL ("" = derive from requests).
	ExternalURL string
}

// HandleFunc adds one authenticated route.
type HandleFunc func(pattern string, h http.HandlerFunc)

// Register adds the REST routes to mux, each behind wrap (authentication).
// Routes go on the server's one mux so that metrics see their patterns.
func (a *API) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, wrap(h)) }
	// The formats add their own routes (server/formats.go); these are
	// GitLab's format-independent packages API.
	handle("GET /api/v4/projects/{id}/packages", a.listProjectPackages)
	handle("GET /api/v4/groups/{id}/packages", a.listGroupPackages)
	handle("GET /api/v4/projects/{id}/packages/{package_id}", a.getPackage)
	handle("DELETE /api/v4/projects/{id}/packages/{package_id}", a.deletePackage)
	// {files} rather than the literal "package_files": with a literal, this
	// pattern and npm's ".../packages/npm/{name}" would overlap without either
	// being more specific, which ServeMux refuses.
	handle("GET /api/v4/projects/{id}/packages/{package_id}/{files}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("files") != "package_files" {
			WriteError(w, r, registry.NotFound("404 Not found"))
			return
		}
		a.listPackageFiles(w, r)
	})
	handle("DELETE /api/v4/projects/{id}/packages/{package_id}/package_files/{file_id}", a.deletePackageFile)
}

// PackageError renders a domain error on a package route. Anonymous callers
// asking for a project they cannot see get a Basic challenge (401) so that
// clients retry with credentials; signed-in callers get 404.
func PackageError(w http.ResponseWriter, r *http.Request, err error) {
	if registry.IsProjectNotFound(err) && !registry.PrincipalFrom(r.Context()).Authenticated() {
		err = registry.Unauthenticated("401 Unauthorized")
	}
	WriteError(w, r, err)
}

func WriteParamError(w http.ResponseWriter, msg string) {
	WriteJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

// ReadOptions lets a plain GET stream a remote cold miss; HEAD and Range
// requests are answered from the stored file.
func ReadOptions(r *http.Request) registry.ReadOptions {
	return registry.ReadOptions{Stream: r.Method == http.MethodGet && r.Header.Get("Range") == ""}
}

// ServeDownload answers with a stored file, or streams a live cold miss.
func ServeDownload(w http.ResponseWriter, r *http.Request, d *registry.Download) {
	defer d.Close()
	if d.Live != nil {
		serveLive(w, d)
		return
	}
	serveFile(w, r, d)
}

// serveLive streams a remote cold miss as it arrives. No ETag or Range:
// the file is not stored yet. If the fill fails (truncated upstream body,
// checksum mismatch) the connection is aborted, so the client sees an
// incomplete response rather than a complete bad one.
func serveLive(w http.ResponseWriter, d *registry.Download) {
	h := w.Header()
	setFileHeaders(h, d.Live.FileName, d.Upstream)
	if d.Live.SHA256 != "" {
		h.Set("X-Checksum-SHA256", d.Live.SHA256)
	}
	if d.Live.Size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(d.Live.Size, 10))
	}
	h.Set("X-Registry-Cache", "MISS")
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(w, d.Live, buf); err != nil {
		panic(http.ErrAbortHandler)
	}
}

// setFileHeaders are the headers every file download carries.
func setFileHeaders(h http.Header, fileName, upstream string) {
	base := path.Base(fileName)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`,
		strings.ReplaceAll(base, `"`, ""), url.PathEscape(base)))
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	if upstream != "" {
		h.Set("X-Registry-Upstream", upstream)
	}
}

// serveFile streams a stored file with GitLab's headers; http.ServeContent
// answers Range, If-None-Match, If-Modified-Since and HEAD. On local disk
// it gets the *os.File so the kernel's sendfile path is used.
func serveFile(w http.ResponseWriter, r *http.Request, d *registry.Download) {
	h := w.Header()
	base := path.Base(d.File.FileName)
	setFileHeaders(h, d.File.FileName, d.Upstream)
	h.Set("X-Checksum-SHA256", d.File.Sha256)
	h.Set("ETag", `"`+d.File.Sha256+`"`)
	h.Set("Accept-Ranges", "bytes")
	modtime := d.File.CreatedAt.UTC().Truncate(time.Second)
	if fb, ok := d.Object.(blob.FileBacked); ok {
		http.ServeContent(w, r, base, modtime, fb.OSFile())
		return
	}
	http.ServeContent(w, r, base, modtime, d.Object)
}

// BaseURL is the externally visible base URL: the configured one, else
// scheme and host of the request (honouring X-Forwarded-Proto).
func (a *API) BaseURL(r *http.Request) string {
	if a.ExternalURL != "" {
		return a.ExternalURL
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// PackageFileJSON is GitLab's package file entity as the generic upload
// returns it with select=package_file.
func (a *API) PackageFileJSON(r *http.Request, pf *ent.PackageFile) map[string]any {
	return map[string]any{
		"id": pf.ID, "package_id": pf.PackageID, "created_at": pf.CreatedAt.UTC(), "updated_at": pf.UpdatedAt.UTC(),
		"size": pf.Size, "file_store": a.fileStore(), "file_md5": pf.Md5, "file_sha1": pf.Sha1, "file_name": pf.FileName,
		"file": map[string]any{"url": "/" + pf.FileName}, "file_sha256": pf.Sha256,
		"verification_retry_at": nil, "verified_at": nil, "verification_failure": nil, "verification_retry_count": nil,
		"verification_checksum": nil, "verification_state": 0, "verification_started_at": nil, "status": "default",
		"file_final_path": nil, "new_file_path": nil,
	}
}

// fileStore is GitLab's file_store: 1 local, 2 object storage.
func (a *API) fileStore() int {
	if a.Svc.Blobs().Name() == "s3" {
		return 2
	}
	return 1
}
