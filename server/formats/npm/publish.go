package npm

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagetag"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Put is one PUT of a package document: a publish (a version with its
// tarball in _attachments), or a change of the published versions'
// metadata (npm deprecate; npm unpublish of one version, with Rev).
type Put struct {
	ProjectRef string
	Name       string
	// Rev is the revision from ".../-rev/<rev>" ("" when absent).
	Rev  string
	Body io.Reader
	// Size is the Content-Length, or -1.
	Size int64
}

// PutPackage handles a PUT of a package document.
func (f *Format) PutPackage(ctx context.Context, p *registry.Principal, in Put) error {
	pa, err := f.core.Project(ctx, p, in.ProjectRef)
	if err != nil {
		return err
	}
	if err := f.core.CanWritePackages(p, pa); err != nil {
		return err
	}
	if err := ValidateName(in.Name); err != nil {
		return err
	}
	if err := registry.RequireStandard(pa.Project); err != nil {
		return err
	}
	if f.core.MaxFileSize() > 0 && in.Size > f.core.MaxFileSize()/3*4+8+maxDocument {
		return registry.TooLarge("the package document is %d bytes; tarballs are limited to %d bytes", in.Size, f.core.MaxFileSize())
	}
	m := &meteredReader{r: in.Body}
	dec := json.NewDecoder(m)
	doc := &putDoc{}
	hasData, err := doc.walkUntilData(dec)
	if err != nil {
		return docError(m, err)
	}
	if doc.Name != "" && doc.Name != in.Name {
		return registry.Invalid("the document's name %q does not match the name in the URL, %q", doc.Name, in.Name)
	}
	if !hasData {
		return f.updateVersions(ctx, p, pa, in, doc)
	}
	return f.publish(ctx, pa.Project, in.Name, doc, dec, m)
}

// release is a publish's one version, checked against the URL.
type release struct {
	Version  string
	Manifest json.RawMessage // without "dist"
	// Abbreviated is the manifest's install-v1 form.
	Abbreviated json.RawMessage
	Expect      registry.Expected
}

// checkRelease validates the document of a publish before any byte of the
// tarball is read.
func checkRelease(name string, doc *putDoc) (*release, error) {
	if len(doc.Versions) != 1 {
		return nil, registry.Invalid("a publish carries exactly one version; this document has %d", len(doc.Versions))
	}
	var rel release
	var raw json.RawMessage
	for rel.Version, raw = range doc.Versions {
	}
	if err := ValidateVersion(rel.Version); err != nil {
		return nil, err
	}
	var manifest map[string]json.RawMessage
	if err := json.Unmarshal(raw, &manifest); err != nil || manifest == nil {
		return nil, registry.Invalid("versions[%q] must be the version's package.json object", rel.Version)
	}
	var mName, mVersion string
	_ = json.Unmarshal(manifest["name"], &mName)
	_ = json.Unmarshal(manifest["version"], &mVersion)
	if mName != name || mVersion != rel.Version {
		return nil, registry.Invalid("versions[%q] is %s@%s; the URL publishes %s@%s", rel.Version, mName, mVersion, name, rel.Version)
	}
	var dist distInfo
	if err := json.Unmarshal(manifest["dist"], &dist); err != nil {
		return nil, registry.Invalid("versions[%q].dist must hold the tarball's shasum and integrity", rel.Version)
	}
	sha512hex, ok := sha512FromIntegrity(dist.Integrity)
	if !ok {
		return nil, registry.Invalid("versions[%q].dist.integrity %q is not a sha512 integrity string", rel.Version, dist.Integrity)
	}
	if b, err := hex.DecodeString(dist.Shasum); dist.Shasum != "" && (err != nil || len(b) != 20) {
		return nil, registry.Invalid("versions[%q].dist.shasum must be 40 hexadecimal characters", rel.Version)
	}
	if sha512hex == "" && dist.Shasum == "" {
		return nil, registry.Invalid("versions[%q].dist must hold the tarball's integrity or shasum", rel.Version)
	}
	rel.Expect = registry.Expected{SHA1: strings.ToLower(dist.Shasum), SHA512: sha512hex}
	if doc.AttachmentKey != name+"-"+rel.Version+".tgz" && doc.AttachmentKey != tarballName(name, rel.Version) {
		return nil, registry.Invalid("the attachment %q is not the tarball of %s@%s (%s)", doc.AttachmentKey, name, rel.Version,
			name+"-"+rel.Version+".tgz")
	}
	for tag, v := range doc.DistTags {
		if err := validateTag(tag); err != nil {
			return nil, err
		}
		if v != rel.Version {
			return nil, registry.Invalid("dist-tags[%q] names %q; a publish tags the version it publishes", tag, v)
		}
	}
	delete(manifest, "dist")
	delete(manifest, "_attachments")
	rel.Manifest, _ = json.Marshal(manifest)
	rel.Abbreviated = abbreviate(rel.Manifest)
	return &rel, nil
}

