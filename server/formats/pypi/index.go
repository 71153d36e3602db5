package pypi

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/ent/predicate"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// File is one file on a project's simple page.
type File struct {
	FileName       string
	Version        string
	SHA256         string
	Size           int64 // -1 when an upstream did not say
	UploadTime     *time.Time
	RequiresPython string
	Yanked         bool
	YankedReason   string
	// CoreMetadataSHA256 is the digest of the PEP 658 metadata file, or "".
	CoreMetadataSHA256 string
	// upstreamURL is where a REMOTE source fetches the file.
	upstreamURL string
}

// Page is a project's simple page: the files of the tier that owns the
// name, each file name once.
type Page struct {
	Name  string
	Files []File
	// Repositories are the projects whose files are listed (more than one
	// when equal-priority upstreams merge).
	Repositories []*ent.Project
	// Upstreams name them as the caller may see them (registry.Service.UpstreamLabel).
	Upstreams []string
}

// Versions lists the page's versions in first-seen order (PEP 700).
func (pg *Page) Versions() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range pg.Files {
		if !seen[f.Version] {
			seen[f.Version] = true
			out = append(out, f.Version)
		}
	}
	return out
}

// upstreamAccept asks upstreams for PEP 691 JSON, accepting PEP 503 HTML.
const upstreamAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"

// Page returns the simple page of a project name (normalized by the
// caller). Through a VIRTUAL project the first tier of upstreams that has
// the name decides the whole file list (registry.ResolveName): a higher version of
// a private name published on a public index is never offered.
func (f *Format) Page(ctx context.Context, p *registry.Principal, ref, name string) (*Page, error) {
	pa, err := f.core.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := f.core.CanReadPackages(p, pa); err != nil {
		return nil, err
	}
	if !ValidName(name) {
		return nil, registry.NotFound("404 Not found")
	}
	sources, err := f.core.ReadSources(ctx, p, pa.Project, enum.PyPI)
	if err != nil {
		return nil, err
	}
	found, err := registry.ResolveName(ctx, sources, func(ctx context.Context, src registry.Source) ([]File, bool, error) {
		files, err := f.sourceFiles(ctx, src.Project, name)
		return files, len(files) > 0, err
	})
	if err != nil {
		return nil, err
	}
	page := &Page{Name: name}
	seen := map[string]bool{}
	for _, fd := range found {
		page.Repositories = append(page.Repositories, fd.Source.Project)
		page.Upstreams = append(page.Upstreams, f.core.UpstreamLabel(ctx, fd.Source))
		for _, file := range fd.Value {
			if !seen[file.FileName] {
				seen[file.FileName] = true
				page.Files = append(page.Files, file)
			}
		}
	}
	return page, nil
}

// sourceFiles lists one source's files of a name: stored files, or for
// a REMOTE project the upstream's page (cached with the project's TTL).
func (f *Format) sourceFiles(ctx context.Context, prj *ent.Project, name string) ([]File, error) {
	if prj.RepositoryMode == enum.Remote {
		files, err := f.remoteFiles(ctx, prj, name)
		if err == registry.ErrUpstreamMiss {
			return nil, nil
		}
		return files, err
	}
	return f.storedFiles(ctx, prj, name)
}

// cachedFiles is a stored file list with the validator it was read
// under. Lists are shared between requests: read-only.
type cachedFiles struct {
	validator string
	files     []File
}

// storedFiles returns a project's files of a name, from memory while the
// name's stamp (registry.Service.NameStamp, read on every request) is
// unchanged.
func (f *Format) storedFiles(ctx context.Context, prj *ent.Project, name string) ([]File, error) {
	stamp, err := f.core.NameStamp(ctx, f.core.DB(), prj.ID, enum.PyPI, name)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(stamp, "0/") {
		return nil, nil // no files
	}
	key := "pypi-stored\x00" + strconv.Itoa(prj.ID) + "\x00" + name
	if v, ok := f.core.Meta().Get(key); ok {
		if c := v.(cachedFiles); c.validator == stamp {
			return c.files, nil
		}
	}
	files, err := f.readStoredFiles(ctx, prj, name)
	if err != nil {
		return nil, err
	}
	f.core.Meta().Put(key, cachedFiles{validator: stamp, files: files}, filesSize(files))
	return files, nil
}

