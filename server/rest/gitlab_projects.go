package rest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// GitLab's project and group read endpoints (and the packages_enabled
// toggle), for clients that look a project up before touching packages
// (python-gitlab's gl.projects.get, glab, GitLab's Go client). What the
// caller may see is decided in the core; these handlers only shape JSON.

// RegisterProjects adds the /projects and /groups routes.
func (a *API) RegisterProjects(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, wrap(h)) }
	// Reads take the REST API's credential rule (registry.RequireAPIRead);
	// the PUT's rule (MAINTAINER with the api scope) is UpdateProject's.
	read := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := registry.RequireAPIRead(registry.PrincipalFrom(r.Context())); err != nil {
				WriteError(w, r, err)
				return
			}
			h(w, r)
		}
	}
	handle("GET /api/v4/projects", read(a.listAllProjects))
	handle("GET /api/v4/projects/{id}", read(a.getProject))
	handle("PUT /api/v4/projects/{id}", a.updateProject)
	handle("GET /api/v4/groups", read(a.listGroups))
	handle("GET /api/v4/groups/{id}", read(a.getGroup))
	handle("GET /api/v4/groups/{id}/projects", read(a.listGroupProjects))
}

func (a *API) getProject(w http.ResponseWriter, r *http.Request) {
	ctx := registry.WithAccessCache(r.Context())
	pa, err := a.Svc.Project(ctx, registry.PrincipalFrom(ctx), r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	ns, err := a.Svc.Projects.NamespaceOf(ctx, pa.Project)
	if err == nil {
		pa.Project.Edges.Namespace = ns
	}
	m, err := a.projectJSON(r, pa.Project, false)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, m)
}

// updateProject changes what this registry keeps of a project. Decided:
// packages_enabled, name and description are applied (through the same
// core function as GraphQL's updateProject); any other GitLab project
// attribute answers 400 naming it, so that a script never believes a
// setting was stored that this registry does not have.
func (a *API) updateProject(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	params, err := formOrJSON(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var in registry.UpdateProjectInput
	for k, v := range params {
		switch k {
		case "packages_enabled":
			b, err := strconv.ParseBool(v)
			if err != nil {
				WriteError(w, r, paramError("packages_enabled is invalid"))
				return
			}
			in.PackagesEnabled = &b
		case "name":
			in.Name = &v
		case "description":
			in.Description = &v
		case "id":
			// python-gitlab may repeat the id; the path names the project.
		default:
			WriteError(w, r, paramError(k+" cannot be changed on this registry (supported: packages_enabled, name, description)"))
			return
		}
	}
	if in.PackagesEnabled == nil && in.Name == nil && in.Description == nil {
		WriteError(w, r, paramError("at least one parameter must be provided: packages_enabled, name, description"))
		return
	}
	// The core resolves the id or path and answers 401, 404 or 403 in
	// GitLab's order.
	prj, err := a.Svc.Projects.UpdateProject(ctx, registry.PrincipalFrom(ctx), r.PathValue("id"), in)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	ns, err := a.Svc.Projects.NamespaceOf(ctx, prj)
	if err == nil {
		prj.Edges.Namespace = ns
	}
	m, err := a.projectJSON(r, prj, false)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, m)
}

// maxParamsBody bounds a PUT body: a few settings, never a file.
const maxParamsBody = 64 << 10

// formOrJSON reads a PUT's parameters from the query, a form or a JSON
// object (python-gitlab sends JSON, curl --form a form).
func formOrJSON(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		out[k] = v[len(v)-1]
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxParamsBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, paramError("the body is not a JSON object")
		}
		for k, v := range body {
			switch v := v.(type) {
			case string:
				out[k] = v
			case bool:
				out[k] = strconv.FormatBool(v)
			case float64:
				out[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case nil:
				out[k] = ""
			default:
				return nil, paramError(k + " is invalid")
			}
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(maxParamsBody); err != nil && err != http.ErrNotMultipart {
			return nil, paramError("the form could not be read")
		}
		for k, v := range r.PostForm {
			out[k] = v[len(v)-1]
		}
	}
	return out, nil
}

func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, paramError(name + " is invalid")
	}
	return b, nil
}

func sortParam(q url.Values) (bool, error) {
	switch q.Get("sort") {
	case "", "desc":
		return true, nil
	case "asc":
		return false, nil
	}
	return false, paramError("sort does not have a valid value")
}