// publish stores the tarball whose base64 data is next in the stream,
// with the version's manifest and its dist-tags, in one recording
// transaction. The bytes go from the socket through the base64 decoder to
// the blob store; they are hashed (SHA-1, SHA-512) on the way and checked
// against dist.shasum and dist.integrity, and the tarball's package.json
// is read on the way (a second reader over the same bytes) and checked
// against the document.
func (f *Format) publish(ctx context.Context, prj *ent.Project, name string, doc *putDoc, dec *json.Decoder, m *meteredReader) error {
	rel, err := checkRelease(name, doc)
	if err != nil {
		return err
	}
	allowed, err := f.core.DuplicatesAllowed(ctx, prj, enum.NPM, name, rel.Version)
	if err != nil {
		return err
	}
	errExists := registry.Forbidden("403 Forbidden - %s@%s is already published; publish a new version", name, rel.Version)
	if !allowed {
		exists, err := f.core.DB().Pkg.Query().Where(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.NPM), pkg.Name(name),
			pkg.Version(rel.Version), pkg.HasFiles()).Exist(ctx)
		if err != nil {
			return registry.Internal(err, "could not check for duplicates")
		}
		if exists {
			return errExists
		}
	}
	raw := bufio.NewReaderSize(io.MultiReader(dec.Buffered(), m), 64<<10)
	if err := startString(raw); err != nil {
		return docError(m, err)
	}
	m.inData = true
	att := &attachmentReader{r: base64.NewDecoder(base64.StdEncoding, &jsonStringReader{r: raw})}
	att.finish = func() error {
		m.inData = false
		if err := doc.finishAfterData(json.NewDecoder(io.MultiReader(strings.NewReader(doc.resumePrefix()), raw))); err != nil {
			return docError(m, err)
		}
		return nil
	}
	insp := inspectTarball()
	body := &teeCloser{r: att, w: insp.pw}
	_, err = f.core.AddPackageFile(ctx, registry.NewFile{
		Project: prj, Format: enum.NPM, Name: name, Version: rel.Version, FileName: tarballName(name, rel.Version),
		Body: body, Size: -1, Expect: rel.Expect, DuplicatesAllowed: allowed, NeedSHA1: true, NeedSHA512: true,
		PkgMetadata: rel.Manifest, FileMetadata: rel.Abbreviated,
		Within: func(ctx context.Context, tx *ent.Tx, pkgID int) error {
			if err := insp.check(name, rel.Version); err != nil {
				return err
			}
			if doc.Length >= 0 && doc.Length != att.decoded {
				return registry.Invalid("the attachment announces %d bytes; its data has %d", doc.Length, att.decoded)
			}
			for tag := range doc.DistTags {
				if err := upsertTag(ctx, tx.PackageTag, prj.ID, name, tag, rel.Version); err != nil {
					return err
				}
			}
			return nil
		},
	})
	insp.pw.CloseWithError(errors.New("the upload ended"))
	switch {
	case err == nil:
		return nil
	case registry.KindOf(att.err) != registry.KindInternal:
		return att.err // what was wrong with the document, rather than the store's view of a broken stream
	case m.exceeded:
		return errDocumentTooLarge
	case errors.Is(err, registry.ErrDuplicate):
		return errExists
	}
	return err
}

// teeCloser copies what is read to w and closes w at the end of the stream.
type teeCloser struct {
	r io.Reader
	w *io.PipeWriter
}

func (t *teeCloser) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		_, _ = t.w.Write(p[:n]) // the inspector always drains
	}
	if err == io.EOF {
		t.w.Close()
	} else if err != nil {
		t.w.CloseWithError(err)
	}
	return n, err
}

// tarballInspector reads package.json out of a tarball stream in a
// goroutine while the store reads the same bytes.
type tarballInspector struct {
	pw   *io.PipeWriter
	done chan struct{}
	name string
	ver  string
	err  error
}

func inspectTarball() *tarballInspector {
	pr, pw := io.Pipe()
	in := &tarballInspector{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(in.done)
		defer func() { _, _ = io.Copy(io.Discard, pr) }() // the writer never blocks
		in.name, in.ver, in.err = readPackageJSON(pr)
	}()
	return in
}

// check waits for the inspection (the stream has ended when the store
// records the file) and compares package.json with the document.
func (in *tarballInspector) check(name, version string) error {
	<-in.done
	if in.err != nil {
		return in.err
	}
	if in.name != name || in.ver != version {
		return registry.Invalid("the tarball's package.json is %s@%s; the document publishes %s@%s", in.name, in.ver, name, version)
	}
	return nil
}

// readPackageJSON finds <top>/package.json in a gzipped tar stream.
func readPackageJSON(r io.Reader) (string, string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return "", "", registry.Invalid("the tarball is not gzip-compressed")
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", "", registry.Invalid("the tarball has no package/package.json")
		}
		if err != nil {
			return "", "", registry.Invalid("the tarball is not a valid tar archive")
		}
		clean := strings.TrimPrefix(path.Clean(h.Name), "./")
		if dir, file := path.Split(clean); file != "package.json" || strings.Count(dir, "/") != 1 {
			continue
		}
		var pj struct{ Name, Version string }
		if err := json.NewDecoder(io.LimitReader(tr, maxDocument)).Decode(&pj); err != nil {
			return "", "", registry.Invalid("the tarball's package.json is not valid JSON")
		}
		return pj.Name, pj.Version, nil
	}
}

// upsertTag points a dist-tag at a version.
func upsertTag(ctx context.Context, tags *ent.PackageTagClient, projectID int, name, tag, version string) error {
	return tags.Create().SetProjectID(projectID).SetPackageType(enum.NPM).SetName(name).SetTag(tag).SetVersion(version).
		OnConflictColumns(packagetag.FieldProjectID, packagetag.FieldPackageType, packagetag.FieldName, packagetag.FieldTag).
		Update(func(u *ent.PackageTagUpsert) { u.UpdateVersion(); u.UpdateUpdatedAt() }).Exec(ctx)
}
