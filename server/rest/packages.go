package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// gitlabOnlyTypes are package types GitLab knows and this registry does
// not serve: filtering by them is valid and finds nothing.
var gitlabOnlyTypes = map[string]bool{"conan": true, "composer": true, "nuget": true, "helm": true,
	"terraform_module": true, "rubygems": true, "ml_model": true, "cargo": true}

// parseListParams reads GitLab's package listing parameters.
func parseListParams(r *http.Request) (registry.PackageFilter, registry.PackageOrder, registry.Offset, bool, error) {
	q := r.URL.Query()
	var f registry.PackageFilter
	var page registry.Offset
	if v := q.Get("package_type"); v != "" {
		var t enum.Format
		if err := t.UnmarshalGQL(v); err != nil {
			if !gitlabOnlyTypes[v] {
				return f, registry.PackageOrder{}, page, false, paramError("package_type does not have a valid value")
			}
			t = "none" // matches no package
		}
		f.Type = &t
	}
	f.Name = q.Get("package_name")
	f.Version = q.Get("package_version")
	if v := q.Get("include_versionless"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, registry.PackageOrder{}, page, false, paramError("include_versionless is invalid")
		}
		f.IncludeVersionless = b
	}
	if v := q.Get("status"); v != "" {
		var st enum.PackageStatus
		if err := st.UnmarshalGQL(v); err != nil {
			return f, registry.PackageOrder{}, page, false, paramError("status does not have a valid value")
		}
		f.Status = &st
	}
	order, err := registry.ParsePackageOrder(q.Get("order_by"), q.Get("sort"))
	if err != nil {
		return f, order, page, false, err
	}
	if page, err = offsetParams(q); err != nil {
		return f, order, page, false, err
	}
	exclude, _ := strconv.ParseBool(q.Get("exclude_subgroups"))
	return f, order, page, exclude, nil
}

// offsetParams reads GitLab's offset pagination (page, per_page), every
// listing's: a value that is not a positive integer is a Grape-style 400.
func offsetParams(q url.Values) (registry.Offset, error) {
	var page registry.Offset
	for name, dst := range map[string]*int{"page": &page.Page, "per_page": &page.PerPage} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return page, paramError(name + " is invalid")
			}
			*dst = n
		}
	}
	page.Normalize()
	return page, nil
}

// paramError is a Grape-style parameter error.
func paramError(msg string) error {
	return &registry.Error{Kind: registry.KindInvalid, Message: msg, Cause: &registry.ParamError{Param: msg}}
}

func (a *API) listProjectPackages(w http.ResponseWriter, r *http.Request) {
	a.listPackages(w, r, false, func(ctx context.Context, p *registry.Principal, _ bool) (*registry.PackageScope, *ent.Project, error) {
		pa, scope, err := a.Svc.Packages.ProjectPackageScope(ctx, p, r.PathValue("id"))
		if err != nil {
			return nil, nil, err
		}
		// Links name the project asked for: through a virtual project, its
		// upstreams stay unnamed.
		return scope, pa.Project, nil
	})
}

func (a *API) listGroupPackages(w http.ResponseWriter, r *http.Request) {
	a.listPackages(w, r, true, func(ctx context.Context, p *registry.Principal, exclude bool) (*registry.PackageScope, *ent.Project, error) {
		_, scope, err := a.Svc.Packages.GroupPackageScope(ctx, p, r.PathValue("id"), exclude)
		return scope, nil, err
	})
}

// listPackages answers a GitLab package listing over the scope that
// resolve returns; group listings show each package's project.
func (a *API) listPackages(w http.ResponseWriter, r *http.Request, withProject bool,
	resolve func(context.Context, *registry.Principal, bool) (*registry.PackageScope, *ent.Project, error)) {
	ctx := r.Context()
	f, order, page, exclude, err := parseListParams(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	scope, listed, err := resolve(ctx, registry.PrincipalFrom(ctx), exclude)
	if err != nil {
		PackageError(w, r, err)
		return
	}
	rows, total, err := a.Svc.Packages.ListPackagesOffset(ctx, scope, f, order, page)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := make([]map[string]any, len(rows))
	for i, p := range rows {
		prj := p.Edges.Project
		if listed != nil {
			prj = listed
		}
		out[i] = a.packageJSON(r, p, prj, withProject)
	}
	a.writePaginated(w, r, page, total, out)
}

func pathID(r *http.Request, name string) (int, error) {
	id, err := strconv.Atoi(r.PathValue(name))
	if err != nil || id < 1 {
		return 0, paramError(name + " is invalid")
	}
	return id, nil
}

func (a *API) getPackage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "package_id")
	if err != nil {
		WriteError(w, r, err)
		return
	}
	p := registry.PrincipalFrom(ctx)
	pa, err := a.Svc.Project(ctx, p, r.PathValue("id"))
	if err != nil {
		PackageError(w, r, err)
		return
	}
	pk, err := a.Svc.Packages.GetPackage(ctx, p, r.PathValue("id"), id)
	if err != nil {
		PackageError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, a.packageJSON(r, pk, pa.Project, false))
}

