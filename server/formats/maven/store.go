package maven

import (
	"bufio"
	"context"
	"encoding/hex"

	"io"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Put is one PUT below packages/maven/.
type Put struct {
	ProjectRef string
	Path       string
	Body       io.Reader
	Size       int64
	Expect     registry.Expected
}

// PutResult says what a PUT did.
type PutResult int

const (
	// Stored: a file was stored (201).
	Stored PutResult = iota
	// Verified: a checksum sidecar matched the stored file (204).
	Verified
	// Ignored: a metadata document (or its checksum) was accepted and not
	// stored: the server renders metadata from its rows (201).
	Ignored
)

// maxDocument bounds what is read of a metadata document or a sidecar PUT.
const (
	maxSidecar  = 1 << 10
	maxDocument = 4 << 20
)

// Upload handles a PUT: an artifact file is stored; a checksum sidecar is
// verified against the stored file and not stored; a metadata document is
// accepted and not stored (a plugin group's plugin entries are recorded).
func (f *Format) Upload(ctx context.Context, p *registry.Principal, in Put) (PutResult, error) {
	s := f.core
	pa, err := s.Project(ctx, p, in.ProjectRef)
	if err != nil {
		return 0, err
	}
	if err := s.CanWritePackages(p, pa); err != nil {
		return 0, err
	}
	// Bad paths are refused (400) before a read-only project is (405), as
	// generic does.
	req, err := parseRequest(in.Path)
	if err != nil {
		return 0, err
	}
	prj := pa.Project
	if err := registry.RequireStandard(prj); err != nil {
		return 0, err
	}
	if err := registry.RequireFormat(prj, enum.Maven); err != nil {
		return 0, err
	}
	switch {
	case req.Metadata:
		return Ignored, f.putMetadata(ctx, prj, req, in.Body)
	case req.Sidecar != "":
		if err := checkVersionPolicy(prj, req.Version); err != nil {
			return 0, err
		}
		return Verified, f.verifySidecar(ctx, p, prj, req, in.Body)
	}
	if err := checkVersionPolicy(prj, req.Version); err != nil {
		return 0, err
	}
	allowed := true
	if !isSnapshot(req.Version) {
		// SNAPSHOT files get new timestamped names on every deploy; the
		// duplicate rule is for release files (GitLab's rule too).
		if allowed, err = s.DuplicatesAllowed(ctx, prj, enum.Maven, req.Name, req.Version); err != nil {
			return 0, err
		}
	}
	_, err = s.AddPackageFile(ctx, registry.NewFile{
		Project: prj, Format: enum.Maven, Name: req.Name, Version: req.Version, FileName: req.Base,
		Body: in.Body, Size: in.Size, Expect: in.Expect, DuplicatesAllowed: allowed,
		NeedSHA1: true, NeedMD5: true, NeedSHA512: true,
	})
	if err != nil {
		return 0, err
	}
	return Stored, nil
}

// verifySidecar compares an uploaded checksum with the stored file's. The
// file must be there first (404 otherwise, as GitLab answers): accepting a
// checksum of nothing would tell the client its upload was verified when
// it was not. Mismatch: 400, nothing changes.
func (f *Format) verifySidecar(ctx context.Context, p *registry.Principal, prj *ent.Project, req request, body io.Reader) error {
	got, err := readChecksum(body, req.Sidecar)
	if err != nil {
		return err
	}
	sources, err := f.core.ReadSources(ctx, p, prj, enum.Maven)
	if err != nil {
		return err
	}
	stored, err := f.core.StoredFile(ctx, sources, enum.Maven, req.Name, req.Version, req.Base)
	if err != nil {
		return err
	}
	pf := stored[prj.ID]
	if pf == nil {
		return registry.NotFound("404 Not found - %s is not stored: upload the file before its checksum", req.Base)
	}
	want := fileDigest(pf, req.Sidecar)
	if want == "" {
		return registry.NotFound("404 Not found - %s has no stored %s digest", req.Base, req.Sidecar)
	}
	if got != want {
		return registry.Invalid("checksum mismatch: %s says %s, the stored %s has %s %s",
			req.File, got, req.Base, strings.ToUpper(req.Sidecar), want)
	}
	return nil
}

// readChecksum reads a sidecar body: the hex digest, optionally followed
// by a file name ("<hex>  file.jar", as sha1sum writes it).
func readChecksum(body io.Reader, alg string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxSidecar+1))
	if err != nil {
		return "", registry.Invalid("the upload was interrupted")
	}
	if len(b) > maxSidecar {
		return "", registry.Invalid("a .%s file holds one digest, not %d bytes or more", alg, maxSidecar)
	}
	return parseChecksum(string(b), alg)
}

