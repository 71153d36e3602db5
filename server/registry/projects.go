package registry

import (
	"context"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Projects owns the namespace tree and its administration: creating and
// updating projects and groups, memberships, a virtual project's upstreams
// and a remote project's configuration, the namespaces' package settings,
// and the project, group, member and namespace listings and lookups
// (GraphQL and the GitLab REST API). Access checks themselves are the
// Service's (access.go), which formats share. Reach it as Service.Projects.
type Projects struct{ s *Service }

// CreateProjectInput describes a new project.
type CreateProjectInput struct {
	NamespacePath  string
	Path           string
	Name           string
	Description    string
	Visibility     enum.Visibility
	RepositoryMode enum.RepositoryMode
	Format         *enum.Format
	RemoteURL      *string
	RemoteUsername *string
	RemotePassword *string
}

// CreateProject creates a project in a group (MAINTAINER+) or in the
// caller's personal namespace.
func (pr *Projects) CreateProject(ctx context.Context, p *Principal, in CreateProjectInput) (*ent.Project, error) {
	if err := requireAPIWrite(p); err != nil {
		return nil, err
	}
	if err := validateFullPath("namespacePath", in.NamespacePath); err != nil {
		return nil, err
	}
	if err := validateNewPath(in.Path, &in.Name, &in.Visibility); err != nil {
		return nil, err
	}
	if err := validateRepositoryMode(&in); err != nil {
		return nil, err
	}
	na, err := pr.s.Namespace(ctx, p, in.NamespacePath)
	if err != nil {
		return nil, err
	}
	if err := require(p, na.Level, enum.Maintainer, writeAPIScopes, "creating projects in this namespace"); err != nil {
		return nil, err
	}
	if in.RepositoryMode == enum.Remote {
		if err := pr.s.Remote.checkRemoteHost(ctx, *in.RemoteURL); err != nil {
			return nil, err
		}
	}
	ns := na.Namespace
	if in.Visibility.Rank() > ns.Visibility.Rank() {
		return nil, Invalid("visibility %s is not allowed: the namespace is %s", strings.ToUpper(string(in.Visibility)), strings.ToUpper(string(ns.Visibility)))
	}
	fullPath := ns.FullPath + "/" + in.Path
	var prj *ent.Project
	err = pr.s.withTx(ctx, func(tx *ent.Tx) error {
		c := tx.Project.Create().SetNamespaceID(ns.ID).SetPath(in.Path).SetFullPath(fullPath).
			SetName(in.Name).SetDescription(in.Description).SetVisibility(in.Visibility).
			SetRepositoryMode(in.RepositoryMode).SetNillableFormat(in.Format).SetNillableRemoteURL(in.RemoteURL).
			SetNillableRemoteUsername(in.RemoteUsername)
		if in.RemotePassword != nil {
			c.SetRemoteSecret(pr.s.sealer.seal([]byte(*in.RemotePassword)))
		}
		var err error
		if prj, err = c.Save(ctx); err != nil {
			return DBError(err, "path '"+fullPath+"' has already been taken")
		}
		return claimRoute(ctx, tx, fullPath, nil, &prj.ID)
	})
	return prj, err
}

// validateRepositoryMode checks the mode-specific fields: REMOTE needs a
// format and an upstream URL, VIRTUAL a format and no URL, STANDARD neither
// URL nor credentials.
func validateRepositoryMode(in *CreateProjectInput) error {
	if in.RepositoryMode == "" {
		in.RepositoryMode = enum.Standard
	}
	hasCreds := in.RemoteUsername != nil || in.RemotePassword != nil
	switch in.RepositoryMode {
	case enum.Standard:
		if in.RemoteURL != nil || hasCreds {
			return Invalid("remoteUrl and remote credentials apply only to REMOTE projects")
		}
	case enum.Remote:
		if in.Format == nil {
			return Invalid("format is required for REMOTE projects")
		}
		if in.RemoteURL == nil {
			return Invalid("remoteUrl is required for REMOTE projects")
		}
		if err := validateRemoteURL(*in.RemoteURL); err != nil {
			return err
		}
		if pointsAtItself(*in.RemoteURL, &ent.Project{FullPath: strings.Trim(in.NamespacePath, "/") + "/" + in.Path}) {
			return Invalid("remoteUrl points at this project itself")
		}
		if in.RemotePassword != nil && len(*in.RemotePassword) > 4096 {
			return Invalid("remotePassword is too long")
		}
	case enum.Virtual:
		if in.Format == nil {
			return Invalid("format is required for VIRTUAL projects")
		}
		if in.RemoteURL != nil || hasCreds {
			return Invalid("remoteUrl and remote credentials apply only to REMOTE projects")
		}
	default:
		return Invalid("repositoryMode must be STANDARD, REMOTE or VIRTUAL")
	}
	if in.Format != nil {
		var f enum.Format
		if err := f.UnmarshalGQL(string(*in.Format)); err != nil {
			return Invalid("%s", err.Error())
		}
	}
	return nil
}

// UpdateProjectInput holds the fields to change (nil: unchanged).
type UpdateProjectInput struct {
	Name            *string
	Description     *string
	Visibility      *enum.Visibility
	PackagesEnabled *bool
}

// UpdateProject changes a project's settings. MAINTAINER+.
func (pr *Projects) UpdateProject(ctx context.Context, p *Principal, fullPath string, in UpdateProjectInput) (*ent.Project, error) {
	pa, err := pr.s.projectForAdmin(ctx, p, fullPath, enum.Maintainer, "changing project settings")
	if err != nil {
		return nil, err
	}
	u := pa.Project.Update()
	if in.Name != nil {
		if err := ValidateName("name", *in.Name); err != nil {
			return nil, err
		}
		u.SetName(*in.Name)
	}
	if in.Description != nil {
		if len(*in.Description) > 2000 {
			return nil, Invalid("description is too long (maximum is 2000 characters)")
		}
		u.SetDescription(*in.Description)
	}
	if in.Visibility != nil {
		if err := validateVisibility(*in.Visibility); err != nil {
			return nil, err
		}
		ns := pa.Namespaces[len(pa.Namespaces)-1]
		for _, n := range pa.Namespaces {
			if n.ID == pa.Project.NamespaceID {
				ns = n
			}
		}
		if in.Visibility.Rank() > ns.Visibility.Rank() {
			return nil, Invalid("visibility %s is not allowed: the namespace is %s", strings.ToUpper(string(*in.Visibility)), strings.ToUpper(string(ns.Visibility)))
		}
		u.SetVisibility(*in.Visibility)
	}
	if in.PackagesEnabled != nil {
		u.SetPackagesEnabled(*in.PackagesEnabled)
	}
	prj, err := u.Save(ctx)
	return prj, DBError(err, "")
}
