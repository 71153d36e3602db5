package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// NamespacePackageSetting holds a namespace's package rules, as GitLab's
// namespace_package_settings: per format, whether duplicates are allowed and
// a regex of names/versions that are the exception.
type NamespacePackageSetting struct{ ent.Schema }

func (NamespacePackageSetting) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (NamespacePackageSetting) Fields() []ent.Field {
	return []ent.Field{
		field.Int("namespace_id").Unique(),
		field.Bool("generic_duplicates_allowed").Default(true),
		field.String("generic_duplicate_exception_regex").Default("").MaxLen(255),
		// PyPI and npm refuse duplicates by default, as pypi.org and
		// npmjs.com do (and GitLab): lockfiles pin their hashes.
		field.Bool("pypi_duplicates_allowed").Default(false),
		field.String("pypi_duplicate_exception_regex").Default("").MaxLen(255),
		field.Bool("npm_duplicates_allowed").Default(false),
		field.String("npm_duplicate_exception_regex").Default("").MaxLen(255),
		field.Bool("maven_duplicates_allowed").Default(true),
		field.String("maven_duplicate_exception_regex").Default("").MaxLen(255),
	}
}

func (NamespacePackageSetting) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("namespace", Namespace.Type).Ref("package_setting").Field("namespace_id").Unique().Required(),
	}
}
