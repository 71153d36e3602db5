// Package maven is the Maven repository format of a project, in GitLab's
// layout, over the registry core (server/registry).
//
// Routes (each behind authentication, under /api/v4/projects/:id):
//
//	PUT  packages/maven/*path  a file, a checksum sidecar, or metadata
//	GET  packages/maven/*path  a file, a sidecar, or metadata (HEAD too)
//
// A path is group/path/artifactId/version/file (the groupId's dots as
// slashes), validated as GitLab does (path.go). A file is stored as
// GitLab stores it: package name "com/example/my-app" (the path without
// the version), version the version directory, one package file per file
// name.
//
// Files:
//   - format.go: the Format (type, download path);
//   - doc.go: this overview;
//   - http.go: the routes and handlers;
//   - path.go: path parsing and validation (pure);
//   - digest.go: the hashes of sidecars (pure);
//   - store.go: uploads, sidecar verification, file reads over the core;
//   - metaread.go: metadata rendered from the rows;
//   - policy.go: the project's version policy (RELEASE/SNAPSHOT) hook.
package maven
