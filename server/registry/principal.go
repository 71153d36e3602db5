package registry

import (
	"context"
	"slices"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Principal is who is calling: anonymous, a user through a token, or a
// deploy token (no user). Build it with Tokens.Authenticate.
type Principal struct {
	// User is nil for anonymous callers and deploy tokens.
	User *ent.User
	// Token is nil for anonymous callers and for operators using the CLI.
	Token *ent.AccessToken
}

// Anonymous is the principal of a request without credentials.
var Anonymous = &Principal{}

// System is the principal of trusted operator paths (CLI, first start).
var System = &Principal{User: &ent.User{Username: "system", Admin: true}}

// Authenticated reports whether any credential was presented.
func (p *Principal) Authenticated() bool { return p != nil && (p.User != nil || p.Token != nil) }

// IsAdmin reports an administrator acting with a personal token (or the CLI).
func (p *Principal) IsAdmin() bool {
	return p != nil && p.User != nil && p.User.Admin && (p.Token == nil || p.Token.Kind == enum.PersonalToken)
}

// signedInPerson reports a human user acting with their own credentials (a
// personal token, or the CLI): the callers that see INTERNAL objects. Bots,
// deploy tokens and job tokens only see what they are bound to or what is
// public.
func (p *Principal) signedInPerson() bool {
	return p != nil && p.User != nil && !p.User.Bot && (p.Token == nil || p.Token.Kind == enum.PersonalToken)
}

// HasScope reports whether the credential carries any of the scopes. The
// CLI's System principal carries all of them.
func (p *Principal) HasScope(scopes ...enum.Scope) bool {
	if p == nil || !p.Authenticated() {
		return false
	}
	if p.Token == nil {
		return true
	}
	for _, s := range scopes {
		if slices.Contains(p.Token.Scopes, s) {
			return true
		}
	}
	return false
}

// Scope sets for the kinds of operation.
var (
	readPackageScopes  = []enum.Scope{enum.ScopeAPI, enum.ScopeReadAPI, enum.ScopeReadPackageRegistry}
	writePackageScopes = []enum.Scope{enum.ScopeAPI, enum.ScopeWritePackageRegistry}
	readAPIScopes      = []enum.Scope{enum.ScopeAPI, enum.ScopeReadAPI}
	writeAPIScopes     = []enum.Scope{enum.ScopeAPI}
)

type principalKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or Anonymous.
func PrincipalFrom(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok && p != nil {
		return p
	}
	return Anonymous
}

// AuthorizeAPI checks that p may use the API (GraphQL) at all: anonymous
// callers may (they see public objects), tokens need the api or read_api
// scope. Package-registry-only tokens (deploy, job, read/write_package_registry)
// are for package endpoints, as in GitLab.
func AuthorizeAPI(p *Principal) error {
	if !p.Authenticated() || p.HasScope(readAPIScopes...) {
		return nil
	}
	return Forbidden("403 Forbidden - insufficient_scope: the API needs a token with the API or READ_API scope")
}