// projectQuery reads GitLab's project listing parameters.
func projectQuery(q url.Values) (registry.ProjectQuery, bool, error) {
	var pq registry.ProjectQuery
	var err error
	pq.Search = q.Get("search")
	if pq.Membership, err = boolParam(q, "membership"); err != nil {
		return pq, false, err
	}
	if pq.Owned, err = boolParam(q, "owned"); err != nil {
		return pq, false, err
	}
	if pq.IncludeSubgroups, err = boolParam(q, "include_subgroups"); err != nil {
		return pq, false, err
	}
	simple, err := boolParam(q, "simple")
	if err != nil {
		return pq, false, err
	}
	if v := q.Get("visibility"); v != "" {
		vis := enum.Visibility(v)
		if vis != enum.Public && vis != enum.Internal && vis != enum.Private {
			return pq, false, paramError("visibility does not have a valid value")
		}
		pq.Visibility = &vis
	}
	pq.OrderBy = q.Get("order_by")
	if pq.OrderBy == "" {
		pq.OrderBy = "created_at"
	}
	if !registry.ValidProjectOrder(pq.OrderBy) {
		return pq, false, paramError("order_by does not have a valid value")
	}
	if pq.Desc, err = sortParam(q); err != nil {
		return pq, false, err
	}
	if pq.Offset, err = offsetParams(q); err != nil {
		return pq, false, err
	}
	switch q.Get("pagination") {
	case "", "offset":
	case "keyset":
		if pq.OrderBy != "id" {
			return pq, false, paramError("keyset pagination is supported only with order_by=id")
		}
		pq.Keyset = true
	default:
		return pq, false, paramError("pagination does not have a valid value")
	}
	for name, dst := range map[string]*int{"id_after": &pq.IDAfter, "id_before": &pq.IDBefore} {
		if v := q.Get(name); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil || *dst < 1 {
				return pq, false, paramError(name + " is invalid")
			}
		}
	}
	return pq, simple, nil
}

func (a *API) listAllProjects(w http.ResponseWriter, r *http.Request) {
	pq, simple, err := projectQuery(r.URL.Query())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	a.writeProjects(w, r, pq, simple)
}

func (a *API) listGroupProjects(w http.ResponseWriter, r *http.Request) {
	pq, simple, err := projectQuery(r.URL.Query())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	ctx := r.Context()
	na, err := a.Svc.Projects.Group(ctx, registry.PrincipalFrom(ctx), r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	pq.Group = na.Namespace
	a.writeProjects(w, r, pq, simple)
}

func (a *API) writeProjects(w http.ResponseWriter, r *http.Request, pq registry.ProjectQuery, simple bool) {
	ctx := registry.WithAccessCache(r.Context())
	rows, total, more, err := a.Svc.Projects.SearchProjects(ctx, registry.PrincipalFrom(ctx), pq)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := make([]map[string]any, len(rows))
	for i, prj := range rows {
		if out[i], err = a.projectJSON(r.WithContext(ctx), prj, simple); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	if !pq.Keyset {
		a.writePaginated(w, r, pq.Offset, total, out)
		return
	}
	// GitLab's keyset pages carry only a rel="next" link, without totals.
	if more && len(rows) > 0 {
		u := *r.URL
		q := u.Query()
		// The cursor is an id filter in the listing's direction.
		cursor := "id_after"
		if pq.Desc {
			cursor = "id_before"
		}
		q.Set(cursor, strconv.Itoa(rows[len(rows)-1].ID))
		q.Set("per_page", strconv.Itoa(pq.Offset.PerPage))
		link := (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: q.Encode()}).String()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, a.BaseURL(r), link))
	}
	w.Header().Set("X-Per-Page", strconv.Itoa(pq.Offset.PerPage))
	WriteJSON(w, http.StatusOK, out)
}