// digestLen is the hex length of each sidecar's digest.
var digestLen = map[string]int{"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}

// parseChecksum extracts the digest of a sidecar's text.
func parseChecksum(text, alg string) (string, error) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return "", registry.Invalid("the .%s file is empty", alg)
	}
	d := strings.ToLower(fields[0])
	if _, err := hex.DecodeString(d); err != nil || len(d) != digestLen[alg] {
		return "", registry.Invalid("the .%s file must start with %d hexadecimal characters", alg, digestLen[alg])
	}
	return d, nil
}

// fileDigest is a stored file's digest for a sidecar extension ("" when
// it was not computed).
func fileDigest(pf *ent.PackageFile, alg string) string {
	var v *string
	switch alg {
	case "sha256":
		return pf.Sha256
	case "sha1":
		v = pf.Sha1
		if v == nil && pf.Edges.Blob != nil {
			v = pf.Edges.Blob.Sha1
		}
	case "md5":
		v = pf.Md5
		if v == nil && pf.Edges.Blob != nil {
			v = pf.Edges.Blob.Md5
		}
	case "sha512":
		v = pf.Sha512
	}
	return registry.DerefOr(v, "")
}

// putMetadata accepts a client's metadata document without storing it. A
// plugin group's document (with <plugins>) has its entries recorded on the
// artifacts it names; everything else the server renders from its rows.
func (f *Format) putMetadata(ctx context.Context, prj *ent.Project, req request, body io.Reader) error {
	if req.Sidecar != "" {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, maxSidecar))
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(body, maxDocument+1))
	if err != nil {
		return registry.Invalid("the upload was interrupted")
	}
	if len(b) > maxDocument {
		return registry.TooLarge("a metadata document is at most %d bytes", maxDocument)
	}
	plugins, err := parsePlugins(b)
	if err != nil || len(plugins) == 0 {
		// Not ours to judge: the client's view of metadata is replaced by
		// the server's anyway.
		return nil
	}
	return f.recordPlugins(ctx, prj, req.Dir, plugins)
}

func (f *Format) openIn(ctx context.Context, sources []registry.Source, req request, opt registry.ReadOptions) (*registry.Download, error) {
	s := f.core
	cached, err := s.StoredFile(ctx, sources, enum.Maven, req.Name, req.Version, req.Base)
	if err != nil {
		return nil, err
	}
	return s.OpenFirst(ctx, sources, opt, func(src registry.Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src registry.Source) (*ent.PackageFile, error) {
			filled, err := s.StoredFile(ctx, []registry.Source{src}, enum.Maven, req.Name, req.Version, req.Base)
			return filled[src.Project.ID], err
		},
		func(ctx context.Context, src registry.Source) (registry.RemoteFile, error) {
			return f.remoteFile(ctx, src, req) // remote.go
		})
}

// checksumIn is Checksum over sources (a project's upstream order, or a
// group's projects).
func (f *Format) checksumIn(ctx context.Context, sources []registry.Source, req request) (string, error) {
	s := f.core
	sources, err := f.owningSources(ctx, sources, req.Name)
	if err != nil {
		return "", err
	}
	cached, err := s.StoredFile(ctx, sources, enum.Maven, req.Name, req.Version, req.Base)
	if err != nil {
		return "", err
	}
	for _, src := range sources {
		if pf := cached[src.Project.ID]; pf != nil {
			if v := fileDigest(pf, req.Sidecar); v != "" {
				return v, nil
			}
			break
		}
		if src.Project.RepositoryMode == enum.Remote {
			break // fill it through OpenFirst below
		}
	}
	d, err := f.openIn(ctx, sources, req, registry.ReadOptions{})
	if err != nil {
		return "", err
	}
	defer d.Close()
	if d.File == nil {
		return "", registry.NotFound("404 Not found")
	}
	if v := fileDigest(d.File, req.Sidecar); v != "" {
		return v, nil
	}
	h := newHash(req.Sidecar)
	if _, err := io.Copy(h, bufio.NewReaderSize(d.Object, 256<<10)); err != nil {
		return "", registry.Unavailable(err, "could not read the file")
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
