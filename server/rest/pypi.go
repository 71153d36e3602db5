package rest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

const pypiRoute = "/api/v4/projects/{id}/packages/pypi"

// registerPyPI adds the PyPI routes, GitLab's layout: twine uploads to the
// project's pypi URL, pip reads its simple index (PEP 503/691) and files.
func (a *API) registerPyPI(handle HandleFunc) {
	handle("POST "+pypiRoute, a.uploadPyPI)
	handle("POST "+pypiRoute+"/{$}", a.uploadPyPI)
	handle("GET "+pypiRoute+"/simple", a.pypiRootIndex)
	handle("GET "+pypiRoute+"/simple/{$}", a.pypiRootIndex)
	handle("GET "+pypiRoute+"/simple/{name}", a.pypiProjectPage)
	handle("GET "+pypiRoute+"/simple/{name}/{$}", a.pypiProjectPage)
	handle("GET "+pypiRoute+"/files/{sha256}/{file}", a.downloadPyPI)
	handle("HEAD "+pypiRoute+"/files/{sha256}/{file}", a.downloadPyPI)
}

const (
	maxPyPIFormField = 1 << 20  // one metadata field (a long description)
	maxPyPIFormTotal = 16 << 20 // all metadata fields of one upload
)

// uploadPyPI reads twine's multipart form as a stream: the metadata fields
// come first and are held (bounded), the content part is streamed to
// storage as it arrives.
func (a *API) uploadPyPI(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		WriteError(w, r, registry.Invalid("the upload must be a multipart/form-data body, as twine sends it"))
		return
	}
	fields := map[string]string{}
	total := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			WriteError(w, r, registry.Invalid("malformed multipart body: %v", err))
			return
		}
		name := part.FormName()
		if name == "content" {
			a.storePyPIContent(w, r, fields, part)
			return
		}
		v, err := io.ReadAll(io.LimitReader(part, maxPyPIFormField+1))
		total += len(v)
		switch {
		case err != nil:
			WriteError(w, r, registry.Invalid("malformed multipart body: %v", err))
			return
		case len(v) > maxPyPIFormField || total > maxPyPIFormTotal:
			WriteError(w, r, registry.TooLarge("the form's metadata fields are too large"))
			return
		}
		if _, dup := fields[name]; !dup { // repeated fields (classifiers) keep the first
			fields[name] = string(v)
		}
	}
	WriteError(w, r, registry.Invalid("content is missing: the form needs a file part named content"))
}

func (a *API) storePyPIContent(w http.ResponseWriter, r *http.Request, fields map[string]string, content io.Reader) {
	if action, ok := fields[":action"]; ok && action != "file_upload" {
		WriteError(w, r, registry.Invalid(":action %q is not supported; only file_upload is", action))
		return
	}
	exp := registry.Expected{}
	for field, dst := range map[string]*string{"sha256_digest": &exp.SHA256, "md5_digest": &exp.MD5} {
		v := strings.ToLower(strings.TrimSpace(fields[field]))
		if v == "" {
			continue
		}
		if _, err := hex.DecodeString(v); err != nil || (field == "sha256_digest" && len(v) != 64) || (field == "md5_digest" && len(v) != 32) {
			WriteError(w, r, registry.Invalid("%s must be a hexadecimal digest", field))
			return
		}
		*dst = v
	}
	in := registry.PyPIUpload{
		ProjectRef: r.PathValue("id"), Name: fields["name"], Version: fields["version"],
		FileName: partFileName(content), RequiresPython: fields["requires_python"], Summary: fields["summary"],
		FileType: fields["filetype"],
		Body:     content, Size: -1, Expect: exp,
	}
	if _, err := a.Svc.UploadPyPI(r.Context(), registry.PrincipalFrom(r.Context()), in); err != nil {
		PackageError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"message": "201 Created"})
}

// partFileName is the content part's file name (without any directory a
// client may have sent).
func partFileName(part io.Reader) string {
	type named interface{ FileName() string }
	if p, ok := part.(named); ok {
		return p.FileName()
	}
	return ""
}

