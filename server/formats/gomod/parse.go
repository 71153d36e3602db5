package gomod

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"

	"github.com/pkgreg/registry/server/registry"
)

// The pure parts of the format: what can be decided without a server.

// zipLimit is the largest module zip accepted: the go command's own limit
// on a module zip, or the registry's file size limit (maxFileSize, 0 for
// none) when it is lower.
func zipLimit(maxFileSize int64) int64 {
	if maxFileSize > 0 && maxFileSize < modzip.MaxZipFile {
		return maxFileSize
	}
	return modzip.MaxZipFile
}

// maxCoordinateLen is the longest module path or version a package row
// holds (as encoded, which is never shorter than decoded).
const maxCoordinateLen = 255

// parseModulePath decodes and validates a case-encoded module path.
func parseModulePath(escPath string) (string, error) {
	if len(escPath) > maxCoordinateLen {
		return "", registry.Invalid("invalid module path: longer than %d characters", maxCoordinateLen)
	}
	modPath, err := module.UnescapePath(escPath)
	if err != nil && strings.ToLower(escPath) != escPath {
		return "", registry.Invalid("invalid module path %q: upper-case letters must be case-encoded as \"!\" and the lower-case letter, as the go command sends them (%v)", escPath, err)
	}
	if err != nil {
		return "", registry.Invalid("invalid module path %q: %v", escPath, err)
	}
	if err := module.CheckPath(modPath); err != nil {
		return "", registry.Invalid("invalid module path: %v", err)
	}
	return modPath, nil
}

// parseVersion decodes a case-encoded version and checks that it is the
// canonical semantic version that modPath can have (v2+ needs a /vN
// suffix or +incompatible). Only canonical versions are stored: the go
// command asks for them and go.sum pins them.
func parseVersion(modPath, escVersion string) (string, error) {
	if len(escVersion) > maxCoordinateLen {
		return "", registry.Invalid("invalid version: longer than %d characters", maxCoordinateLen)
	}
	v, err := module.UnescapeVersion(escVersion)
	if err != nil {
		return "", registry.Invalid("invalid version %q: %v", escVersion, err)
	}
	if c := module.CanonicalVersion(v); c != v {
		if c == "" {
			return "", registry.Invalid("version %q is not a semantic version (want vMAJOR.MINOR.PATCH)", v)
		}
		return "", registry.Invalid("version %q is not canonical (should be %q)", v, c)
	}
	if err := module.Check(modPath, v); err != nil {
		return "", registry.Invalid("%v", err)
	}
	return v, nil
}

// notFound turns a validation failure on a read into a 404: the go
// command falls through to the next GOPROXY entry only on 404 and 410.
func notFound(err error) error {
	var e *registry.Error
	if errors.As(err, &e) && e.Kind == registry.KindInvalid {
		return &registry.Error{Kind: registry.KindNotFound, Message: e.Message}
	}
	return err
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
// soon as it exceeds limit. announced is the Content-Length (-1 when
// unknown), which the body must match.
func spoolUpload(body io.Reader, announced, limit int64) (*spooled, error) {
	f, err := os.CreateTemp("", "gomod-upload-*.zip")
	if err != nil {
		return nil, registry.Unavailable(err, "could not spool the upload")
	}
	sp := &spooled{f: f}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, limit+1))
	switch {
	case err != nil:
		sp.remove()
		return nil, registry.Invalid("the upload was interrupted")
	case n > limit:
		sp.remove()
		return nil, registry.TooLarge("module zip exceeds the limit of %d bytes", limit)
	case announced >= 0 && n != announced:
		sp.remove()
		return nil, registry.Invalid("the request body does not match its Content-Length (%d bytes)", announced)
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
			return nil, registry.TooLarge("%v", cf.SizeError)
		}
		return nil, registry.Invalid("invalid module zip: %v", err)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, registry.Invalid("invalid module zip: %v", err)
	}
	defer zr.Close()
	goModName := fmt.Sprintf("%s@%s/go.mod", modPath, version)
	for _, zf := range zr.File {
		if zf.Name != goModName {
			continue
		}
		data, err := readZipFile(zf, modzip.MaxGoMod)
		if err != nil {
			return nil, registry.Invalid("invalid module zip: go.mod: %v", err)
		}
		mf, err := modfile.ParseLax("go.mod", data, nil)
		switch {
		case err != nil:
			return nil, registry.Invalid("invalid go.mod: %v", err)
		case mf.Module == nil:
			return nil, registry.Invalid("go.mod has no module directive")
		case mf.Module.Mod.Path != modPath:
			return nil, registry.Invalid("go.mod declares module %q, but it is uploaded as %q", mf.Module.Mod.Path, modPath)
		}
		return data, nil
	}
	if semver.Build(version) != "+incompatible" {
		return nil, registry.Invalid("the module zip has no go.mod at %s", goModName)
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

// parseList reads a version list: one version per line; lines that are
// not semantic versions are ignored.
func parseList(body []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if v := strings.TrimSpace(sc.Text()); semver.IsValid(v) {
			out = append(out, v)
		}
	}
	return out
}

// mergeLists is @v/list over several sources' lists: each version once,
// in semver order (nil when there is none).
func mergeLists(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range lists {
		for _, v := range list {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	semver.Sort(out)
	return out
}

// latestRank compares two versions the way "latest" prefers them:
// releases over pre-releases over pseudo-versions, then by semver.
func latestRank(a, b string) int {
	kind := func(v string) int {
		switch {
		case module.IsPseudoVersion(v):
			return 0
		case semver.Prerelease(v) != "":
			return 1
		}
		return 2
	}
	if ka, kb := kind(a), kind(b); ka != kb {
		return ka - kb
	}
	return semver.Compare(a, b)
}

// request is a protocol path: <module>/@v/list, <module>/@v/<v>.info,
// .mod, .zip, or <module>/@latest, with module and version case-encoded.
type request struct {
	escPath    string
	escVersion string
	// what is "list", "latest", ".info", ".mod" or ".zip".
	what string
}

// parseRequest splits a protocol path (what follows the GOPROXY base
// URL). A module path never contains "@", so the first "/@v/" ends it.
func parseRequest(full string) (request, bool) {
	if mod, ok := strings.CutSuffix(full, "/@latest"); ok {
		return request{escPath: mod, what: "latest"}, true
	}
	mod, file, ok := strings.Cut(full, "/@v/")
	if !ok || mod == "" {
		return request{}, false
	}
	if file == "list" {
		return request{escPath: mod, what: "list"}, true
	}
	for _, ext := range []string{".info", ".mod", ".zip"} {
		if v, ok := strings.CutSuffix(file, ext); ok && v != "" && !strings.Contains(v, "/") {
			return request{escPath: mod, escVersion: v, what: ext}, true
		}
	}
	return request{}, false
}
