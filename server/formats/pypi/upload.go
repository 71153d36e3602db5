package pypi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Upload is one twine upload (the legacy "file_upload" form).
type Upload struct {
	ProjectRef     string
	Name           string
	Version        string
	FileName       string
	RequiresPython string
	// Summary and the other core metadata fields twine sends are kept as
	// package metadata.
	Summary string
	// FileType is twine's "filetype" (bdist_wheel, sdist), checked
	// against the file name when sent.
	FileType string
	Body     io.Reader
	Size     int64
	Expect   registry.Expected
}

// fileMeta is what the index shows of each file.
type fileMeta struct {
	RequiresPython string `json:"requires_python,omitempty"`
	Yanked         bool   `json:"yanked,omitempty"`
	YankedReason   string `json:"yanked_reason,omitempty"`
	// DistSHA256, on a core metadata file, is the digest of the
	// distribution it describes: PEP 658 addresses it by that digest.
	DistSHA256 string `json:"dist_sha256,omitempty"`
}

// pkgMeta is a version's metadata: the name as published (packages are
// stored under the normalized name) and its summary.
type pkgMeta struct {
	Name    string `json:"name"`
	Summary string `json:"summary,omitempty"`
}

// Upload stores one distribution file under its normalized project name.
// For a wheel it also stores the wheel's core metadata (PEP 658), so that
// pip can resolve without downloading the wheel.
func (f *Format) Upload(ctx context.Context, p *registry.Principal, in Upload) (*ent.PackageFile, error) {
	pa, err := f.core.PublishTarget(ctx, p, in.ProjectRef)
	if err != nil {
		return nil, err
	}
	if err := registry.RequireFormat(pa.Project, enum.PyPI); err != nil {
		return nil, err
	}
	if err := ValidateUpload(in); err != nil {
		return nil, err
	}
	name := NormalizeName(in.Name)
	allowed, err := f.core.DuplicatesAllowed(ctx, pa.Project, enum.PyPI, name, in.Version)
	if err != nil {
		return nil, err
	}
	fm, _ := json.Marshal(fileMeta{RequiresPython: in.RequiresPython})
	pm, _ := json.Marshal(pkgMeta{Name: in.Name, Summary: in.Summary})
	_, _, kind := parseFileName(in.FileName)
	var coreMeta []byte
	pf, err := f.core.AddPackageFile(ctx, registry.NewFile{
		Project: pa.Project, Format: enum.PyPI, Name: name, Version: in.Version, FileName: in.FileName,
		Body: in.Body, Size: in.Size, Expect: in.Expect, DuplicatesAllowed: allowed, NeedMD5: true,
		PkgMetadata: pm, FileMetadata: fm,
		// The distribution's own core metadata: stored beside a wheel
		// (PEP 658), and the source of Requires-Python when the form has
		// none (an upload by curl or a tool other than twine), so that pip
		// still skips releases this Python cannot install.
		Stored: func(ctx context.Context, key string, size int64) json.RawMessage {
			data, err := f.distMetadata(ctx, key, size, kind)
			if err != nil {
				f.core.Log().InfoContext(ctx, "no core metadata read from a distribution", "file", in.FileName, "err", err)
				return nil
			}
			if kind == wheelKind {
				coreMeta = data
			}
			rp := metadataField(data, "Requires-Python")
			if in.RequiresPython != "" || rp == "" || len(rp) > 255 {
				return nil
			}
			m, _ := json.Marshal(fileMeta{RequiresPython: rp})
			return m
		},
	})
	if err != nil {
		if err == registry.ErrDuplicate {
			return nil, registry.Invalid("File already exists: %s (this namespace does not allow duplicate PyPI packages)", in.FileName)
		}
		return nil, err
	}
	if coreMeta != nil {
		f.storeCoreMetadata(ctx, pa.Project, name, in.Version, pf, coreMeta)
	}
	return pf, nil
}

// storeCoreMetadata stores a wheel's METADATA as "<wheel>.metadata". It is
// best effort: without it the index simply does not advertise core
// metadata and pip downloads the wheel instead.
func (f *Format) storeCoreMetadata(ctx context.Context, prj *ent.Project, name, version string, wheel *ent.PackageFile, data []byte) {
	meta, _ := json.Marshal(fileMeta{DistSHA256: wheel.Sha256})
	_, err := f.core.AddPackageFile(ctx, registry.NewFile{
		Project: prj, Format: enum.PyPI, Name: name, Version: version, FileName: wheel.FileName + coreMetadataSuffix,
		Body: bytes.NewReader(data), Size: int64(len(data)), DuplicatesAllowed: true, FileMetadata: meta,
	})
	if err != nil {
		f.core.Log().Warn("could not store a wheel's core metadata", "file", wheel.FileName, "err", err)
	}
}

// YankRelease marks (or unmarks) every file of a release as yanked
// (PEP 592). MAINTAINER, as for deleting: a yank changes what installs.
func (f *Format) YankRelease(ctx context.Context, p *registry.Principal, projectPath, name, version string, yanked bool, reason string) error {
	pa, err := f.core.Project(ctx, p, projectPath)
	if err != nil {
		return err
	}
	if err := f.core.CanDeletePackages(p, pa); err != nil {
		return err
	}
	if len(reason) > 1024 {
		return registry.Invalid("reason is longer than 1024 characters")
	}
	if !yanked {
		reason = ""
	}
	return f.core.RetryTx(ctx, func(tx *ent.Tx) error {
		pk, err := tx.Pkg.Query().Where(pkg.ProjectID(pa.Project.ID), pkg.PackageTypeEQ(enum.PyPI),
			pkg.Name(NormalizeName(name)), pkg.Version(version)).Only(ctx)
		if ent.IsNotFound(err) {
			return registry.NotFound("%s has no PyPI release %s %s", pa.Project.FullPath, name, version)
		}
		if err != nil {
			return err
		}
		files, err := tx.PackageFile.Query().Where(packagefile.PackageID(pk.ID)).All(ctx)
		if err != nil {
			return err
		}
		for _, file := range files {
			var fm fileMeta
			_ = json.Unmarshal(file.Metadata, &fm)
			fm.Yanked, fm.YankedReason = yanked, reason
			b, _ := json.Marshal(fm)
			if err := tx.PackageFile.UpdateOne(file).SetMetadata(b).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}
