package maven

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/rest"
)

// route is a project's Maven repository plus the repository path. The path
// is split into its first segment and the rest because a single {path...}
// after /maven/ would overlap /packages/{package_id}/{files} with neither
// more specific, which ServeMux refuses (gomod does the same).
const route = "/api/v4/projects/{id}/packages/maven/{first}/{rest...}"

// Routes adds the Maven repository routes.
func (f *Format) Routes(handle rest.HandleFunc) {
	handle("GET "+route, f.get) // also HEAD
	handle("PUT "+route, f.put)
	handle("GET "+groupRoute, f.groupGet) // group.go; also HEAD
}

func repoPath(r *http.Request) string {
	return r.PathValue("first") + "/" + r.PathValue("rest")
}

func (f *Format) put(w http.ResponseWriter, r *http.Request) {
	exp, err := registry.ParseDigestHeaders(r.Header.Get)
	if err != nil {
		rest.WriteError(w, r, err)
		return
	}
	res, err := f.Upload(r.Context(), registry.PrincipalFrom(r.Context()), Put{
		ProjectRef: r.PathValue("id"), Path: repoPath(r), Body: r.Body, Size: r.ContentLength, Expect: exp,
	})
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	if res == Verified {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rest.WriteJSON(w, http.StatusCreated, map[string]string{"message": "201 Created"})
}

func (f *Format) get(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := registry.PrincipalFrom(ctx)
	ref, path := r.PathValue("id"), repoPath(r)
	if strings.HasSuffix(path, "/") {
		// A directory: Maven clients never list one.
		rest.PackageError(w, r, f.readable(r, ref, registry.NotFound("404 Not found - directory listings are not served")))
		return
	}
	req, err := parseRequest(path)
	if err != nil {
		rest.PackageError(w, r, f.readable(r, ref, err))
		return
	}
	sources, err := f.projectSources(ctx, p, ref)
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	f.serveRead(w, r, sources, req) // group.go
}

// projectSources is a project read's upstream order, once the caller may
// read the project's packages.
func (f *Format) projectSources(ctx context.Context, p *registry.Principal, ref string) ([]registry.Source, error) {
	pa, err := f.core.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := f.core.CanReadPackages(p, pa); err != nil {
		return nil, err
	}
	return f.core.ReadSources(ctx, p, pa.Project, enum.Maven)
}

// readable turns a bad-path error into the project's access error when the
// caller may not read the project: an anonymous caller learns nothing about
// a private project's paths, and gets the Basic challenge first.
func (f *Format) readable(r *http.Request, ref string, err error) error {
	ctx := r.Context()
	p := registry.PrincipalFrom(ctx)
	pa, perr := f.core.Project(ctx, p, ref)
	if perr != nil {
		return perr
	}
	if perr := f.core.CanReadPackages(p, pa); perr != nil {
		return perr
	}
	return err
}

// writeDocument writes a rendered metadata document with a validator, so
// that a revalidation is a 304.
func writeDocument(w http.ResponseWriter, r *http.Request, doc []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	h.Set("X-Checksum-Sha1", documentDigest("sha1", doc))
	h.Set("X-Checksum-MD5", documentDigest("md5", doc))
	h.Set("X-Checksum-Sha256", documentDigest("sha256", doc))
	h.Set("X-Checksum-Sha512", documentDigest("sha512", doc))
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	if rest.NotModified(w, r, rest.BodyETag("application/xml", doc)) {
		return
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(doc)
	}
}

// writeChecksum writes a sidecar: the hex digest, as Maven writes it.
func writeChecksum(w http.ResponseWriter, r *http.Request, sum string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	h.Set("Content-Length", strconv.Itoa(len(sum)))
	if rest.NotModified(w, r, rest.BodyETag("text/plain", []byte(sum))) {
		return
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(sum))
	}
}