// filesSize is what a file list costs in memory, roughly.
func filesSize(files []File) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f.FileName)+len(f.Version)+len(f.SHA256)+len(f.RequiresPython)+len(f.YankedReason)+
			len(f.CoreMetadataSHA256)+len(f.upstreamURL)) + 200
	}
	return n
}

// readStoredFiles reads a project's files of a name, the newest row
// per file name, with their PEP 658 metadata files folded in. It selects
// only the columns the page shows, in two small queries.
func (f *Format) readStoredFiles(ctx context.Context, prj *ent.Project, name string) ([]File, error) {
	var pkgs []struct {
		ID      int    `json:"id"`
		Version string `json:"version"`
	}
	err := f.core.DB().Pkg.Query().Where(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.PyPI), pkg.Name(name), pkg.StatusIn(registry.Installable...)).
		Select(pkg.FieldID, pkg.FieldVersion).Scan(ctx, &pkgs)
	if err != nil || len(pkgs) == 0 {
		return nil, registry.DBError(err, "")
	}
	versions := make(map[int]string, len(pkgs))
	ids := make([]int, len(pkgs))
	for i, p := range pkgs {
		versions[p.ID], ids[i] = p.Version, p.ID
	}
	var rows []struct {
		PackageID int             `json:"package_id"`
		FileName  string          `json:"file_name"`
		Sha256    string          `json:"sha256"`
		Size      int64           `json:"size"`
		CreatedAt time.Time       `json:"created_at"`
		Metadata  json.RawMessage `json:"metadata"`
	}
	err = f.core.DB().PackageFile.Query().Where(packagefile.PackageIDIn(ids...)).Order(ent.Desc(packagefile.FieldID)).
		Select(packagefile.FieldPackageID, packagefile.FieldFileName, packagefile.FieldSha256, packagefile.FieldSize,
			packagefile.FieldCreatedAt, packagefile.FieldMetadata).Scan(ctx, &rows)
	if err != nil {
		return nil, registry.Internal(err, "could not read the package files")
	}
	metadata := map[string]string{}
	seen := make(map[string]bool, len(rows))
	files := make([]File, 0, len(rows))
	for _, r := range rows {
		if seen[r.FileName] {
			continue // an older duplicate
		}
		seen[r.FileName] = true
		if base, ok := strings.CutSuffix(r.FileName, coreMetadataSuffix); ok {
			metadata[base] = r.Sha256
			continue
		}
		var fm fileMeta
		if len(r.Metadata) > 0 {
			_ = json.Unmarshal(r.Metadata, &fm)
		}
		created := r.CreatedAt.UTC()
		files = append(files, File{
			FileName: r.FileName, Version: versions[r.PackageID], SHA256: r.Sha256, Size: r.Size, UploadTime: &created,
			RequiresPython: fm.RequiresPython, Yanked: fm.Yanked, YankedReason: fm.YankedReason,
		})
	}
	for i := range files {
		files[i].CoreMetadataSHA256 = metadata[files[i].FileName]
	}
	// Oldest first, as PyPI lists them (rows came newest first).
	slices.Reverse(files)
	return files, nil
}

// remoteFiles reads a REMOTE project's upstream page (PEP 691 JSON or
// PEP 503 HTML). Files without a SHA-256 are left out: they could not be
// verified when cached.
func (f *Format) remoteFiles(ctx context.Context, prj *ent.Project, name string) ([]File, error) {
	if prj.RemoteURL == nil {
		return nil, registry.UpstreamError(nil, "502 Bad Gateway - remote project %s has no upstream URL", prj.FullPath)
	}
	pageURL := strings.TrimRight(*prj.RemoteURL, "/") + "/" + url.PathEscape(name) + "/"
	doc, err := f.core.Remote.Document(ctx, prj, "pypi/simple/"+name, pageURL, upstreamAccept)
	if err != nil {
		return nil, err
	}
	body, err := f.core.Remote.DocumentBody(ctx, doc)
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(pageURL)
	var files []File
	if strings.Contains(doc.ContentType, "json") {
		files, err = parseJSON(body, base)
	} else {
		files, err = parseHTML(body, base)
	}
	if err != nil {
		return nil, registry.UpstreamError(err, "502 Bad Gateway - the upstream's project page could not be read")
	}
	return files, nil
}

