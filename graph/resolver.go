// Package graph holds the GraphQL resolvers: each takes the principal from
// the context, calls the domain layer and shapes the result. No rules here.
package graph

//go:generate go tool -C .. gqlgen generate

import (
	"log/slog"

	"github.com/pkgreg/registry/server/registry"
)

// Resolver is the root resolver.
type Resolver struct {
	Svc *registry.Service
	Log *slog.Logger
}
