package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/accesstoken"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Tokens owns access tokens: authenticating a presented secret, creating
// personal, project, group, deploy and job tokens (with the bot users the
// project and group tokens act as), and revoking and showing them to those
// who manage them. Reach it as Service.Tokens.
type Tokens struct{ s *Service }

// Token secrets carry GitLab's prefixes so that secret scanners and people
// recognise them.
var tokenPrefix = map[enum.TokenKind]string{
	enum.PersonalToken: "glpat-",
	enum.ProjectToken:  "glpat-",
	enum.GroupToken:    "glpat-",
	enum.DeployToken:   "gldt-",
	enum.JobToken:      "glcbt-",
}

const (
	maxJobTokenLifetime = 24 * time.Hour
	// lastUsedResolution limits last_used_at writes to one a minute per token
	// so that authentication is not a database write on every request.
	lastUsedResolution = time.Minute
)

func digest(secret string) []byte {
	d := sha256.Sum256([]byte(secret))
	return d[:]
}

func newSecret(kind enum.TokenKind) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return tokenPrefix[kind] + base64.RawURLEncoding.EncodeToString(b)
}

// Authenticate resolves a presented secret to a principal. Unknown, expired
// and revoked tokens are all "401 Unauthorized" with no hint which.
func (ts *Tokens) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if secret == "" || len(secret) > 1024 {
		return nil, Unauthenticated("401 Unauthorized")
	}
	d := digest(secret)
	t, err := ts.s.db.AccessToken.Query().Where(accesstoken.Digest(d)).WithUser().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, Unauthenticated("401 Unauthorized")
	}
	if err != nil {
		return nil, Unavailable(err, "could not check the token")
	}
	// The indexed lookup is by digest, so timing reveals nothing about the
	// secret; the constant-time compare guards against a future index
	// that matches on a prefix.
	now := ts.s.now()
	if subtle.ConstantTimeCompare(t.Digest, d) != 1 || t.RevokedAt != nil || (t.ExpiresAt != nil && !t.ExpiresAt.After(now)) {
		return nil, Unauthenticated("401 Unauthorized")
	}
	if t.Kind != enum.DeployToken && t.Edges.User == nil {
		return nil, Unauthenticated("401 Unauthorized")
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedResolution {
		// Coalesced and written in the background (usage.go): no write on
		// the request path.
		ts.s.noteTokenUse(t.ID, now)
	}
	return &Principal{User: t.Edges.User, Token: t}, nil
}

// TokenInput is what every token-creating call takes.
type TokenInput struct {
	Name        string
	Scopes      []enum.Scope
	ExpiresAt   *time.Time
	AccessLevel enum.AccessLevel // project and group tokens
	Username    string           // deploy tokens
}

// NewToken is a created token with its one-time plaintext.
type NewToken struct {
	Token  *ent.AccessToken
	Secret string
}

func (ts *Tokens) validateTokenInput(in *TokenInput, allowed []enum.Scope) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return Invalid("name can't be blank")
	}
	if len(in.Name) > 255 {
		return Invalid("name is too long (maximum is 255 characters)")
	}
	if len(in.Scopes) == 0 {
		return Invalid("scopes can't be blank")
	}
	seen := map[enum.Scope]bool{}
	for _, sc := range in.Scopes {
		if !slices.Contains(allowed, sc) {
			return Invalid("scope %s is not allowed for this kind of token", strings.ToUpper(string(sc)))
		}
		seen[sc] = true
	}
	in.Scopes = in.Scopes[:0]
	for _, sc := range allowed {
		if seen[sc] {
			in.Scopes = append(in.Scopes, sc)
		}
	}
	return validateExpiry(in.ExpiresAt, ts.s.now())
}

var allScopes = []enum.Scope{enum.ScopeAPI, enum.ScopeReadAPI, enum.ScopeReadPackageRegistry, enum.ScopeWritePackageRegistry}

// insertToken stores a token and returns it with its secret.
func (ts *Tokens) insertToken(ctx context.Context, tx *ent.Tx, kind enum.TokenKind, in TokenInput, p *Principal, set func(*ent.AccessTokenCreate)) (*NewToken, error) {
	secret := newSecret(kind)
	c := tx.AccessToken.Create().SetKind(kind).SetName(in.Name).SetDigest(digest(secret)).
		SetScopes(in.Scopes).SetAccessLevel(in.AccessLevel).SetNillableExpiresAt(in.ExpiresAt)
	if p.User != nil && p.User.ID != 0 {
		c.SetCreatedByID(p.User.ID)
	}
	set(c)
	t, err := c.Save(ctx)
	if err != nil {
		return nil, DBError(err, "token could not be stored")
	}
	return &NewToken{Token: t, Secret: secret}, nil
}

