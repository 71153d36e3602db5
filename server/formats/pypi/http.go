package pypi

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
	"github.com/pkgreg/registry/server/rest"
)

const route = "/api/v4/projects/{id}/packages/pypi"

// Routes adds the PyPI routes, GitLab's layout: twine uploads to the
// project's pypi URL, pip reads its simple index (PEP 503/691) and files.
func (f *Format) Routes(handle rest.HandleFunc) {
	handle("POST "+route, f.upload)
	handle("POST "+route+"/{$}", f.upload)
	handle("GET "+route+"/simple", f.rootIndex)
	handle("GET "+route+"/simple/{$}", f.rootIndex)
	handle("GET "+route+"/simple/{name}", f.projectPage)
	handle("GET "+route+"/simple/{name}/{$}", f.projectPage)
	handle("GET "+route+"/files/{sha256}/{file}", f.download)
	handle("HEAD "+route+"/files/{sha256}/{file}", f.download)
}

const (
	maxFormField = 1 << 20  // one metadata field (a long description)
	maxFormTotal = 16 << 20 // all metadata fields of one upload
)

// upload reads twine's multipart form as a stream: the metadata fields
// come first and are held (bounded), the content part is streamed to
// storage as it arrives.
func (f *Format) upload(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		rest.WriteError(w, r, registry.Invalid("the upload must be a multipart/form-data body, as twine sends it"))
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
			rest.WriteError(w, r, registry.Invalid("malformed multipart body: %v", err))
			return
		}
		name := part.FormName()
		if name == "content" {
			f.storeContent(w, r, fields, part)
			return
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
		total += len(v)
		switch {
		case err != nil:
			rest.WriteError(w, r, registry.Invalid("malformed multipart body: %v", err))
			return
		case len(v) > maxFormField || total > maxFormTotal:
			rest.WriteError(w, r, registry.TooLarge("the form's metadata fields are too large"))
			return
		}
		if _, dup := fields[name]; !dup { // repeated fields (classifiers) keep the first
			fields[name] = string(v)
		}
	}
	rest.WriteError(w, r, registry.Invalid("content is missing: the form needs a file part named content"))
}

func (f *Format) storeContent(w http.ResponseWriter, r *http.Request, fields map[string]string, content io.Reader) {
	if action, ok := fields[":action"]; ok && action != "file_upload" {
		rest.WriteError(w, r, registry.Invalid(":action %q is not supported; only file_upload is", action))
		return
	}
	exp := registry.Expected{}
	for field, dst := range map[string]*string{"sha256_digest": &exp.SHA256, "md5_digest": &exp.MD5} {
		v := strings.ToLower(strings.TrimSpace(fields[field]))
		if v == "" {
			continue
		}
		if _, err := hex.DecodeString(v); err != nil || (field == "sha256_digest" && len(v) != 64) || (field == "md5_digest" && len(v) != 32) {
			rest.WriteError(w, r, registry.Invalid("%s must be a hexadecimal digest", field))
			return
		}
		*dst = v
	}
	in := Upload{
		ProjectRef: r.PathValue("id"), Name: fields["name"], Version: fields["version"],
		FileName: partFileName(content), RequiresPython: fields["requires_python"], Summary: fields["summary"],
		FileType: fields["filetype"],
		Body:     content, Size: -1, Expect: exp,
	}
	if _, err := f.Upload(r.Context(), registry.PrincipalFrom(r.Context()), in); err != nil {
		rest.PackageError(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusCreated, map[string]string{"message": "201 Created"})
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
	mediaJSON = "application/vnd.pypi.simple.v1+json"
	mediaHTML = "application/vnd.pypi.simple.v1+html"
)

// negotiate picks the response form from Accept (PEP 691): the
// highest-q type we serve; HTML when Accept is absent. "" means nothing
// acceptable (406).
func negotiate(accept string) string {
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
		case mediaJSON, "application/vnd.pypi.simple.latest+json":
			served = mediaJSON
		case mediaHTML, "application/vnd.pypi.simple.latest+html":
			served = mediaHTML
		case "text/html", "text/*", "*/*":
			served = "text/html"
		}
		if served != "" && q > bestQ {
			best, bestQ = served, q
		}
	}
	return best
}

func (f *Format) rootIndex(w http.ResponseWriter, r *http.Request) {
	ctype := negotiate(r.Header.Get("Accept"))
	if ctype == "" {
		writeNotAcceptable(w)
		return
	}
	names, err := f.ProjectNames(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	w.Header().Set("Vary", "Accept")
	if ctype == mediaJSON {
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
		writeIndex(w, r, ctype, out)
		return
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"><title>Simple index</title></head><body>\n")
	for _, n := range names {
		fmt.Fprintf(&b, "<a href=\"%s/\">%s</a><br/>\n", html.EscapeString(url.PathEscape(n)), html.EscapeString(n))
	}
	b.WriteString("</body></html>\n")
	writeIndex(w, r, ctype, b.String())
}

func (f *Format) projectPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if norm := NormalizeName(name); norm != name {
		// PEP 503: clients may ask for any spelling; send them to the
		// normalized URL, keeping the trailing slash.
		// The target is built from the route's parts, not by editing
		// r.URL.Path: that is decoded, and an encoded-path :id
		// (acme%2Fpystd) would come back as acme/pystd, a 404.
		target := rest.ProjectPath(r) + "/packages/pypi/simple/" + url.PathEscape(norm)
		if strings.HasSuffix(r.URL.Path, "/") {
			target += "/"
		}
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	ctype := negotiate(r.Header.Get("Accept"))
	if ctype == "" {
		writeNotAcceptable(w)
		return
	}
	page, err := f.Page(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), name)
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	w.Header().Set("Vary", "Accept")
	w.Header().Set("X-Registry-Upstream", strings.Join(page.Upstreams, ", "))
	filesURL := f.api.ProjectURL(r) + "/packages/pypi/files/"
	fileURL := func(file File) string { return filesURL + file.SHA256 + "/" + url.PathEscape(file.FileName) }
	if ctype == mediaJSON {
		writeIndex(w, r, ctype, pageJSON(page, fileURL))
		return
	}
	writeIndex(w, r, ctype, pageHTML(page, fileURL))
}

func pageJSON(page *Page, fileURL func(File) string) any {
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

func pageHTML(page *Page, fileURL func(File) string) string {
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
	rest.WriteJSON(w, http.StatusNotAcceptable, map[string]string{
		"message": "406 Not Acceptable - ask for " + mediaJSON + ", " + mediaHTML + " or text/html"})
}

// writeIndex sends an index response; v is HTML text or a JSON value. Its
// ETag is a digest of the rendered page (pages are small, and one page may
// merge several upstreams' documents), answering If-None-Match with 304.
func writeIndex(w http.ResponseWriter, r *http.Request, ctype string, v any) {
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
	if rest.NotModified(w, r, rest.BodyETag(ctype, body)) {
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (f *Format) download(w http.ResponseWriter, r *http.Request) {
	d, err := f.OpenFile(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"),
		r.PathValue("sha256"), r.PathValue("file"), rest.ReadOptions(r))
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	rest.ServeDownload(w, r, d)
}
