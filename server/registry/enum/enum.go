// Package enum holds the small value types shared by the ent schema, the
// domain layer and the GraphQL API. Values are stored in the database the way
// GitLab's REST API spells them (lower case); GraphQL shows them upper case.
//
// It is a leaf package: the generated ent code imports it, so it must not
// import ent or the domain layer.
package enum

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// gqlName turns a stored value into its GraphQL enum name.
func gqlName(v string) string { return strings.ToUpper(v) }

// fromGQL parses a GraphQL enum name (or a stored value) against allowed values.
func fromGQL(kind string, v any, allowed []string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", kind)
	}
	l := strings.ToLower(s)
	for _, a := range allowed {
		if a == l {
			return a, nil
		}
	}
	return "", fmt.Errorf("%q is not a valid %s (one of %s)", s, kind, strings.ToUpper(strings.Join(allowed, ", ")))
}

func writeName(w io.Writer, v string) { _, _ = io.WriteString(w, strconv.Quote(gqlName(v))) }

// Visibility of a namespace or project.
type Visibility string

const (
	Public   Visibility = "public"
	Internal Visibility = "internal"
	Private  Visibility = "private"
)

func (Visibility) Values() []string { return []string{"public", "internal", "private"} }

// Rank orders visibilities from most open (2) to most closed (0); a project
// may not be more open than its namespace.
func (v Visibility) Rank() int {
	switch v {
	case Public:
		return 2
	case Internal:
		return 1
	}
	return 0
}

func (v Visibility) MarshalGQL(w io.Writer) { writeName(w, string(v)) }
func (v *Visibility) UnmarshalGQL(x any) error {
	s, err := fromGQL("visibility", x, v.Values())
	*v = Visibility(s)
	return err
}

// NamespaceKind tells a group from a user's personal namespace.
type NamespaceKind string

const (
	GroupNamespace NamespaceKind = "group"
	UserNamespace  NamespaceKind = "user"
)

func (NamespaceKind) Values() []string { return []string{"group", "user"} }

func (v NamespaceKind) MarshalGQL(w io.Writer) { writeName(w, string(v)) }
func (v *NamespaceKind) UnmarshalGQL(x any) error {
	s, err := fromGQL("namespace kind", x, v.Values())
	*v = NamespaceKind(s)
	return err
}

// AccessLevel is a member role, with GitLab's numeric values.
type AccessLevel int

const (
	NoAccess   AccessLevel = 0
	Guest      AccessLevel = 10
	Reporter   AccessLevel = 20
	Developer  AccessLevel = 30
	Maintainer AccessLevel = 40
	Owner      AccessLevel = 50
)

var accessLevelNames = map[AccessLevel]string{Guest: "guest", Reporter: "reporter", Developer: "developer", Maintainer: "maintainer", Owner: "owner"}

