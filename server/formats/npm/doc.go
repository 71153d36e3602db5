// Package npm is the npm package format: the npm registry API of a
// project, in GitLab's layout, over the registry core (server/registry).
//
// # Routes
//
// A project's npm registry URL is /api/v4/projects/:id/packages/npm/, as
// on GitLab, and every route lies below it (http.go):
//
//   - GET {name}, {@scope/name}, {name}/{version-or-tag}: the packument,
//     full (npm view, npm 11) or abbreviated (Accept:
//     application/vnd.npm.install-v1+json, npm install), or one version's
//     manifest; answered with an ETag from the package's revision, so a
//     revalidation (304) skips rendering;
//   - GET {name}/-/{file}: a tarball;
//   - PUT {name} and {name}/-rev/{rev}: publish (the tarball streams in
//     base64 inside the JSON document), deprecate, unpublish of a version;
//   - DELETE {name}/-rev/{rev} and {name}/-/{file}/-rev/{rev}: unpublish;
//   - GET, PUT/POST, DELETE -/package/{name}/dist-tags[/{tag}]: dist-tags;
//   - GET -/whoami and -/ping.
//
// Errors have npm's shape, {"error": "<GitLab-style message>"}; an
// anonymous caller asking for a project it cannot see gets 401 with a
// Basic challenge, so that npm sends its token. Tarball URLs in packuments
// are absolute and keep the project reference as the client wrote it, so
// they stay under the registry URL npm has a token for.
//
// # Files
//
//   - format.go: Format, New, Type, DownloadPath (the core's hooks);
//   - http.go: the routes and handlers;
//   - names.go: names, versions, dist-tags, tarball file names, SRI
//     integrity strings (pure functions);
//   - semver.go: semantic version precedence (pure);
//   - packument.go: a name read from a STANDARD project's rows, from a
//     source of a read, and through the repository engine (Packument);
//   - render.go: the packument and version documents as npm sees them,
//     and the abbreviated (install-v1) form of a manifest;
//   - cache.go: the metadata-cache entries of large names and their
//     rendered forms;
//   - remote.go: REMOTE projects: the upstream packument, read as a
//     stream into an index kept in the metadata cache;
//   - tarball.go: tarball downloads (OpenTarball), filling REMOTE ones;
//   - putdoc.go: the streaming reader of the PUT document;
//   - publish.go: publish (PutPackage), with the tarball's package.json
//     checked against the document while the store reads it;
//   - admin.go: deprecate, unpublish and dist-tag changes, guarded by npm's
//     _rev (409 when the package changed since it was read).
//
// # What the core decides
//
// The format checks npm's rules and speaks npm's protocol; everything else
// is the core's: who may read or change a project's packages
// (Service.Project, CanReadPackages, CanWritePackages, CanDeletePackages,
// RequireStandard), the duplicate policy (DuplicatesAllowed), which
// projects a read looks in and which tier owns a name (ReadSources,
// ResolveName: the dependency-confusion guard), storing and serving files
// (AddPackageFile, StoredFile, OpenFirst with RemoteFile for REMOTE
// fills), upstream documents (Remote.Document, Remote.OpenDocument), a name's
// change stamp (NameStamp), deletion (DeletePackagesTx inside RetryTx),
// and the metadata cache (Meta: Get, Put, Load).
package npm
