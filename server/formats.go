package server

import (
	"github.com/pkgreg/registry/graph"
	"github.com/pkgreg/registry/server/formats/generic"
	"github.com/pkgreg/registry/server/formats/gomod"
	"github.com/pkgreg/registry/server/formats/maven"
	"github.com/pkgreg/registry/server/formats/npm"
	"github.com/pkgreg/registry/server/formats/pypi"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/rest"
)

// Format is one package format: the core's hooks (registry.Format) and
// the format's own HTTP routes. A format lives in server/formats/<name>,
// imports the core (server/registry) and the shared HTTP helpers
// (server/rest), and never another format.
type Format interface {
	registry.Format
	// Routes adds the format's routes, each behind authentication.
	Routes(handle rest.HandleFunc)
}

// formats are the formats this registry serves. Adding a format is one
// line here.
func formats(svc *registry.Service, api *rest.API) []Format {
	return []Format{
		generic.New(svc, api),
		pypi.New(svc, api),
		npm.New(svc, api),
		gomod.New(svc, api),
		maven.New(svc, api),
	}
}

// graphFormats hands the GraphQL resolvers the formats that have GraphQL
// fields of their own (PyPI's yankPypiRelease).
func graphFormats(fs []Format) graph.Formats {
	var g graph.Formats
	for _, f := range fs {
		if p, ok := f.(*pypi.Format); ok {
			g.PyPI = p
		}
	}
	return g
}
