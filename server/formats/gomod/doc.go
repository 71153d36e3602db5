// Package gomod is the Go modules format: a GOPROXY for each project, and
// the registry's own upload of a module version's zip.
//
// # Routes
//
// Under /api/v4/projects/:id/packages/go/ (the GOPROXY base URL, the path
// GitLab's Go proxy uses), with module path and version case-encoded as
// the go command sends them ("!" before a lower-cased upper-case letter):
//
//	GET/HEAD <module>/@v/list             the versions, in semver order
//	GET/HEAD <module>/@latest             .info of the version "latest" picks
//	GET/HEAD <module>/@v/<version>.info   {"Version", "Time"}
//	GET/HEAD <module>/@v/<version>.mod    the version's go.mod
//	GET/HEAD <module>/@v/<version>.zip    the module zip
//	PUT      <module>/@v/<version>.zip    publish a version (not part of
//	                                      the protocol; .mod and .info are
//	                                      derived from the zip, so a PUT of
//	                                      either is a 405)
//
// A read that fails validation answers 404, never 400, because the go
// command falls through to the next GOPROXY entry only on 404 and 410.
//
// # Storage
//
// A module version is one package (name: the module path, version: the
// canonical semantic version) with one file, "<version>.zip"; its go.mod
// is taken from the zip at upload and kept in the package's metadata, and
// .info's Time is the package's creation time. Versions are immutable
// whatever the namespace's duplicate setting (go.sum pins them): the same
// zip again is an idempotent 200, a different one a 409. REMOTE projects
// cache the upstream's .info, .mod and .zip as three files of the
// version's package; VIRTUAL projects read only from the tier that owns
// the module path (dependency confusion).
//
// # Files
//
//   - format.go: Format (the server.Format implementation) and its
//     download path.
//   - parse.go: the pure parts: module path and version decoding and
//     validation, the module zip checks, the upload spool, version list
//     parsing and ordering, "latest" ranking, the protocol's URL paths.
//   - upload.go: publishing a version (UploadModule).
//   - read.go: the protocol's reads over STANDARD, REMOTE and VIRTUAL
//     projects.
//   - http.go: the routes and their handlers.
//
// # The core it relies on
//
// Access: registry.Service.Project, CanReadPackages and PublishTarget
// (permissions are the core's). Publishing: AddPackageFile, whose Within
// hook decides immutability in the recording transaction. Reads:
// ReadSources (a project's sources in resolution order), registry.ResolveName
// (which tier owns a name), StoredFile, OpenFirst with registry.RemoteFile
// (a remote fill), Remote.Document and Remote.DocumentBody (the TTL-cached version
// lists and @latest of REMOTE projects), DB for its own package queries and
// MaxFileSize for the upload limit. HTTP: rest.PackageError, rest.WriteError,
// rest.WriteJSON, rest.ServeDownload, rest.ReadOptions, rest.NotModified and
// rest.BodyETag.
package gomod