// projectJSON is GitLab's project entity (simple: its BasicProjectDetails
// subset), over what this registry has: no repository, so an empty one.
func (a *API) projectJSON(r *http.Request, prj *ent.Project, simple bool) (map[string]any, error) {
	ns := prj.Edges.Namespace
	if ns == nil {
		var err error
		if ns, err = a.Svc.Projects.NamespaceOf(r.Context(), prj); err != nil {
			return nil, err
		}
	}
	chain, err := a.Svc.Projects.NamespaceAncestry(r.Context(), ns.FullPath)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(chain)+1)
	for _, n := range chain {
		names = append(names, n.Name)
	}
	names = append(names, prj.Name)
	base := a.BaseURL(r)
	m := map[string]any{
		"id": prj.ID, "name": prj.Name, "path": prj.Path, "path_with_namespace": prj.FullPath,
		"name_with_namespace": strings.Join(names, " / "), "description": prj.Description,
		"created_at": prj.CreatedAt.UTC(), "last_activity_at": prj.UpdatedAt.UTC(), "default_branch": nil,
		"web_url": base + "/" + prj.FullPath, "avatar_url": nil, "star_count": 0, "forks_count": 0,
		"tag_list": []string{}, "topics": []string{}, "namespace": namespaceJSON(base, ns),
		"http_url_to_repo": base + "/" + prj.FullPath + ".git", "ssh_url_to_repo": nil, "readme_url": nil,
	}
	if simple {
		return m, nil
	}
	self := fmt.Sprintf("%s/api/v4/projects/%d", base, prj.ID)
	m["visibility"] = string(prj.Visibility)
	m["packages_enabled"] = prj.PackagesEnabled
	m["archived"] = false
	m["empty_repo"] = true
	m["updated_at"] = prj.UpdatedAt.UTC()
	m["_links"] = map[string]string{
		"self": self, "issues": self + "/issues", "merge_requests": self + "/merge_requests",
		"repo_branches": self + "/repository/branches", "labels": self + "/labels", "events": self + "/events",
		"members": self + "/members", "cluster_agents": self + "/cluster_agents",
	}
	return m, nil
}

// namespaceJSON is the namespace object inside a project.
func namespaceJSON(base string, ns *ent.Namespace) map[string]any {
	web := base + "/" + ns.FullPath
	if ns.Kind == enum.GroupNamespace {
		web = base + "/groups/" + ns.FullPath
	}
	return map[string]any{
		"id": ns.ID, "name": ns.Name, "path": ns.Path, "kind": string(ns.Kind), "full_path": ns.FullPath,
		"parent_id": ns.ParentID, "avatar_url": nil, "web_url": web,
	}
}

// groupJSON is GitLab's group entity.
func (a *API) groupJSON(r *http.Request, g *ent.Namespace) (map[string]any, error) {
	chain, err := a.Svc.Projects.NamespaceAncestry(r.Context(), g.FullPath)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(chain))
	for i, n := range chain {
		names[i] = n.Name
	}
	base := a.BaseURL(r)
	return map[string]any{
		"id": g.ID, "name": g.Name, "path": g.Path, "description": g.Description, "visibility": string(g.Visibility),
		"full_name": strings.Join(names, " / "), "full_path": g.FullPath, "parent_id": g.ParentID,
		"web_url": base + "/groups/" + g.FullPath, "avatar_url": nil, "created_at": g.CreatedAt.UTC(),
		"lfs_enabled": false, "request_access_enabled": false, "share_with_group_lock": false,
		"require_two_factor_authentication": false, "project_creation_level": "maintainer",
		"subgroup_creation_level": "maintainer", "default_branch": nil, "emails_disabled": false,
	}, nil
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	ctx := registry.WithAccessCache(r.Context())
	na, err := a.Svc.Projects.Group(ctx, registry.PrincipalFrom(ctx), r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	m, err := a.groupJSON(r.WithContext(ctx), na.Namespace)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, m)
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var gq registry.GroupQuery
	var err error
	gq.Search = q.Get("search")
	for name, dst := range map[string]*bool{"all_available": &gq.AllAvailable, "owned": &gq.Owned, "top_level_only": &gq.TopLevelOnly} {
		if *dst, err = boolParam(q, name); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	if gq.OrderBy = q.Get("order_by"); gq.OrderBy == "" {
		gq.OrderBy = "name"
	}
	if q.Get("sort") == "" {
		q.Set("sort", "asc") // GitLab lists groups by name, ascending
	}
	if gq.Desc, err = sortParam(q); err == nil {
		gq.Offset, err = offsetParams(q)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	ctx := registry.WithAccessCache(r.Context())
	rows, total, err := a.Svc.Projects.SearchGroups(ctx, registry.PrincipalFrom(ctx), gq)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := make([]map[string]any, len(rows))
	for i, g := range rows {
		if out[i], err = a.groupJSON(r.WithContext(ctx), g); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	a.writePaginated(w, r, gq.Offset, total, out)
}