// PEP 691 media types.
const (
	pypiJSON = "application/vnd.pypi.simple.v1+json"
	pypiHTML = "application/vnd.pypi.simple.v1+html"
)

// negotiatePyPI picks the response form from Accept (PEP 691): the
// highest-q type we serve; HTML when Accept is absent. "" means nothing
// acceptable (406).
func negotiatePyPI(accept string) string {
	if strings.TrimSpace(accept) == "" {
		return "text/html"
	}
	best, bestQ := "", 0.0
	for _, item := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		var served string
		switch mt {
		case pypiJSON, "application/vnd.pypi.simple.latest+json":
			served = pypiJSON
		case pypiHTML, "application/vnd.pypi.simple.latest+html":
			served = pypiHTML
		case "text/html", "text/*", "*/*":
			served = "text/html"
		}
		if served != "" && q > bestQ {
			best, bestQ = served, q
		}
	}
	return best
}

func (a *API) pypiRootIndex(w http.ResponseWriter, r *http.Request) {
	ctype := negotiatePyPI(r.Header.Get("Accept"))
	if ctype == "" {
		writeNotAcceptable(w)
		return
	}
	names, err := a.Svc.PyPIProjectNames(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		PackageError(w, r, err)
		return
	}
	w.Header().Set("Vary", "Accept")
	if ctype == pypiJSON {
		type project struct {
			Name string `json:"name"`
		}
		out := struct {
			Meta     map[string]string `json:"meta"`
			Projects []project         `json:"projects"`
		}{Meta: map[string]string{"api-version": "1.1"}, Projects: []project{}}
		for _, n := range names {
			out.Projects = append(out.Projects, project{n})
		}
		writePyPI(w, r, ctype, out)
		return
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"><title>Simple index</title></head><body>\n")
	for _, n := range names {
		fmt.Fprintf(&b, "<a href=\"%s/\">%s</a><br/>\n", html.EscapeString(url.PathEscape(n)), html.EscapeString(n))
	}
	b.WriteString("</body></html>\n")
	writePyPI(w, r, ctype, b.String())
}

func (a *API) pypiProjectPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if norm := registry.NormalizePyPIName(name); norm != name {
		// PEP 503: clients may ask for any spelling; send them to the
		// normalized URL, keeping the trailing slash.
		// The target is built from the route's parts, not by editing
		// r.URL.Path: that is decoded, and an encoded-path :id
		// (acme%2Fpystd) would come back as acme/pystd, a 404.
		target := ProjectPath(r) + "/packages/pypi/simple/" + url.PathEscape(norm)
		if strings.HasSuffix(r.URL.Path, "/") {
			target += "/"
		}
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	ctype := negotiatePyPI(r.Header.Get("Accept"))
	if ctype == "" {
		writeNotAcceptable(w)
		return
	}
	page, err := a.Svc.PyPIPage(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name)
	if err != nil {
		PackageError(w, r, err)
		return
	}
	w.Header().Set("Vary", "Accept")
	w.Header().Set("X-Registry-Upstream", strings.Join(page.Upstreams, ", "))
	filesURL := a.ProjectURL(r) + "/packages/pypi/files/"
	fileURL := func(f registry.PyPIFile) string { return filesURL + f.SHA256 + "/" + url.PathEscape(f.FileName) }
	if ctype == pypiJSON {
		writePyPI(w, r, ctype, pypiPageJSON(page, fileURL))
		return
	}
	writePyPI(w, r, ctype, pypiPageHTML(page, fileURL))
}

