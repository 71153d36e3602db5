package maven

import (
	"net/http"
	"strings"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/rest"
)

// Group-level reads, as GitLab has them: GET|HEAD
// /api/v4/groups/:id/-/packages/maven/*path reads every project of the
// group (and its subgroups) whose packages the caller may read, in the
// core's order (GroupReadSources: newest first, STANDARD before REMOTE,
// VIRTUAL ones skipped). A file comes from the first project that has it,
// metadata is merged across the projects that have the directory, both
// under the name-ownership rule of virtual.go (the STANDARD projects and
// the REMOTE ones are two tiers). A group the caller may not see is a 401
// with the Basic challenge for an anonymous caller (so that mvn sends its
// credentials), a 404 for a signed-in one. Uploads go to a project.

// groupRoute is the group's Maven repository plus the repository path,
// split as route is.
const groupRoute = "/api/v4/groups/{id}/-/packages/maven/{first}/{rest...}"

func (f *Format) groupGet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sources, err := f.core.GroupReadSources(ctx, registry.PrincipalFrom(ctx), r.PathValue("id"), enum.Maven)
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	path := repoPath(r)
	if strings.HasSuffix(path, "/") {
		rest.PackageError(w, r, registry.NotFound("404 Not found - directory listings are not served"))
		return
	}
	req, err := parseRequest(path)
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	f.serveRead(w, r, sources, req)
}

// serveRead answers a read of req over sources: a metadata document or its
// sidecar, an artifact's sidecar, or the artifact.
func (f *Format) serveRead(w http.ResponseWriter, r *http.Request, sources []registry.Source, req request) {
	ctx := r.Context()
	switch {
	case req.Metadata:
		doc, err := f.metadataIn(ctx, sources, req.Dir)
		if err != nil {
			rest.PackageError(w, r, err)
			return
		}
		if req.Sidecar != "" {
			writeChecksum(w, r, documentDigest(req.Sidecar, doc))
			return
		}
		writeDocument(w, r, doc)
	case req.Sidecar != "":
		sum, err := f.checksumIn(ctx, sources, req)
		if err != nil {
			rest.PackageError(w, r, err)
			return
		}
		writeChecksum(w, r, sum)
	default:
		d, err := f.openOwned(ctx, sources, req, rest.ReadOptions(r))
		if err != nil {
			rest.PackageError(w, r, err)
			return
		}
		setFileChecksums(w, d)
		rest.ServeDownload(w, r, d)
	}
}

// setFileChecksums sets the X-Checksum headers of a download (Maven
// Resolver then skips the sidecar requests); X-Checksum-Sha256 is
// ServeDownload's. A cold miss streaming from a REMOTE upstream has only
// the SHA-1 the fill verifies it against (the last byte is held back until
// it matched).
func setFileChecksums(w http.ResponseWriter, d *registry.Download) {
	h := w.Header()
	switch {
	case d.File != nil:
		for alg, header := range map[string]string{"sha1": "X-Checksum-Sha1", "md5": "X-Checksum-MD5", "sha512": "X-Checksum-Sha512"} {
			if v := fileDigest(d.File, alg); v != "" {
				h.Set(header, v)
			}
		}
	case d.Live != nil && d.Live.SHA1 != "":
		h.Set("X-Checksum-Sha1", d.Live.SHA1)
	}
}
