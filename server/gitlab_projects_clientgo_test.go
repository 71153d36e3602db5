package server_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// TestGitLabProjectsClientGo drives GitLab's Go client through the project
// and group calls tools make before they touch packages.
func TestGitLabProjectsClientGo(t *testing.T) {
	w := newGitLabWorld(t)
	c := cgClient(t, w.e, w.alice)
	p, _, err := c.Projects.GetProject("acme/tools", nil)
	if err != nil {
		t.Fatalf("GetProject: %v", err)
	}
	if p.ID != int64(w.tools) || p.PathWithNamespace != "acme/tools" || p.Namespace == nil || p.Namespace.Kind != "group" ||
		p.Namespace.FullPath != "acme" || !p.PackagesEnabled || p.Visibility != gitlab.PrivateVisibility || p.CreatedAt == nil ||
		p.Links == nil || p.Links.Self == "" {
		t.Errorf("GetProject = %+v", p)
	}
	if _, resp, err := cgClient(t, w.e, w.bob).Projects.GetProject("acme/tools", nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob GetProject: %v, want 404", err)
	}

	// Keyset pages, followed the way the client documents.
	opt := &gitlab.ListProjectsOptions{ListOptions: gitlab.ListOptions{Pagination: "keyset", OrderBy: "id", Sort: "asc", PerPage: 2}}
	var paths []string
	options := []gitlab.RequestOptionFunc{}
	for range 10 {
		ps, resp, err := c.Projects.ListProjects(opt, options...)
		if err != nil {
			t.Fatalf("ListProjects: %v", err)
		}
		for _, p := range ps {
			paths = append(paths, p.PathWithNamespace)
		}
		next, ok := gitlab.WithNext(resp)
		if !ok {
			break
		}
		options = []gitlab.RequestOptionFunc{next}
	}
	if want := []string{"acme/tools", "acme/sub/deep", "open/site", "open/intra", "open/secret", "alice/mine"}; !slices.Equal(paths, want) {
		t.Errorf("keyset ListProjects: %v, want %v", paths, want)
	}
	ps, resp, err := c.Projects.ListProjects(&gitlab.ListProjectsOptions{Search: gitlab.Ptr("tool")})
	if err != nil || len(ps) != 1 || ps[0].ID != int64(w.tools) || resp.TotalItems != 1 {
		t.Errorf("ListProjects(search=tool): %v %v", ps, err)
	}

	g, _, err := c.Groups.GetGroup("acme/sub", nil)
	if err != nil || g.FullPath != "acme/sub" || g.FullName != "acme / sub" {
		t.Errorf("GetGroup: %+v %v", g, err)
	}
	gps, _, err := c.Groups.ListGroupProjects("acme", &gitlab.ListGroupProjectsOptions{IncludeSubGroups: gitlab.Ptr(true)})
	if err != nil || len(gps) != 2 {
		t.Errorf("ListGroupProjects: %v %v", gps, err)
	}

	p, _, err = c.Projects.EditProject(w.tools, &gitlab.EditProjectOptions{PackagesEnabled: gitlab.Ptr(false)})
	if err != nil || p.PackagesEnabled {
		t.Fatalf("EditProject(packages_enabled=false): %+v %v", p, err)
	}
	_, _, err = c.Packages.ListProjectPackages(w.tools, nil)
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusForbidden {
		t.Errorf("ListProjectPackages with packages disabled: %v, want 403", err)
	}
}