func (a *API) listPackageFiles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "package_id")
	if err != nil {
		WriteError(w, r, err)
		return
	}
	_, _, page, _, err := parseListParams(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	files, total, err := a.Svc.Packages.ListPackageFiles(ctx, registry.PrincipalFrom(ctx), r.PathValue("id"), id, page)
	if err != nil {
		PackageError(w, r, err)
		return
	}
	out := make([]map[string]any, len(files))
	for i, f := range files {
		out[i] = map[string]any{
			"id": f.ID, "package_id": f.PackageID, "created_at": f.CreatedAt.UTC(), "file_name": f.FileName,
			"size": f.Size, "file_md5": f.Md5, "file_sha1": f.Sha1, "file_sha256": f.Sha256, "pipelines": []any{},
		}
	}
	a.writePaginated(w, r, page, total, out)
}

func (a *API) deletePackage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "package_id")
	if err == nil {
		err = a.Svc.Packages.DeletePackage(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), id)
	}
	if err != nil {
		PackageError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) deletePackageFile(w http.ResponseWriter, r *http.Request) {
	pkgID, err := pathID(r, "package_id")
	var fileID int
	if err == nil {
		fileID, err = pathID(r, "file_id")
	}
	if err == nil {
		err = a.Svc.Packages.DeletePackageFile(r.Context(), registry.PrincipalFrom(r.Context()), r.PathValue("id"), pkgID, fileID)
	}
	if err != nil {
		PackageError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// packageJSON is GitLab's package entity.
func (a *API) packageJSON(r *http.Request, p *ent.Pkg, prj *ent.Project, withProject bool) map[string]any {
	var lastDownloaded *time.Time
	if p.LastDownloadedAt != nil {
		t := p.LastDownloadedAt.UTC()
		lastDownloaded = &t
	}
	m := map[string]any{
		"id": p.ID, "name": p.Name, "version": p.Version, "package_type": string(p.PackageType), "status": string(p.Status),
		"created_at": p.CreatedAt.UTC(), "last_downloaded_at": lastDownloaded, "tags": []any{}, "pipelines": []any{},
	}
	if prj != nil {
		// A project route names prj as the caller did; a group listing
		// names each package's project by its numeric id, as GitLab does.
		projectURL := fmt.Sprintf("%s%s%d", a.BaseURL(r), projectsPrefix, prj.ID)
		if !withProject {
			projectURL = a.ProjectURL(r)
		}
		m["_links"] = map[string]string{
			"web_path":        fmt.Sprintf("/%s/-/packages/%d", prj.FullPath, p.ID),
			"delete_api_path": fmt.Sprintf("%s/packages/%d", projectURL, p.ID),
		}
		if withProject {
			m["project_id"] = prj.ID
			m["project_path"] = prj.FullPath
		}
	}
	return m
}

// writePaginated writes a JSON array with GitLab's offset pagination headers.
func (a *API) writePaginated(w http.ResponseWriter, r *http.Request, page registry.Offset, total int, items any) {
	pages := max((total+page.PerPage-1)/page.PerPage, 1)
	h := w.Header()
	h.Set("X-Total", strconv.Itoa(total))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Per-Page", strconv.Itoa(page.PerPage))
	h.Set("X-Page", strconv.Itoa(page.Page))
	next, prev := "", ""
	if page.Page < pages {
		next = strconv.Itoa(page.Page + 1)
	}
	if page.Page > 1 {
		prev = strconv.Itoa(page.Page - 1)
	}
	h.Set("X-Next-Page", next)
	h.Set("X-Prev-Page", prev)
	link := func(n int, rel string) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(page.PerPage))
		u.RawQuery = q.Encode()
		return fmt.Sprintf(`<%s%s>; rel="%s"`, a.BaseURL(r), (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}).String(), rel)
	}
	links := []string{}
	if prev != "" {
		links = append(links, link(page.Page-1, "prev"))
	}
	if next != "" {
		links = append(links, link(page.Page+1, "next"))
	}
	links = append(links, link(1, "first"), link(pages, "last"))
	h.Set("Link", strings.Join(links, ", "))
	WriteJSON(w, http.StatusOK, items)
}
