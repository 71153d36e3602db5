package generic

import (
	"net/http"
	"time"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/rest"
)

func (f *Format) upload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := FileUpload{
		ProjectRef: r.PathValue("id"), Name: r.PathValue("name"), Version: r.PathValue("version"),
		FilePath: r.PathValue("file"), Body: r.Body, Size: r.ContentLength,
	}
	if q.Has("status") {
		st := enum.PackageStatus(q.Get("status"))
		if st != enum.StatusDefault && st != enum.StatusHidden {
			rest.WriteParamError(w, "status does not have a valid value")
			return
		}
		in.Status = &st
	}
	sel := q.Get("select")
	if q.Has("select") && sel != "package_file" {
		rest.WriteParamError(w, "select does not have a valid value")
		return
	}
	exp, err := registry.ParseDigestHeaders(r.Header.Get)
	if err != nil {
		rest.WriteError(w, r, err)
		return
	}
	in.Expect = exp
	pf, err := f.Upload(r.Context(), registry.PrincipalFrom(r.Context()), in)
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	if sel == "package_file" {
		rest.WriteJSON(w, http.StatusOK, f.api.PackageFileJSON(r, pf))
		return
	}
	rest.WriteJSON(w, http.StatusCreated, map[string]string{"message": "201 Created"})
}

func (f *Format) download(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := registry.PrincipalFrom(ctx)
	ref, name, version, file := r.PathValue("id"), r.PathValue("name"), r.PathValue("version"), r.PathValue("file")
	if file == "" && r.Method == http.MethodGet {
		f.listVersion(w, r, ref, name, version)
		return
	}
	d, err := f.Open(ctx, p, ref, name, version, file, rest.ReadOptions(r))
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	rest.ServeDownload(w, r, d)
}

func (f *Format) listVersion(w http.ResponseWriter, r *http.Request, ref, name, version string) {
	pk, files, err := f.ListVersion(r.Context(), registry.PrincipalFrom(r.Context()), ref, name, version)
	if err != nil {
		rest.PackageError(w, r, err)
		return
	}
	type fileJSON struct {
		FileName    string    `json:"file_name"`
		Size        int64     `json:"size"`
		FileSHA256  string    `json:"file_sha256"`
		CreatedAt   time.Time `json:"created_at"`
		DownloadURL string    `json:"download_url"`
	}
	out := struct {
		PackageID int        `json:"package_id"`
		Name      string     `json:"name"`
		Version   string     `json:"version"`
		Status    string     `json:"status"`
		Files     []fileJSON `json:"files"`
	}{PackageID: pk.ID, Name: pk.Name, Version: pk.Version, Status: string(pk.Status), Files: []fileJSON{}}
	base := f.api.ProjectURL(r) + "/packages/generic/" + name + "/" + version + "/"
	for _, pf := range files {
		out.Files = append(out.Files, fileJSON{pf.FileName, pf.Size, pf.Sha256, pf.CreatedAt.UTC(), base + pf.FileName})
	}
	rest.WriteJSON(w, http.StatusOK, out)
}
