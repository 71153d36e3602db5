package registry

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Go modules (the GOPROXY protocol). A module version is one package
// (name: the module path as the go command spells it, version: the
// canonical semantic version) with one file, "<version>.zip". The go.mod
// that the .mod endpoint serves is taken from the zip at upload and kept in
// the package's metadata, so that the zip and its .mod can never disagree
// (go.sum pins both) and both are recorded in the same transaction; .info's
// Time is the package's creation time. REMOTE projects cache the
// upstream's .info, .mod and .zip as three files of the version's package.

// goPkgMetadata is a published module version's metadata.
type goPkgMetadata struct {
	// Mod is the go.mod of the zip, served verbatim as <version>.mod.
	Mod string `json:"mod"`
}

// GoInfo is the JSON the protocol answers for .info and @latest.
type GoInfo struct {
	Version string
	Time    time.Time
}

// GoModuleUpload is one PUT of a module version's zip.
type GoModuleUpload struct {
	ProjectRef string
	// EscapedPath and EscapedVersion are as the go command encodes them
	// ("!" before a lower-cased upper-case letter).
	EscapedPath, EscapedVersion string
	Body                        io.Reader
	Size                        int64
}

// maxGoZipSize is the go command's own limit on a module zip; the
// registry's file size limit applies when it is lower.
func (s *Service) maxGoZipSize() int64 {
	if s.maxFileSize > 0 && s.maxFileSize < modzip.MaxZipFile {
		return s.maxFileSize
	}
	return modzip.MaxZipFile
}

// maxGoCoordinateLen is the longest module path or version a package row
// holds (as encoded, which is never shorter than decoded).
const maxGoCoordinateLen = 255

// parseGoModule decodes and validates a case-encoded module path.
func parseGoModule(escPath string) (string, error) {
	if len(escPath) > maxGoCoordinateLen {
		return "", Invalid("invalid module path: longer than %d characters", maxGoCoordinateLen)
	}
	modPath, err := module.UnescapePath(escPath)
	if err != nil && strings.ToLower(escPath) != escPath {
		return "", Invalid("invalid module path %q: upper-case letters must be case-encoded as \"!\" and the lower-case letter, as the go command sends them (%v)", escPath, err)
	}
	if err != nil {
		return "", Invalid("invalid module path %q: %v", escPath, err)
	}
	if err := module.CheckPath(modPath); err != nil {
		return "", Invalid("invalid module path: %v", err)
	}
	return modPath, nil
}

// parseGoVersion decodes a case-encoded version and checks that it is the
// canonical semantic version that path can have (v2+ needs a /vN suffix or
// +incompatible). Only canonical versions are stored: the go command asks
// for them and go.sum pins them.
func parseGoVersion(modPath, escVersion string) (string, error) {
	if len(escVersion) > maxGoCoordinateLen {
		return "", Invalid("invalid version: longer than %d characters", maxGoCoordinateLen)
	}
	v, err := module.UnescapeVersion(escVersion)
	if err != nil {
		return "", Invalid("invalid version %q: %v", escVersion, err)
	}
	if c := module.CanonicalVersion(v); c != v {
		if c == "" {
			return "", Invalid("version %q is not a semantic version (want vMAJOR.MINOR.PATCH)", v)
		}
		return "", Invalid("version %q is not canonical (should be %q)", v, c)
	}
	if err := module.Check(modPath, v); err != nil {
		return "", Invalid("%v", err)
	}
	return v, nil
}

// UploadGoModule publishes a module version from its zip. The body is
// spooled to a temporary file (never to memory) so that the zip can be
// checked as the go command would check it before anything is stored.
// created is false when the same zip was already published (an idempotent
// retry); a different zip for a published version is a conflict whatever
// the duplicate setting, because go.sum files pin every version's hash.
func (s *Service) UploadGoModule(ctx context.Context, p *Principal, in GoModuleUpload) (pf *ent.PackageFile, created bool, err error) {
	pa, err := s.PublishTarget(ctx, p, in.ProjectRef)
	if err != nil {
		return nil, false, err
	}
	modPath, err := parseGoModule(in.EscapedPath)
	if err != nil {
		return nil, false, err
	}
	version, err := parseGoVersion(modPath, in.EscapedVersion)
	if err != nil {
		return nil, false, err
	}
	limit := s.maxGoZipSize()
	if in.Size > limit {
		return nil, false, TooLarge("module zip is %d bytes; the limit is %d bytes", in.Size, limit)
	}
	spool, err := spoolUpload(in.Body, in.Size, limit)
	if err != nil {
		return nil, false, err
	}
	defer spool.remove()
	goMod, err := checkModuleZip(spool.f.Name(), modPath, version)
	if err != nil {
		return nil, false, err
	}
	prj, fileName := pa.Project, version+".zip"
	if existing, err := s.publishedGoZip(ctx, s.db, prj.ID, modPath, version); err != nil || existing != nil {
		return sameGoZip(existing, spool.sha256, err)
	}
	meta, _ := json.Marshal(goPkgMetadata{Mod: string(goMod)})
	if _, err := spool.f.Seek(0, io.SeekStart); err != nil {
		return nil, false, Internal(err, "could not read the spooled upload")
	}
	pf, err = s.AddPackageFile(ctx, NewFile{
		Project: prj, Format: enum.Golang, Name: modPath, Version: version, FileName: fileName,
		Body: spool.f, Size: spool.size, Expect: Expected{SHA256: spool.sha256},
		// Immutability is decided in Within, whatever the namespace's rule.
		DuplicatesAllowed: true, PkgMetadata: meta,
		Within: func(ctx context.Context, tx *ent.Tx, pkgID int) error {
			// A concurrent upload of the same version got in first.
			dup, err := tx.PackageFile.Query().Where(packagefile.PackageID(pkgID)).First(ctx)
			switch {
			case ent.IsNotFound(err):
				return nil
			case err != nil:
				return err
			case dup.Sha256 == spool.sha256:
				return errGoSameZip
			}
			return goImmutable(modPath, version)
		},
	})
	if errors.Is(err, errGoSameZip) {
		existing, err := s.publishedGoZip(ctx, s.db, prj.ID, modPath, version)
		return sameGoZip(existing, spool.sha256, err)
	}
	if err != nil {
		return nil, false, err
	}
	return pf, true, nil
}