// ParseAccessLevel accepts a role name in any case.
func ParseAccessLevel(s string) (AccessLevel, error) {
	l := strings.ToLower(s)
	for k, n := range accessLevelNames {
		if n == l {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%q is not a valid access level (one of GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER)", s)
}

func (a AccessLevel) String() string {
	if n, ok := accessLevelNames[a]; ok {
		return n
	}
	return "none"
}

// Valid reports whether a is one of the five roles.
func (a AccessLevel) Valid() bool { _, ok := accessLevelNames[a]; return ok }

func (a AccessLevel) MarshalGQL(w io.Writer) { writeName(w, a.String()) }
func (a *AccessLevel) UnmarshalGQL(x any) error {
	s, ok := x.(string)
	if !ok {
		return fmt.Errorf("access level must be a string")
	}
	v, err := ParseAccessLevel(s)
	*a = v
	return err
}

// Scope is an access token scope.
type Scope string

const (
	ScopeAPI                  Scope = "api"
	ScopeReadAPI              Scope = "read_api"
	ScopeReadPackageRegistry  Scope = "read_package_registry"
	ScopeWritePackageRegistry Scope = "write_package_registry"
)

func (Scope) Values() []string {
	return []string{"api", "read_api", "read_package_registry", "write_package_registry"}
}

func (v Scope) MarshalGQL(w io.Writer) { writeName(w, string(v)) }
func (v *Scope) UnmarshalGQL(x any) error {
	s, err := fromGQL("scope", x, v.Values())
	*v = Scope(s)
	return err
}

// TokenKind says what a token belongs to.
type TokenKind string

const (
	PersonalToken TokenKind = "personal"
	ProjectToken  TokenKind = "project"
	GroupToken    TokenKind = "group"
	DeployToken   TokenKind = "deploy"
	JobToken      TokenKind = "job"
)

func (TokenKind) Values() []string { return []string{"personal", "project", "group", "deploy", "job"} }

func (v TokenKind) MarshalGQL(w io.Writer) { writeName(w, string(v)) }
func (v *TokenKind) UnmarshalGQL(x any) error {
	s, err := fromGQL("token kind", x, v.Values())
	*v = TokenKind(s)
	return err
}

// RepositoryMode says how a project gets its packages.
type RepositoryMode string

const (
	Standard RepositoryMode = "standard"
	Remote   RepositoryMode = "remote"
	Virtual  RepositoryMode = "virtual"
)

func (RepositoryMode) Values() []string { return []string{"standard", "remote", "virtual"} }

func (v RepositoryMode) MarshalGQL(w io.Writer) { writeName(w, string(v)) }
func (v *RepositoryMode) UnmarshalGQL(x any) error {
	s, err := fromGQL("repository mode", x, v.Values())
	*v = RepositoryMode(s)
	return err
}

// Format is a package format (GitLab's package_type).
type Format string

const (
	Generic Format = "generic"
	PyPI    Format = "pypi"
	NPM     Format = "npm"
	Golang  Format = "golang"
	Maven   Format = "maven"
	Debian  Format = "debian"
	RPM     Format = "rpm"
)

func (Format) Values() []string {
	return []string{"generic", "pypi", "npm", "golang", "maven", "debian", "rpm"}
}

func (v Format) MarshalGQL(w io.Writer) { writeName(w, string(v)) }
func (v *Format) UnmarshalGQL(x any) error {
	s, err := fromGQL("package format", x, v.Values())
	*v = Format(s)
	return err
}

// PackageStatus is GitLab's package status.
type PackageStatus string

const (
	StatusDefault            PackageStatus = "default"
	StatusHidden             PackageStatus = "hidden"
	StatusProcessing         PackageStatus = "processing"
	StatusError              PackageStatus = "error"
	StatusPendingDestruction PackageStatus = "pending_destruction"
)

func (PackageStatus) Values() []string {
	return []string{"default", "hidden", "processing", "error", "pending_destruction"}
}

func (v PackageStatus) MarshalGQL(w io.Writer) { writeName(w, string(v)) }
func (v *PackageStatus) UnmarshalGQL(x any) error {
	s, err := fromGQL("package status", x, v.Values())
	*v = PackageStatus(s)
	return err
}

// VersionPolicy is what versions a STANDARD Maven project accepts (Artifact
// Registry's names): releases only, or SNAPSHOTs only. A project without one
// (nil) accepts both. Virtual projects never have one: they serve whatever
// their upstreams hold.
type VersionPolicy string

const (
	VersionRelease  VersionPolicy = "release"
	VersionSnapshot VersionPolicy = "snapshot"
)

func (VersionPolicy) Values() []string { return []string{"release", "snapshot"} }

func (v VersionPolicy) MarshalGQL(w io.Writer) { writeName(w, string(v)) }
func (v *VersionPolicy) UnmarshalGQL(x any) error {
	s, err := fromGQL("version policy", x, v.Values())
	*v = VersionPolicy(s)
	return err
}
