package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/pkgreg/registry/server/registry/enum"
)

// AccessToken is any credential: personal, project, group, deploy or job.
// Only the SHA-256 of the secret is stored.
type AccessToken struct{ ent.Schema }

func (AccessToken) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (AccessToken) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").GoType(enum.TokenKind("")).Immutable(),
		field.String("name").NotEmpty().MaxLen(255),
		field.Bytes("digest").Unique().Immutable().Sensitive(),
		field.JSON("scopes", []enum.Scope{}),
		// user_id: the owner of a personal token, the bot user of a project or
		// group token, the user a job token acts for. Empty for deploy tokens.
		field.Int("user_id").Optional().Nillable(),
		// project_id / namespace_id bind project, group, deploy and job tokens.
		field.Int("project_id").Optional().Nillable(),
		field.Int("namespace_id").Optional().Nillable(),
		// access_level caps what a project or group token may do.
		field.Int("access_level").GoType(enum.AccessLevel(0)).Default(0),
		// username is what deploy tokens present (gitlab+deploy-token-N).
		field.String("username").Default(""),
		field.Int("created_by_id").Optional().Nillable(),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
	}
}

func (AccessToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("tokens").Field("user_id").Unique(),
	}
}

func (AccessToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("project_id"), index.Fields("namespace_id")}
}