func parseJSON(body []byte, base *url.URL) ([]File, error) {
	var page struct {
		Files []struct {
			Filename       string            `json:"filename"`
			URL            string            `json:"url"`
			Hashes         map[string]string `json:"hashes"`
			RequiresPython *string           `json:"requires-python"`
			Yanked         json.RawMessage   `json:"yanked"`
			Size           *int64            `json:"size"`
			UploadTime     *time.Time        `json:"upload-time"`
			CoreMetadata   json.RawMessage   `json:"core-metadata"`
			DistInfo       json.RawMessage   `json:"dist-info-metadata"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, err
	}
	var out []File
	for _, f := range page.Files {
		u, err := base.Parse(f.URL)
		if err != nil || f.Hashes["sha256"] == "" {
			continue
		}
		u.Fragment = ""
		file := File{FileName: f.Filename, SHA256: strings.ToLower(f.Hashes["sha256"]), Size: -1, UploadTime: f.UploadTime, upstreamURL: u.String()}
		if f.RequiresPython != nil {
			file.RequiresPython = *f.RequiresPython
		}
		if f.Size != nil {
			file.Size = *f.Size
		}
		// PEP 714's name first, PEP 658's as a fallback; only a digest we
		// can verify is passed on.
		for _, raw := range []json.RawMessage{f.CoreMetadata, f.DistInfo} {
			var hashes map[string]string
			if json.Unmarshal(raw, &hashes) == nil && len(hashes["sha256"]) == 64 && file.CoreMetadataSHA256 == "" {
				file.CoreMetadataSHA256 = strings.ToLower(hashes["sha256"])
			}
		}
		var reason string
		if json.Unmarshal(f.Yanked, &reason) == nil {
			file.Yanked, file.YankedReason = true, reason
		} else {
			_ = json.Unmarshal(f.Yanked, &file.Yanked)
		}
		if file.complete() {
			out = append(out, file)
		}
	}
	return out, nil
}

func parseHTML(body []byte, base *url.URL) ([]File, error) {
	z := html.NewTokenizer(strings.NewReader(string(body)))
	var out []File
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out, nil
		case html.StartTagToken:
			tok := z.Token()
			if tok.Data != "a" {
				continue
			}
			var file File
			file.Size = -1
			for _, a := range tok.Attr {
				switch a.Key {
				case "href":
					u, err := base.Parse(a.Val)
					if err != nil {
						continue
					}
					if alg, digest, ok := strings.Cut(u.Fragment, "="); ok && alg == "sha256" {
						file.SHA256 = strings.ToLower(digest)
					}
					u.Fragment = ""
					file.upstreamURL = u.String()
					file.FileName = pathBase(u.Path)
				case "data-requires-python":
					file.RequiresPython = a.Val // the tokenizer unescapes entities
				case "data-yanked":
					file.Yanked, file.YankedReason = true, a.Val
				case "data-core-metadata", "data-dist-info-metadata":
					if alg, digest, ok := strings.Cut(a.Val, "="); ok && alg == "sha256" && len(digest) == 64 && file.CoreMetadataSHA256 == "" {
						file.CoreMetadataSHA256 = strings.ToLower(digest)
					}
				}
			}
			if file.complete() {
				out = append(out, file)
			}
		}
	}
}

// complete fills in the version from the file name and reports whether the
// file can be offered.
func (f *File) complete() bool {
	_, version, kind := parseFileName(f.FileName)
	f.Version = version
	return kind != unknownKind && len(f.SHA256) == 64 && f.upstreamURL != ""
}

func pathBase(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// ProjectNames lists the names a project serves, for the root simple
// index: stored names, and for a VIRTUAL project those of its upstreams. A
// REMOTE project lists what it has cached (an upstream's full index, such
// as PyPI's, is far too large to mirror on every request).
func (f *Format) ProjectNames(ctx context.Context, p *registry.Principal, ref string) ([]string, error) {
	pa, err := f.core.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := f.core.CanReadPackages(p, pa); err != nil {
		return nil, err
	}
	sources, err := f.core.ReadSources(ctx, p, pa.Project, enum.PyPI)
	if err != nil {
		return nil, err
	}
	ids := make([]int, len(sources))
	for i, src := range sources {
		ids[i] = src.Project.ID
	}
	var names []string
	err = f.core.DB().Pkg.Query().Where(pkg.ProjectIDIn(ids...), pkg.PackageTypeEQ(enum.PyPI), pkg.StatusIn(registry.Installable...)).
		Unique(true).Order(ent.Asc(pkg.FieldName)).Select(pkg.FieldName).Scan(ctx, &names)
	if err != nil {
		return nil, registry.Internal(err, "could not list packages")
	}
	return names, nil
}

// OpenFile opens a distribution file (or its ".metadata") by SHA-256
// and name. A REMOTE source that has not cached it finds it on its
// upstream's page for the file's project name, fetches it and verifies the
// SHA-256 the page advertised before recording it.
func (f *Format) OpenFile(ctx context.Context, p *registry.Principal, ref, sha256, fileName string, opt registry.ReadOptions) (*registry.Download, error) {
	pa, err := f.core.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := f.core.CanReadPackages(p, pa); err != nil {
		return nil, err
	}
	sha256 = strings.ToLower(sha256)
	dist, isMetadata := strings.CutSuffix(fileName, coreMetadataSuffix)
	name, version, kind := parseFileName(dist)
	if kind == unknownKind || len(sha256) != 64 {
		return nil, registry.NotFound("404 Not found")
	}
	sources, err := f.core.ReadSources(ctx, p, pa.Project, enum.PyPI)
	if err != nil {
		return nil, err
	}
	// A distribution is addressed by its own digest; its core metadata
	// file by the digest of the distribution it describes (PEP 658).
	match := []predicate.PackageFile{packagefile.FileName(fileName)}
	var keep func(*ent.PackageFile) bool
	if isMetadata {
		keep = func(pf *ent.PackageFile) bool {
			var fm fileMeta
			return json.Unmarshal(pf.Metadata, &fm) == nil && fm.DistSHA256 == sha256
		}
	} else {
		match = append(match, packagefile.Sha256(sha256))
	}
	lookup := func(ctx context.Context, srcs []registry.Source) (map[int]*ent.PackageFile, error) {
		return f.core.StoredFiles(ctx, srcs, enum.PyPI, match, nil, keep)
	}
	cached, err := lookup(ctx, sources)
	if err != nil {
		return nil, err
	}
	return f.core.OpenFirst(ctx, sources, opt, func(src registry.Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src registry.Source) (*ent.PackageFile, error) {
			filled, err := lookup(ctx, []registry.Source{src})
			return filled[src.Project.ID], err
		},
		func(ctx context.Context, src registry.Source) (registry.RemoteFile, error) {
			files, err := f.remoteFiles(ctx, src.Project, name)
			if err != nil {
				return registry.RemoteFile{}, err
			}
			if isMetadata {
				// Mirrored only when the upstream gave its digest, so that
				// it is verified like any file.
				for _, file := range files {
					if file.FileName == dist && file.SHA256 == sha256 && file.CoreMetadataSHA256 != "" {
						meta, _ := json.Marshal(fileMeta{DistSHA256: sha256})
						return registry.RemoteFile{
							Project: src.Project, Format: enum.PyPI, Name: name, Version: version, FileName: fileName,
							URL: file.upstreamURL + coreMetadataSuffix, Expect: registry.Expected{SHA256: file.CoreMetadataSHA256}, FileMetadata: meta,
						}, nil
					}
				}
				return registry.RemoteFile{}, registry.ErrUpstreamMiss
			}
			for _, file := range files {
				if file.FileName == fileName && file.SHA256 == sha256 {
					meta, _ := json.Marshal(fileMeta{RequiresPython: file.RequiresPython, Yanked: file.Yanked, YankedReason: file.YankedReason})
					pm, _ := json.Marshal(pkgMeta{Name: name})
					return registry.RemoteFile{
						Project: src.Project, Format: enum.PyPI, Name: name, Version: version, FileName: fileName,
						URL: file.upstreamURL, Expect: registry.Expected{SHA256: file.SHA256}, FileMetadata: meta, PkgMetadata: pm,
					}, nil
				}
			}
			return registry.RemoteFile{}, registry.ErrUpstreamMiss
		})
}
