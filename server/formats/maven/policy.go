package maven

import (
	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// checkVersionPolicy refuses a file whose version the project's version
// policy does not accept: a RELEASE project takes no SNAPSHOT versions, a
// SNAPSHOT project nothing else. Every file PUT calls it, after the project
// checks and before anything is stored. The policy itself is a project
// setting the core validates (only STANDARD Maven projects have one; a
// VIRTUAL project serves whatever its upstreams hold).
func checkVersionPolicy(prj *ent.Project, version string) error {
	if prj.VersionPolicy == nil {
		return nil
	}
	snapshot := isSnapshot(version)
	switch *prj.VersionPolicy {
	case enum.VersionRelease:
		if snapshot {
			return registry.Invalid("%s has version policy RELEASE: it accepts release versions only, not the SNAPSHOT version %s", prj.FullPath, version)
		}
	case enum.VersionSnapshot:
		if !snapshot {
			return registry.Invalid("%s has version policy SNAPSHOT: it accepts SNAPSHOT versions only, not the release version %s", prj.FullPath, version)
		}
	}
	return nil
}
