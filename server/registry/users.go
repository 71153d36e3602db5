package registry

import (
	"context"
	"net/mail"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/user"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Users owns user accounts and the identity endpoints: creating users
// (with their personal namespaces), the root bootstrap, looking users up,
// the current user and token, and the instance's build information. Reach
// it as Service.Users.
type Users struct{ s *Service }

// CreateUserInput describes a new user.
type CreateUserInput struct {
	Username string
	Name     string
	Email    string
	Admin    bool
}

// CreateUser creates a user and its personal namespace. Administrators only.
func (us *Users) CreateUser(ctx context.Context, p *Principal, in CreateUserInput) (*ent.User, error) {
	if !p.IsAdmin() || !p.HasScope(writeAPIScopes...) {
		return nil, Forbidden("only administrators with an api-scoped token can create users")
	}
	if err := ValidatePath("username", in.Username); err != nil {
		return nil, err
	}
	if in.Name == "" {
		in.Name = in.Username
	}
	if len(in.Name) > maxNameLen {
		return nil, Invalid("name is too long (maximum is %d characters)", maxNameLen)
	}
	if in.Email != "" {
		if _, err := mail.ParseAddress(in.Email); err != nil || strings.ContainsAny(in.Email, "<> ") {
			return nil, Invalid("email %q is not a valid address", in.Email)
		}
	}
	var u *ent.User
	err := us.s.withTx(ctx, func(tx *ent.Tx) error {
		var err error
		u, err = us.s.createUserTx(ctx, tx, in, false)
		return err
	})
	return u, err
}

// createUserTx creates the user row, its personal namespace and the route
// that reserves the username as a top-level path. It is the Service's
// because Users (people) and Tokens (project and group bots) both use it.
func (s *Service) createUserTx(ctx context.Context, tx *ent.Tx, in CreateUserInput, bot bool) (*ent.User, error) {
	if !bot {
		if taken, err := tx.Route.Query().Where(routePathFold(in.Username)).Exist(ctx); err != nil {
			return nil, Internal(err, "could not check the username")
		} else if taken {
			return nil, Conflict("username %q has already been taken", in.Username)
		}
	}
	u, err := tx.User.Create().SetUsername(in.Username).SetName(in.Name).SetEmail(in.Email).
		SetAdmin(in.Admin).SetBot(bot).Save(ctx)
	if err != nil {
		return nil, DBError(err, "username "+in.Username+" has already been taken")
	}
	if bot {
		return u, nil // bots have no namespace, like GitLab's project bots
	}
	ns, err := tx.Namespace.Create().SetKind(enum.UserNamespace).SetPath(in.Username).
		SetFullPath(in.Username).SetName(in.Name).SetVisibility(enum.Public).SetOwnerID(u.ID).Save(ctx)
	if err != nil {
		return nil, DBError(err, "path "+in.Username+" has already been taken")
	}
	if err := claimRoute(ctx, tx, ns.FullPath, &ns.ID, nil); err != nil {
		return nil, err
	}
	return u, nil
}

// UserByUsername returns a user; users are visible to signed-in callers.
func (us *Users) UserByUsername(ctx context.Context, p *Principal, username string) (*ent.User, error) {
	if !p.Authenticated() {
		return nil, NotFound("user %q not found", username)
	}
	u, err := us.s.db.User.Query().Where(user.Username(username), user.Bot(false)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, NotFound("user %q not found", username)
	}
	return u, DBError(err, "")
}

// EnsureRoot creates the administrator "root" with a personal token of the
// given value, if no user exists yet. It reports whether it created them.
func (us *Users) EnsureRoot(ctx context.Context, token string) (bool, error) {
	if len(token) < 20 {
		return false, Invalid("the initial root token must be at least 20 characters")
	}
	created := false
	err := us.s.withTx(ctx, func(tx *ent.Tx) error {
		n, err := tx.User.Query().Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		u, err := us.s.createUserTx(ctx, tx, CreateUserInput{Username: "root", Name: "Administrator", Admin: true}, false)
		if err != nil {
			return err
		}
		_, err = tx.AccessToken.Create().SetKind(enum.PersonalToken).SetName("initial root token").
			SetDigest(digest(token)).SetScopes([]enum.Scope{enum.ScopeAPI}).SetUserID(u.ID).Save(ctx)
		created = err == nil
		return DBError(err, "the initial root token already exists")
	})
	return created, err
}
