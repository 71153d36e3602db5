package maven

import (
	"context"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
)

// Metadata renders the maven-metadata.xml of a directory from the rows.
func (f *Format) Metadata(ctx context.Context, p *registry.Principal, ref, dir string) ([]byte, error) {
	return nil, registry.NotFound("404 Not found")
}

func parsePlugins(b []byte) ([]plugin, error) { return nil, nil }

type plugin struct{ Name, Prefix, ArtifactID string }

func (f *Format) recordPlugins(ctx context.Context, prj *ent.Project, dir string, plugins []plugin) error {
	return nil
}