// CreatePersonalAccessToken creates a token for username: the user
// themself or an administrator.
func (ts *Tokens) CreatePersonalAccessToken(ctx context.Context, p *Principal, username string, in TokenInput) (*NewToken, error) {
	if err := requireAPIWrite(p); err != nil {
		return nil, err
	}
	u, err := ts.s.Users.UserByUsername(ctx, p, username)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() && (p.User == nil || p.User.ID != u.ID || p.Token.Kind != enum.PersonalToken) {
		return nil, Forbidden("you can only create personal access tokens for yourself")
	}
	if err := ts.validateTokenInput(&in, allScopes); err != nil {
		return nil, err
	}
	in.AccessLevel = 0
	var nt *NewToken
	err = ts.s.withTx(ctx, func(tx *ent.Tx) error {
		nt, err = ts.insertToken(ctx, tx, enum.PersonalToken, in, p, func(c *ent.AccessTokenCreate) { c.SetUserID(u.ID) })
		return err
	})
	return nt, err
}

// checkGrantable validates a role to hand out: callers may not grant more
// than they have, and only owners may grant OWNER.
func checkGrantable(level, callerLevel enum.AccessLevel) error {
	if !level.Valid() {
		return Invalid("accessLevel must be GUEST, REPORTER, DEVELOPER, MAINTAINER or OWNER")
	}
	if level > callerLevel {
		return Forbidden("you cannot grant the %s role, which is higher than your own", strings.ToUpper(level.String()))
	}
	return nil
}

// CreateProjectAccessToken creates a bot user bound to the project with the
// given role, as GitLab does. MAINTAINER+ on the project.
func (ts *Tokens) CreateProjectAccessToken(ctx context.Context, p *Principal, projectPath string, in TokenInput) (*NewToken, error) {
	pa, err := ts.s.projectForAdmin(ctx, p, projectPath, enum.Maintainer, "creating project access tokens")
	if err != nil {
		return nil, err
	}
	if err := ts.validateTokenInput(&in, allScopes); err != nil {
		return nil, err
	}
	if err := checkGrantable(in.AccessLevel, pa.Level); err != nil {
		return nil, err
	}
	return ts.createBotToken(ctx, p, enum.ProjectToken, fmt.Sprintf("project_%d_bot_", pa.Project.ID), in,
		func(c *ent.AccessTokenCreate) { c.SetProjectID(pa.Project.ID) })
}

// CreateGroupAccessToken is CreateProjectAccessToken for a group and its
// descendants. OWNER on the group.
func (ts *Tokens) CreateGroupAccessToken(ctx context.Context, p *Principal, groupPath string, in TokenInput) (*NewToken, error) {
	na, err := ts.s.groupForAdmin(ctx, p, groupPath, enum.Owner, "creating group access tokens")
	if err != nil {
		return nil, err
	}
	if err := ts.validateTokenInput(&in, allScopes); err != nil {
		return nil, err
	}
	if err := checkGrantable(in.AccessLevel, na.Level); err != nil {
		return nil, err
	}
	return ts.createBotToken(ctx, p, enum.GroupToken, fmt.Sprintf("group_%d_bot_", na.Namespace.ID), in,
		func(c *ent.AccessTokenCreate) { c.SetNamespaceID(na.Namespace.ID) })
}

func (ts *Tokens) createBotToken(ctx context.Context, p *Principal, kind enum.TokenKind, botPrefix string, in TokenInput, bind func(*ent.AccessTokenCreate)) (*NewToken, error) {
	var nt *NewToken
	err := ts.s.withTx(ctx, func(tx *ent.Tx) error {
		suffix := make([]byte, 6)
		_, _ = rand.Read(suffix)
		bot, err := ts.s.createUserTx(ctx, tx, CreateUserInput{Username: botPrefix + fmt.Sprintf("%x", suffix), Name: in.Name + " (bot)"}, true)
		if err != nil {
			return err
		}
		nt, err = ts.insertToken(ctx, tx, kind, in, p, func(c *ent.AccessTokenCreate) { c.SetUserID(bot.ID); bind(c) })
		return err
	})
	return nt, err
}

var deployScopes = []enum.Scope{enum.ScopeReadPackageRegistry, enum.ScopeWritePackageRegistry}

