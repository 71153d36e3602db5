package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry/enum"
)

// PyPI naming rules: PEP 508 project names, PEP 440 versions (the
// packaging library's permissive pattern), PEP 427 wheel and PEP 625 sdist
// file names.
var (
	pypiNameRe    = regexp.MustCompile(`(?i)^([a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$`)
	pypiVersionRe = regexp.MustCompile(`(?i)^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
		`(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?` +
		`(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?` +
		`(?:[-_.]?dev[-_.]?[0-9]*)?` +
		`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$`)
	pypiSeparatorsRe = regexp.MustCompile(`[-_.]+`)
)

const (
	maxPyPINameLen    = 255
	maxPyPIVersionLen = 255
	// coreMetadataSuffix names the PEP 658 core metadata file stored beside
	// a wheel.
	coreMetadataSuffix = ".metadata"
	maxCoreMetadata    = 4 << 20
)

// NormalizePyPIName is PEP 503's normalized form: lower case, runs of
// "-", "_" and "." as one "-".
func NormalizePyPIName(name string) string {
	return strings.ToLower(pypiSeparatorsRe.ReplaceAllString(name, "-"))
}

// ValidPyPIName reports a PEP 508 project name.
func ValidPyPIName(name string) bool {
	return len(name) <= maxPyPINameLen && pypiNameRe.MatchString(name)
}

// pypiFileKind tells wheels from sdists by file name.
type pypiFileKind int

const (
	pypiUnknown pypiFileKind = iota
	pypiWheel
	pypiSdist
)

// parsePyPIFileName splits a distribution file name into its normalized
// project name and version: PEP 427 wheels
// ({name}-{version}(-{build})?-{py}-{abi}-{platform}.whl, name with "_"
// for separators) and sdists ({name}-{version}.tar.gz or .zip, where the
// name may itself contain "-": the version is what follows the last "-"
// that leaves a valid version).
func parsePyPIFileName(fileName string) (name, version string, kind pypiFileKind) {
	lower := strings.ToLower(fileName)
	switch {
	case strings.HasSuffix(lower, ".whl"):
		parts := strings.Split(fileName[:len(fileName)-4], "-")
		if len(parts) != 5 && len(parts) != 6 {
			return "", "", pypiUnknown
		}
		return NormalizePyPIName(parts[0]), parts[1], pypiWheel
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".zip"):
		stem := fileName[:len(fileName)-len(".tar.gz")]
		if strings.HasSuffix(lower, ".zip") {
			stem = fileName[:len(fileName)-len(".zip")]
		}
		for i := strings.LastIndex(stem, "-"); i > 0; i = strings.LastIndex(stem[:i], "-") {
			if v := stem[i+1:]; pypiVersionRe.MatchString(v) {
				return NormalizePyPIName(stem[:i]), v, pypiSdist
			}
		}
	}
	return "", "", pypiUnknown
}

// PyPIUpload is one twine upload (the legacy "file_upload" form).
type PyPIUpload struct {
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
	Expect   Expected
}

// pypiFileMeta is what the index shows of each file.
type pypiFileMeta struct {
	RequiresPython string `json:"requires_python,omitempty"`
	Yanked         bool   `json:"yanked,omitempty"`
	YankedReason   string `json:"yanked_reason,omitempty"`
	// DistSHA256, on a core metadata file, is the digest of the
	// distribution it describes: PEP 658 addresses it by that digest.
	DistSHA256 string `json:"dist_sha256,omitempty"`
}

// pypiPkgMeta is a version's metadata: the name as published (packages are
// stored under the normalized name) and its summary.
type pypiPkgMeta struct {
	Name    string `json:"name"`
	Summary string `json:"summary,omitempty"`
}

// ValidatePyPIUpload checks the form fields before any byte is stored.
func ValidatePyPIUpload(in PyPIUpload) error {
	switch {
	case in.Name == "":
		return Invalid("name is missing")
	case !ValidPyPIName(in.Name):
		return Invalid("name %q is not a valid Python project name (PEP 508)", in.Name)
	case in.Version == "":
		return Invalid("version is missing")
	case len(in.Version) > maxPyPIVersionLen || !pypiVersionRe.MatchString(in.Version):
		return Invalid("version %q is not a valid PEP 440 version", in.Version)
	case in.FileName == "":
		return Invalid("content is missing: the form needs a file part named content")
	case strings.ContainsAny(in.FileName, "/\\") || len(in.FileName) > 255:
		return Invalid("file name %q is not valid", in.FileName)
	case len(in.RequiresPython) > 255:
		return Invalid("requires_python is longer than 255 characters")
	}
	name, version, kind := parsePyPIFileName(in.FileName)
	switch {
	case kind == pypiUnknown:
		return Invalid("file name %q is neither a wheel (.whl) nor an sdist (.tar.gz, .zip)", in.FileName)
	case name != NormalizePyPIName(in.Name):
		return Invalid("file name %q does not match the project name %q", in.FileName, in.Name)
	case !strings.EqualFold(version, in.Version) && !strings.EqualFold(strings.ReplaceAll(version, "_", "-"), in.Version):
		return Invalid("file name %q does not match the version %q", in.FileName, in.Version)
	case in.FileType != "" && in.FileType != map[pypiFileKind]string{pypiWheel: "bdist_wheel", pypiSdist: "sdist"}[kind]:
		return Invalid("filetype %q does not match the file %q", in.FileType, in.FileName)
	}
	return nil
}

// UploadPyPI stores one distribution file under its normalized project
// name. For a wheel it also stores the wheel's core metadata (PEP 658), so
// that pip can resolve without downloading the wheel.
func (s *Service) UploadPyPI(ctx context.Context, p *Principal, in PyPIUpload) (*ent.PackageFile, error) {
	pa, err := s.PublishTarget(ctx, p, in.ProjectRef)
	if err != nil {
		return nil, err
	}
	if err := RequireFormat(pa.Project, enum.PyPI); err != nil {
		return nil, err
	}
	if err := ValidatePyPIUpload(in); err != nil {
		return nil, err
	}
	name := NormalizePyPIName(in.Name)
	allowed, err := s.DuplicatesAllowed(ctx, pa.Project, enum.PyPI, name, in.Version)
	if err != nil {
		return nil, err
	}
	fileMeta, _ := json.Marshal(pypiFileMeta{RequiresPython: in.RequiresPython})
	pkgMeta, _ := json.Marshal(pypiPkgMeta{Name: in.Name, Summary: in.Summary})
	_, _, kind := parsePyPIFileName(in.FileName)
	var coreMeta []byte
	pf, err := s.AddPackageFile(ctx, NewFile{
		Project: pa.Project, Format: enum.PyPI, Name: name, Version: in.Version, FileName: in.FileName,
		Body: in.Body, Size: in.Size, Expect: in.Expect, DuplicatesAllowed: allowed, NeedMD5: true,
		PkgMetadata: pkgMeta, FileMetadata: fileMeta,
		// The distribution's own core metadata: stored beside a wheel
		// (PEP 658), and the source of Requires-Python when the form has
		// none (an upload by curl or a tool other than twine), so that pip
		// still skips releases this Python cannot install.
		Stored: func(ctx context.Context, key string, size int64) json.RawMessage {
			data, err := s.distMetadata(ctx, key, size, kind)
			if err != nil {
				s.log.InfoContext(ctx, "no core metadata read from a distribution", "file", in.FileName, "err", err)
				return nil
			}
			if kind == pypiWheel {
				coreMeta = data
			}
			rp := metadataField(data, "Requires-Python")
			if in.RequiresPython != "" || rp == "" || len(rp) > 255 {
				return nil
			}
			m, _ := json.Marshal(pypiFileMeta{RequiresPython: rp})
			return m
		},
	})
	if err != nil {
		if err == ErrDuplicate {
			return nil, Invalid("File already exists: %s (this namespace does not allow duplicate PyPI packages)", in.FileName)
		}
		return nil, err
	}
	if coreMeta != nil {
		s.storeCoreMetadata(ctx, pa.Project, name, in.Version, pf, coreMeta)
	}
	return pf, nil
}

// storeCoreMetadata stores a wheel's METADATA as "<wheel>.metadata". It is
// best effort: without it the index simply does not advertise core
// metadata and pip downloads the wheel instead.
func (s *Service) storeCoreMetadata(ctx context.Context, prj *ent.Project, name, version string, wheel *ent.PackageFile, data []byte) {
	meta, _ := json.Marshal(pypiFileMeta{DistSHA256: wheel.Sha256})
	_, err := s.AddPackageFile(ctx, NewFile{
		Project: prj, Format: enum.PyPI, Name: name, Version: version, FileName: wheel.FileName + coreMetadataSuffix,
		Body: bytes.NewReader(data), Size: int64(len(data)), DuplicatesAllowed: true, FileMetadata: meta,
	})
	if err != nil {
		s.log.Warn("could not store a wheel's core metadata", "file", wheel.FileName, "err", err)
	}
}

// readerAt gives random access to an object: directly when it supports it
// (local files, S3 objects), else by seeking.
func readerAt(r io.ReadSeeker) io.ReaderAt {
	if fb, ok := r.(blob.FileBacked); ok {
		return fb.OSFile()
	}
	if ra, ok := r.(io.ReaderAt); ok {
		return ra
	}
	return &seekReaderAt{r: r}
}

type seekReaderAt struct{ r io.ReadSeeker }

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(s.r, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF // ReaderAt's contract for a short read at the end
	}
	return n, err
}

// YankPyPIRelease marks (or unmarks) every file of a release as yanked
// (PEP 592). MAINTAINER, as for deleting: a yank changes what installs.
func (s *Service) YankPyPIRelease(ctx context.Context, p *Principal, projectPath, name, version string, yanked bool, reason string) error {
	pa, err := s.Project(ctx, p, projectPath)
	if err != nil {
		return err
	}
	if err := s.CanDeletePackages(p, pa); err != nil {
		return err
	}
	if len(reason) > 1024 {
		return Invalid("reason is longer than 1024 characters")
	}
	if !yanked {
		reason = ""
	}
	return s.RetryTx(ctx, func(tx *ent.Tx) error {
		pk, err := tx.Pkg.Query().Where(pkg.ProjectID(pa.Project.ID), pkg.PackageTypeEQ(enum.PyPI),
			pkg.Name(NormalizePyPIName(name)), pkg.Version(version)).Only(ctx)
		if ent.IsNotFound(err) {
			return NotFound("%s has no PyPI release %s %s", pa.Project.FullPath, name, version)
		}
		if err != nil {
			return err
		}
		files, err := tx.PackageFile.Query().Where(packagefile.PackageID(pk.ID)).All(ctx)
		if err != nil {
			return err
		}
		for _, f := range files {
			var fm pypiFileMeta
			_ = json.Unmarshal(f.Metadata, &fm)
			fm.Yanked, fm.YankedReason = yanked, reason
			b, _ := json.Marshal(fm)
			if err := tx.PackageFile.UpdateOne(f).SetMetadata(b).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}
