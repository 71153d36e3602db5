package gomod

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// pkgMetadata is a published module version's metadata.
type pkgMetadata struct {
	// Mod is the go.mod of the zip, served verbatim as <version>.mod.
	Mod string `json:"mod"`
}

// Info is the JSON the protocol answers for .info and @latest.
type Info struct {
	Version string
	Time    time.Time
}

// ModuleUpload is one PUT of a module version's zip.
type ModuleUpload struct {
	ProjectRef string
	// EscapedPath and EscapedVersion are as the go command encodes them
	// ("!" before a lower-cased upper-case letter).
	EscapedPath, EscapedVersion string
	Body                        io.Reader
	Size                        int64
}

// UploadModule publishes a module version from its zip. The body is
// spooled to a temporary file (never to memory) so that the zip can be
// checked as the go command would check it before anything is stored.
// created is false when the same zip was already published (an idempotent
// retry); a different zip for a published version is a conflict whatever
// the duplicate setting, because go.sum files pin every version's hash.
func (f *Format) UploadModule(ctx context.Context, p *registry.Principal, in ModuleUpload) (pf *ent.PackageFile, created bool, err error) {
	pa, err := f.core.PublishTarget(ctx, p, in.ProjectRef)
	if err != nil {
		return nil, false, err
	}
	modPath, err := parseModulePath(in.EscapedPath)
	if err != nil {
		return nil, false, err
	}
	version, err := parseVersion(modPath, in.EscapedVersion)
	if err != nil {
		return nil, false, err
	}
	limit := zipLimit(f.core.MaxFileSize())
	if in.Size > limit {
		return nil, false, registry.TooLarge("module zip is %d bytes; the limit is %d bytes", in.Size, limit)
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
	if existing, err := f.publishedZip(ctx, prj.ID, modPath, version); err != nil || existing != nil {
		return sameZip(existing, spool.sha256, err)
	}
	meta, _ := json.Marshal(pkgMetadata{Mod: string(goMod)})
	if _, err := spool.f.Seek(0, io.SeekStart); err != nil {
		return nil, false, registry.Internal(err, "could not read the spooled upload")
	}
	pf, err = f.core.AddPackageFile(ctx, registry.NewFile{
		Project: prj, Format: enum.Golang, Name: modPath, Version: version, FileName: fileName,
		Body: spool.f, Size: spool.size, Expect: registry.Expected{SHA256: spool.sha256},
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
				return errSameZip
			}
			return immutable(modPath, version)
		},
	})
	if errors.Is(err, errSameZip) {
		existing, err := f.publishedZip(ctx, prj.ID, modPath, version)
		return sameZip(existing, spool.sha256, err)
	}
	if err != nil {
		return nil, false, err
	}
	return pf, true, nil
}

// errSameZip ends the recording transaction of an upload whose identical
// zip a concurrent upload published first; the upload then answers as an
// idempotent retry.
var errSameZip = registry.Conflict("the same module zip is already published")

func immutable(modPath, version string) error {
	return registry.Conflict("%s@%s is already published with different content; module versions are immutable (go.sum pins them): publish a new version", modPath, version)
}

// sameZip answers an upload of a version that is already published.
func sameZip(existing *ent.PackageFile, sha string, err error) (*ent.PackageFile, bool, error) {
	switch {
	case err != nil:
		return nil, false, err
	case existing.Sha256 != sha:
		return nil, false, immutable(existing.Edges.Pkg.Name, existing.Edges.Pkg.Version)
	}
	return existing, false, nil
}

// publishedZip is the stored zip of a module version in one project, or
// nil.
func (f *Format) publishedZip(ctx context.Context, projectID int, modPath, version string) (*ent.PackageFile, error) {
	file, err := f.core.DB().PackageFile.Query().Where(registry.FilesOfPackages(pkg.ProjectID(projectID), pkg.PackageTypeEQ(enum.Golang),
		pkg.Name(modPath), pkg.Version(version))).WithPkg().First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, registry.Internal(err, "could not read the module")
	}
	return file, nil
}
