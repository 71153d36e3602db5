// Package graph holds the GraphQL resolvers: each takes the principal from
// the context, calls the domain layer and shapes the result. No rules here.
package graph

//go:generate go tool -C .. gqlgen generate

import (
	"log/slog"

	"github.com/pkgreg/registry/server/formats/pypi"
	"github.com/pkgreg/registry/server/registry"
)

// Resolver is the root resolver.
type Resolver struct {
	Svc *registry.Service
	Log *slog.Logger
	// PyPI serves the PyPI format's own mutation (yankPypiRelease).
	PyPI *pypi.Format
}

// Formats are the format packages whose GraphQL fields the resolvers
// serve: the fields shared by every format go to the core (Svc).
type Formats struct {
	PyPI *pypi.Format
}