// errGoSameZip ends the recording transaction of an upload whose identical
// zip a concurrent upload published first; the upload then answers as an
// idempotent retry.
var errGoSameZip = Conflict("the same module zip is already published")

func goImmutable(modPath, version string) error {
	return Conflict("%s@%s is already published with different content; module versions are immutable (go.sum pins them): publish a new version", modPath, version)
}

// sameGoZip answers an upload of a version that is already published.
func sameGoZip(existing *ent.PackageFile, sha string, err error) (*ent.PackageFile, bool, error) {
	switch {
	case err != nil:
		return nil, false, err
	case existing.Sha256 != sha:
		return nil, false, goImmutable(existing.Edges.Pkg.Name, existing.Edges.Pkg.Version)
	}
	return existing, false, nil
}

// publishedGoZip is the stored zip of a module version in one project, or
// nil.
func (s *Service) publishedGoZip(ctx context.Context, db *ent.Client, projectID int, modPath, version string) (*ent.PackageFile, error) {
	f, err := db.PackageFile.Query().Where(FilesOfPackages(pkg.ProjectID(projectID), pkg.PackageTypeEQ(enum.Golang),
		pkg.Name(modPath), pkg.Version(version))).WithPkg().First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal(err, "could not read the module")
	}
	return f, nil
}

// spooled is an upload written to a temporary file, with its digest.
type spooled struct {
	f      *os.File
	size   int64
	sha256 string
}

func (sp *spooled) remove() {
	_ = sp.f.Close()
	_ = os.Remove(sp.f.Name())
}

// spoolUpload copies body to a temporary file, hashing it, and stops as
// soon as it exceeds limit.
func spoolUpload(body io.Reader, announced, limit int64) (*spooled, error) {
	f, err := os.CreateTemp("", "gomod-upload-*.zip")
	if err != nil {
		return nil, Unavailable(err, "could not spool the upload")
	}
	sp := &spooled{f: f}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, limit+1))
	switch {
	case err != nil:
		sp.remove()
		return nil, Invalid("the upload was interrupted")
	case n > limit:
		sp.remove()
		return nil, TooLarge("module zip exceeds the limit of %d bytes", limit)
	case announced >= 0 && n != announced:
		sp.remove()
		return nil, Invalid("the request body does not match its Content-Length (%d bytes)", announced)
	}
	sp.size, sp.sha256 = n, hex.EncodeToString(h.Sum(nil))
	return sp, nil
}

// checkModuleZip applies the go command's rules to a module zip (every file
// under "<path>@<version>/", clean paths, no case collisions, go.mod only
// at the root, size limits) and returns its go.mod, which must declare
// modPath. A zip without go.mod is accepted only for +incompatible
// versions (pre-modules code), whose go.mod the go command synthesises.
func checkModuleZip(zipPath, modPath, version string) ([]byte, error) {
	mv := module.Version{Path: modPath, Version: version}
	cf, err := modzip.CheckZip(mv, zipPath)
	if err != nil {
		if cf.SizeError != nil {
			return nil, TooLarge("%v", cf.SizeError)
		}
		return nil, Invalid("invalid module zip: %v", err)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, Invalid("invalid module zip: %v", err)
	}
	defer zr.Close()
	goModName := fmt.Sprintf("%s@%s/go.mod", modPath, version)
	for _, zf := range zr.File {
		if zf.Name != goModName {
			continue
		}
		data, err := readZipFile(zf, modzip.MaxGoMod)
		if err != nil {
			return nil, Invalid("invalid module zip: go.mod: %v", err)
		}
		mf, err := modfile.ParseLax("go.mod", data, nil)
		switch {
		case err != nil:
			return nil, Invalid("invalid go.mod: %v", err)
		case mf.Module == nil:
			return nil, Invalid("go.mod has no module directive")
		case mf.Module.Mod.Path != modPath:
			return nil, Invalid("go.mod declares module %q, but it is uploaded as %q", mf.Module.Mod.Path, modPath)
		}
		return data, nil
	}
	if semver.Build(version) != "+incompatible" {
		return nil, Invalid("the module zip has no go.mod at %s", goModName)
	}
	return []byte(fmt.Sprintf("module %s\n", modfile.AutoQuote(modPath))), nil
}

func readZipFile(zf *zip.File, limit int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
