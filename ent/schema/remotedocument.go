package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RemoteDocument is a REMOTE project's cached copy of one upstream metadata
// document (a PyPI simple page, an npm packument, a Go version list). It is
// fresh for the project's cache TTL; after that it is revalidated, and
// served stale when the upstream is down and the project allows it.
// Package files are not documents: they are cached as package files.
type RemoteDocument struct{ ent.Schema }

func (RemoteDocument) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id"),
		// key names the document within the project (format-defined).
		field.String("key").NotEmpty().MaxLen(2048),
		// status is the upstream's answer: 200, or 404/410 for a cached miss.
		field.Int("status"),
		field.Bytes("body").Optional(),
		field.String("content_type").Default(""),
		field.String("etag").Default(""),
		field.Time("fetched_at"),
	}
}

func (RemoteDocument) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).Ref("remote_documents").Field("project_id").Unique().Required(),
	}
}

func (RemoteDocument) Indexes() []ent.Index {
	return []ent.Index{index.Fields("project_id", "key").Unique()}
}