// CreateDeployToken creates a deploy token for a project (MAINTAINER+) or a
// group (OWNER). Deploy tokens carry only package registry scopes.
func (ts *Tokens) CreateDeployToken(ctx context.Context, p *Principal, fullPath string, in TokenInput) (*NewToken, error) {
	if err := validateFullPath("fullPath", fullPath); err != nil {
		return nil, err
	}
	var bind func(*ent.AccessTokenCreate)
	if pa, perr := ts.s.projectForAdmin(ctx, p, fullPath, enum.Maintainer, "creating deploy tokens"); perr == nil {
		bind = func(c *ent.AccessTokenCreate) { c.SetProjectID(pa.Project.ID) }
	} else if KindOf(perr) != KindNotFound {
		return nil, perr
	} else if na, gerr := ts.s.groupForAdmin(ctx, p, fullPath, enum.Owner, "creating group deploy tokens"); gerr == nil {
		bind = func(c *ent.AccessTokenCreate) { c.SetNamespaceID(na.Namespace.ID) }
	} else {
		return nil, gerr
	}
	if err := ts.validateTokenInput(&in, deployScopes); err != nil {
		return nil, err
	}
	if in.Username != "" {
		if err := ValidatePath("username", in.Username); err != nil {
			return nil, err
		}
	}
	in.AccessLevel = 0
	var nt *NewToken
	err := ts.s.withTx(ctx, func(tx *ent.Tx) error {
		var err error
		nt, err = ts.insertToken(ctx, tx, enum.DeployToken, in, p, bind)
		if err != nil {
			return err
		}
		if in.Username == "" {
			// GitLab's default deploy token username.
			in.Username = fmt.Sprintf("gitlab+deploy-token-%d", nt.Token.ID)
		}
		nt.Token, err = nt.Token.Update().SetUsername(in.Username).Save(ctx)
		return DBError(err, "")
	})
	return nt, err
}

// CreateJobToken creates a short-lived token that acts for the caller on one
// project only (at most DEVELOPER), for external CI systems. DEVELOPER+.
func (ts *Tokens) CreateJobToken(ctx context.Context, p *Principal, projectPath string, expiresIn time.Duration) (*NewToken, error) {
	pa, err := ts.s.projectForAdmin(ctx, p, projectPath, enum.Developer, "creating job tokens")
	if err != nil {
		return nil, err
	}
	if p.User == nil || p.User.ID == 0 || p.User.Bot {
		return nil, Forbidden("job tokens act for a user; use a personal access token")
	}
	if expiresIn <= 0 || expiresIn > maxJobTokenLifetime {
		return nil, Invalid("expiresIn must be between 1 and %d seconds", int(maxJobTokenLifetime.Seconds()))
	}
	exp := ts.s.now().Add(expiresIn)
	in := TokenInput{Name: "job token", Scopes: []enum.Scope{enum.ScopeReadPackageRegistry, enum.ScopeWritePackageRegistry}, ExpiresAt: &exp}
	var nt *NewToken
	err = ts.s.withTx(ctx, func(tx *ent.Tx) error {
		nt, err = ts.insertToken(ctx, tx, enum.JobToken, in, p, func(c *ent.AccessTokenCreate) {
			c.SetProjectID(pa.Project.ID).SetUserID(p.User.ID)
		})
		return err
	})
	return nt, err
}

// RevokeToken revokes a token. Allowed: its user (personal), MAINTAINER+ of
// its project, OWNER of its group, the user who created it, administrators.
func (ts *Tokens) RevokeToken(ctx context.Context, p *Principal, id int) (*ent.AccessToken, error) {
	if err := requireAPIWrite(p); err != nil {
		return nil, err
	}
	t, err := ts.VisibleToken(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return t, nil
	}
	t, err = t.Update().SetRevokedAt(ts.s.now()).Save(ctx)
	return t, DBError(err, "")
}

// VisibleToken returns a token's metadata if p manages it.
func (ts *Tokens) VisibleToken(ctx context.Context, p *Principal, id int) (*ent.AccessToken, error) {
	t, err := ts.s.db.AccessToken.Get(ctx, id)
	if err != nil {
		return nil, NotFound("token not found")
	}
	if ok, err := ts.managesToken(ctx, p, t); err != nil || !ok {
		if err == nil {
			err = NotFound("token not found")
		}
		return nil, err
	}
	return t, nil
}

func (ts *Tokens) managesToken(ctx context.Context, p *Principal, t *ent.AccessToken) (bool, error) {
	if p.IsAdmin() {
		return true, nil
	}
	if p.User == nil || (p.Token != nil && p.Token.Kind != enum.PersonalToken) {
		return false, nil
	}
	if (t.Kind == enum.PersonalToken && t.UserID != nil && *t.UserID == p.User.ID) ||
		(t.CreatedByID != nil && *t.CreatedByID == p.User.ID) {
		return true, nil
	}
	switch {
	case t.ProjectID != nil:
		prj, err := ts.s.db.Project.Get(ctx, *t.ProjectID)
		if err != nil {
			return false, DBError(err, "")
		}
		pa, err := ts.s.projectAccess(ctx, p, prj)
		return err == nil && pa.Level >= enum.Maintainer, nil
	case t.NamespaceID != nil:
		ns, err := ts.s.db.Namespace.Get(ctx, *t.NamespaceID)
		if err != nil {
			return false, DBError(err, "")
		}
		na, err := ts.s.Namespace(ctx, p, ns.FullPath)
		return err == nil && na.Level >= enum.Owner, nil
	}
	return false, nil
}
