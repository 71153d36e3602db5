package registry

import (
	"context"
	"slices"
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
	// VersionPolicy is for STANDARD projects of format MAVEN only.
	VersionPolicy *enum.VersionPolicy
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
	if in.VersionPolicy != nil {
		if err := checkVersionPolicy(in.RepositoryMode, in.Format, *in.VersionPolicy); err != nil {
			return nil, err
		}
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
			SetNillableRemoteUsername(in.RemoteUsername).SetNillableVersionPolicy(in.VersionPolicy)
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
	// SetVersionPolicy says VersionPolicy is to be set: to *VersionPolicy,
	// or cleared when that is nil.
	SetVersionPolicy bool
	VersionPolicy    *enum.VersionPolicy
}

// checkVersionPolicy is the rule for a version policy (RELEASE or SNAPSHOT):
// it belongs to STANDARD Maven projects only. A Maven virtual repository
// has no version policy (it serves whatever its upstreams hold), a REMOTE
// one mirrors its upstream as it is, and other formats have no SNAPSHOTs.
func checkVersionPolicy(mode enum.RepositoryMode, format *enum.Format, v enum.VersionPolicy) error {
	switch {
	case !slices.Contains(v.Values(), string(v)):
		return Invalid("versionPolicy must be RELEASE or SNAPSHOT")
	case mode == enum.Virtual:
		return Invalid("a version policy cannot be set on a VIRTUAL project: a Maven virtual repository has no version policy and serves whatever its upstreams hold")
	case mode == enum.Remote:
		return Invalid("a version policy cannot be set on a REMOTE project: it serves what its upstream holds; set it on a STANDARD Maven project")
	case format == nil:
		return Invalid("a version policy applies only to projects of format MAVEN; this project has no format (create it with format MAVEN)")
	case *format != enum.Maven:
		return Invalid("a version policy applies only to projects of format MAVEN; this project's format is %s", strings.ToUpper(string(*format)))
	}
	return nil
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
	if in.SetVersionPolicy {
		if in.VersionPolicy == nil {
			u.ClearVersionPolicy()
		} else {
			if err := checkVersionPolicy(pa.Project.RepositoryMode, pa.Project.Format, *in.VersionPolicy); err != nil {
				return nil, err
			}
			u.SetVersionPolicy(*in.VersionPolicy)
		}
	}
	prj, err := u.Save(ctx)
	return prj, DBError(err, "")
}
