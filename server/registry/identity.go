package registry

import (
	"context"
	"runtime/debug"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/user"
	"github.com/pkgreg/registry/server/registry/enum"
)

// The identity and instance endpoints (GitLab's /user, /users, /version,
// /metadata, /personal_access_tokens/self) are what clients call first to
// check their credentials. Deploy and job tokens are package-registry
// credentials: outside package routes GitLab does not accept them at all,
// so here they are answered like no credentials (401), not with a 403 that
// would suggest a different scope could help.

// apiUser is the user-backed caller of an identity endpoint: a personal,
// project or group access token (the latter two act as their bot user).
func apiUser(p *Principal) (*Principal, error) {
	if !p.Authenticated() || p.User == nil || p.User.ID == 0 {
		return nil, Unauthenticated("401 Unauthorized")
	}
	if p.Token != nil && (p.Token.Kind == enum.DeployToken || p.Token.Kind == enum.JobToken) {
		return nil, Unauthenticated("401 Unauthorized")
	}
	return p, nil
}

// requireReadAPI is apiUser plus GitLab's scope check: reading users and
// instance metadata needs api or read_api (GitLab also accepts read_user,
// which this registry does not issue).
func requireReadAPI(p *Principal) error {
	if _, err := apiUser(p); err != nil {
		return err
	}
	if !p.HasScope(readAPIScopes...) {
		return Forbidden("403 Forbidden - insufficient_scope: this request needs a token with the API or READ_API scope")
	}
	return nil
}

// RequireAPIRead is GitLab's credential rule for the REST API outside the
// package routes (projects, groups): anonymous callers are let through to
// see public objects; a credential must be a personal, project or group
// access token with api or read_api (403 insufficient_scope otherwise), and
// deploy and job tokens, package-registry credentials only, get 401.
func RequireAPIRead(p *Principal) error {
	if !p.Authenticated() {
		return nil
	}
	return requireReadAPI(p)
}

// CurrentUser is the user behind the caller's token (GET /user).
func (us *Users) CurrentUser(p *Principal) (*ent.User, error) {
	if err := requireReadAPI(p); err != nil {
		return nil, err
	}
	return p.User, nil
}

// UserFilter is GitLab's /users filters: an exact username, or a search
// of usernames and names (both case-insensitive, as GitLab's).
type UserFilter struct{ Username, Search string }

// ListUsers lists users, newest first as GitLab does. Users are
// visible to signed-in callers only (as UserByUsername), so anonymous
// callers get 401 rather than an empty list that would read as "no such
// user". Bot users stay out, as they do from UserByUsername.
func (us *Users) ListUsers(ctx context.Context, p *Principal, f UserFilter, page Offset) ([]*ent.User, int, error) {
	if err := requireReadAPI(p); err != nil {
		return nil, 0, err
	}
	page.Normalize()
	q := us.s.db.User.Query().Where(user.Bot(false))
	if f.Username != "" {
		q = q.Where(user.UsernameEqualFold(f.Username))
	}
	if f.Search != "" {
		q = q.Where(user.Or(user.UsernameContainsFold(f.Search), user.NameContainsFold(f.Search)))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, DBError(err, "")
	}
	rows, err := q.Order(ent.Desc(user.FieldID)).Offset((page.Page - 1) * page.PerPage).Limit(page.PerPage).All(ctx)
	if err != nil {
		return nil, 0, DBError(err, "")
	}
	return rows, total, nil
}

// CurrentToken is the caller's own token (GET /personal_access_tokens/self).
// Any scope may ask: the answer is only the token's own metadata, and CI
// tooling uses it to check a package-only token before it uploads. Project
// and group access tokens answer too (they are tokens of bot users, as in
// GitLab); deploy and job tokens are not personal access tokens (401).
func (us *Users) CurrentToken(p *Principal) (*ent.AccessToken, error) {
	if _, err := apiUser(p); err != nil {
		return nil, err
	}
	if p.Token == nil {
		// The CLI's System principal has no token to describe.
		return nil, NotFound("404 Not Found")
	}
	return p.Token, nil
}

// Build identifies this registry's build for /version and /metadata.
type Build struct{ Version, Revision string }

// Version and Revision may be set at link time
// (-ldflags "-X github.com/pkgreg/registry/server/registry.Version=1.2.3");
// otherwise they come from the module and VCS information Go stamps into
// the binary.
var Version, Revision string

// BuildInfo returns the registry's version and revision. Without a release
// version it answers "0.0.0-dev", which still parses as a version for
// clients that compare them; the revision is the short commit, as GitLab's.
func (us *Users) BuildInfo(p *Principal) (Build, error) {
	if err := requireReadAPI(p); err != nil {
		return Build{}, err
	}
	return buildInfo(), nil
}

func buildInfo() Build {
	b := Build{Version: Version, Revision: Revision}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" && b.Revision == "" {
				b.Revision = kv.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "0.0.0-dev"
	}
	if len(b.Revision) > 11 {
		b.Revision = b.Revision[:11]
	}
	if b.Revision == "" {
		b.Revision = "unknown"
	}
	return b
}