func pypiPageJSON(page *registry.PyPIPage, fileURL func(registry.PyPIFile) string) any {
	type fileJSON struct {
		Filename       string            `json:"filename"`
		URL            string            `json:"url"`
		Hashes         map[string]string `json:"hashes"`
		RequiresPython *string           `json:"requires-python,omitempty"`
		Yanked         any               `json:"yanked"`
		CoreMetadata   any               `json:"core-metadata"`
		DistInfo       any               `json:"dist-info-metadata"`
		Size           *int64            `json:"size,omitempty"`
		UploadTime     string            `json:"upload-time,omitempty"`
	}
	out := struct {
		Meta     map[string]string `json:"meta"`
		Name     string            `json:"name"`
		Files    []fileJSON        `json:"files"`
		Versions []string          `json:"versions"`
	}{Meta: map[string]string{"api-version": "1.1"}, Name: page.Name, Files: []fileJSON{}, Versions: page.Versions()}
	for _, f := range page.Files {
		fj := fileJSON{Filename: f.FileName, URL: fileURL(f), Hashes: map[string]string{"sha256": f.SHA256}, Yanked: false, CoreMetadata: false, DistInfo: false}
		if f.RequiresPython != "" {
			rp := f.RequiresPython
			fj.RequiresPython = &rp
		}
		if f.Yanked {
			fj.Yanked = true
			if f.YankedReason != "" {
				fj.Yanked = f.YankedReason
			}
		}
		if f.CoreMetadataSHA256 != "" {
			fj.CoreMetadata = map[string]string{"sha256": f.CoreMetadataSHA256}
			fj.DistInfo = fj.CoreMetadata
		}
		if f.Size >= 0 {
			size := f.Size
			fj.Size = &size
		}
		if f.UploadTime != nil {
			fj.UploadTime = f.UploadTime.UTC().Format("2006-01-02T15:04:05.000000Z")
		}
		out.Files = append(out.Files, fj)
	}
	return out
}

func pypiPageHTML(page *registry.PyPIPage, fileURL func(registry.PyPIFile) string) string {
	var b strings.Builder
	b.Grow(200 * (len(page.Files) + 1))
	name := html.EscapeString(page.Name)
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"><title>Links for %s</title></head><body>\n<h1>Links for %s</h1>\n", name, name)
	for _, f := range page.Files {
		fmt.Fprintf(&b, `<a href="%s#sha256=%s"`, html.EscapeString(fileURL(f)), f.SHA256)
		if f.RequiresPython != "" {
			fmt.Fprintf(&b, ` data-requires-python="%s"`, html.EscapeString(f.RequiresPython))
		}
		if f.Yanked {
			fmt.Fprintf(&b, ` data-yanked="%s"`, html.EscapeString(f.YankedReason))
		}
		if f.CoreMetadataSHA256 != "" {
			fmt.Fprintf(&b, ` data-core-metadata="sha256=%s" data-dist-info-metadata="sha256=%s"`, f.CoreMetadataSHA256, f.CoreMetadataSHA256)
		}
		fmt.Fprintf(&b, ">%s</a><br/>\n", html.EscapeString(f.FileName))
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

func writeNotAcceptable(w http.ResponseWriter) {
	WriteJSON(w, http.StatusNotAcceptable, map[string]string{
		"message": "406 Not Acceptable - ask for " + pypiJSON + ", " + pypiHTML + " or text/html"})
}

// writePyPI sends an index response; v is HTML text or a JSON value. Its
// ETag is a digest of the rendered page (pages are small, and one page may
// merge several upstreams' documents), answering If-None-Match with 304.
func writePyPI(w http.ResponseWriter, r *http.Request, ctype string, v any) {
	w.Header().Set("Cache-Control", "private, max-age=0, must-revalidate")
	var body []byte
	if s, ok := v.(string); ok {
		ctype += "; charset=utf-8"
		body = []byte(s)
	} else {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // requires-python holds "<" and ">"
		_ = enc.Encode(v)
		body = buf.Bytes()
	}
	if NotModified(w, r, BodyETag(ctype, body)) {
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (a *API) downloadPyPI(w http.ResponseWriter, r *http.Request) {
	d, err := a.Svc.OpenPyPIFile(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"),
		r.PathValue("sha256"), r.PathValue("file"), ReadOptions(r))
	if err != nil {
		PackageError(w, r, err)
		return
	}
	ServeDownload(w, r, d)
}
