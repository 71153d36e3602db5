package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/pkgreg/registry/server/registry/enum"
)

// Project is a package repository: standard (hosted), remote (pull-through
// cache) or virtual (an ordered view over other projects).
type Project struct{ ent.Schema }

func (Project) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Project) Fields() []ent.Field {
	return []ent.Field{
		field.Int("namespace_id"),
		field.String("path").NotEmpty().MaxLen(255),
		field.String("full_path").Unique().NotEmpty().MaxLen(1024),
		field.String("name").NotEmpty().MaxLen(255),
		field.String("description").Default(""),
		field.Enum("visibility").GoType(enum.Visibility("")).Default(string(enum.Private)),
		field.Bool("packages_enabled").Default(true),
		field.Enum("repository_mode").GoType(enum.RepositoryMode("")).Default(string(enum.Standard)).Immutable(),
		// format is the one package format a REMOTE or VIRTUAL project serves.
		field.Enum("format").GoType(enum.Format("")).Optional().Nillable(),
		field.String("remote_url").Optional().Nillable(),
		field.String("remote_username").Optional().Nillable().Sensitive(),
		// remote_secret is the upstream password/token, sealed with the
		// server's key (AES-GCM); never returned by any API.
		field.Bytes("remote_secret").Optional().Nillable().Sensitive(),
		field.Int("remote_cache_ttl_seconds").Default(86400).NonNegative(),
		field.Bool("remote_serve_stale").Default(true),
		// version_policy restricts a STANDARD Maven project to releases or
		// to SNAPSHOTs; nil accepts both. The core refuses it elsewhere.
		field.Enum("version_policy").GoType(enum.VersionPolicy("")).Optional().Nillable(),
	}
}

func (Project) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("namespace", Namespace.Type).Ref("projects").Field("namespace_id").Unique().Required(),
		edge.To("members", Member.Type),
		edge.To("packages", Pkg.Type),
		edge.To("upstreams", Upstream.Type),
		edge.To("downstreams", Upstream.Type),
		edge.To("package_tags", PackageTag.Type),
		edge.To("remote_documents", RemoteDocument.Type),
	}
}

func (Project) Indexes() []ent.Index {
	return []ent.Index{index.Fields("namespace_id", "path").Unique()}
}
