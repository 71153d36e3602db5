package registry

import (
	"context"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/project"
	"github.com/pkgreg/registry/server/registry/enum"
)

// MaxGroupReadSources bounds GroupReadSources: a read at the group level
// looks in at most this many projects (the newest ones, STANDARD first). A
// format that serves reads per group looks a file up in all of them at
// once (StoredFiles), so the bound keeps that one query small.
const MaxGroupReadSources = 100

// errGroupNotFound is errProjectNotFound for a group: no such group, or p
// may not see it. IsProjectNotFound reports it too, so that a format's
// group route answers an anonymous caller with the same 401 challenge as
// its project route, and a signed-in one with 404.
var errGroupNotFound = &Error{Kind: KindNotFound, Message: "404 Group Not Found"}

// GroupReadSources lists the projects a read at the group level looks in
// (GitLab's /groups/:id/-/packages/<format>/... routes): the projects in
// the group and its subgroups whose packages p may read, with packages
// enabled, whose format is format or unset, newest first (created time,
// then id), at most MaxGroupReadSources of them. groupRef is a numeric id
// or a full path, as the REST group routes take it. A group that does not
// exist or that p may not see is errGroupNotFound ([IsProjectNotFound]);
// a token that may not read packages is Forbidden.
//
// Who may read what is decided exactly as for group package listings
// (Packages.GroupPackageScope, the same readablePackageProjects
// predicate), so a group route never widens any project's audience.
//
// Two choices beyond GitLab, which has neither kind of project:
//
//   - VIRTUAL projects in the group are skipped, not expanded. Their
//     upstreams may lie outside the group, and they reach the virtual
//     project's readers through links approved for that project alone
//     (audience.go); a group read is a read of what the group's own
//     projects hold. Upstreams inside the group are listed anyway, as
//     projects of the group.
//   - REMOTE projects come after every STANDARD one (newest first among
//     themselves), not by age: a public mirror created after a private
//     project must not shadow its artifacts. The two kinds also form
//     separate tiers for ResolveName (every source has priority 0), so the
//     dependency-confusion guard of ReadSources holds here too.
func (s *Service) GroupReadSources(ctx context.Context, p *Principal, groupRef string, format enum.Format) ([]Source, error) {
	na, err := s.Packages.packageGroup(ctx, p, groupRef)
	if err != nil {
		return nil, err
	}
	if na == nil {
		return nil, errGroupNotFound
	}
	readable, err := s.Packages.readablePackageProjects(ctx, p, na, false)
	if err != nil {
		return nil, err
	}
	servesFormat := project.Or(project.FormatEQ(format), project.FormatIsNil())
	out := make([]Source, 0, 8)
	for _, mode := range []enum.RepositoryMode{enum.Standard, enum.Remote} {
		if len(out) >= MaxGroupReadSources {
			break
		}
		prjs, err := s.db.Project.Query().Where(readable, servesFormat, project.RepositoryModeEQ(mode)).
			Order(ent.Desc(project.FieldCreatedAt), ent.Desc(project.FieldID)).Limit(MaxGroupReadSources - len(out)).All(ctx)
		if err != nil {
			return nil, Internal(err, "could not read the group's projects")
		}
		for _, prj := range prjs {
			out = append(out, Source{Project: prj, reader: p})
		}
	}
	return out, nil
}
