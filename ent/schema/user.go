package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User is a person (or a bot) that can own tokens and be a member.
type User struct{ ent.Schema }

func (User) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").Unique().NotEmpty().MaxLen(255),
		field.String("name").Default(""),
		field.String("email").Default(""),
		field.Bool("admin").Default(false),
		// bot users back project and group access tokens, as in GitLab.
		field.Bool("bot").Default(false),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", Member.Type),
		edge.To("tokens", AccessToken.Type),
		// namespace is the personal namespace.
		edge.To("namespace", Namespace.Type).Unique(),
	}
}
