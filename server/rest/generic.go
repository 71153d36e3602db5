package rest

import (
	"net/http"
	"time"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Generic package routes, GitLab's layout.
const genericRoute = "/api/v4/projects/{id}/packages/generic/{name}/{version}/{file...}"

// genericVersionRoute is a version without the trailing slash of its file
// listing (genericRoute with no file).
const genericVersionRoute = "/api/v4/projects/{id}/packages/generic/{name}/{version}"

func (a *API) uploadGeneric(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := registry.GenericUpload{
		ProjectRef: r.PathValue("id"), Name: r.PathValue("name"), Version: r.PathValue("version"),
		FilePath: r.PathValue("file"), Body: r.Body, Size: r.ContentLength,
	}
	if q.Has("status") {
		st := enum.PackageStatus(q.Get("status"))
		if st != enum.StatusDefault && st != enum.StatusHidden {
			WriteParamError(w, "status does not have a valid value")
			return
		}
		in.Status = &st
	}
	sel := q.Get("select")
	if q.Has("select") && sel != "package_file" {
		WriteParamError(w, "select does not have a valid value")
		return
	}
	exp, err := registry.ParseDigestHeaders(r.Header.Get)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	in.Expect = exp
	pf, err := a.Svc.UploadGeneric(r.Context(), registry.PrincipalFrom(r.Context()), in)
	if err != nil {
		PackageError(w, r, err)
		return
	}
	if sel == "package_file" {
		WriteJSON(w, http.StatusOK, a.PackageFileJSON(r, pf))
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"message": "201 Created"})
}

func (a *API) downloadGeneric(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := registry.PrincipalFrom(ctx)
	ref, name, version, file := r.PathValue("id"), r.PathValue("name"), r.PathValue("version"), r.PathValue("file")
	if file == "" && r.Method == http.MethodGet {
		a.listGenericVersion(w, r, ref, name, version)
		return
	}
	d, err := a.Svc.OpenGeneric(ctx, p, ref, name, version, file, ReadOptions(r))
	if err != nil {
		PackageError(w, r, err)
		return
	}
	ServeDownload(w, r, d)
}

func (a *API) listGenericVersion(w http.ResponseWriter, r *http.Request, ref, name, version string) {
	pk, files, err := a.Svc.ListGenericVersion(r.Context(), registry.PrincipalFrom(r.Context()), ref, name, version)
	if err != nil {
		PackageError(w, r, err)
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
	base := a.ProjectURL(r) + "/packages/generic/" + name + "/" + version + "/"
	for _, f := range files {
		out.Files = append(out.Files, fileJSON{f.FileName, f.Size, f.Sha256, f.CreatedAt.UTC(), base + f.FileName})
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) registerGeneric(handle HandleFunc) {
	handle("PUT "+genericRoute, a.uploadGeneric)
	handle("GET "+genericRoute, a.downloadGeneric)
	handle("HEAD "+genericRoute, a.downloadGeneric)
	for _, m := range []string{"GET ", "HEAD ", "PUT "} { // genericRoute's methods
		handle(m+genericVersionRoute, AddTrailingSlash)
	}
}
