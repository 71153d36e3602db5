// Package generic is the GitLab generic packages format: arbitrary files
// published under a package name and version, GitLab's layout and rules.
//
// Routes (each behind authentication, under /api/v4/projects/:id):
//
//	PUT  packages/generic/:name/:version/:file  upload (?status=default|hidden, ?select=package_file)
//	GET  packages/generic/:name/:version/:file  download (HEAD too; Range and conditional requests)
//	GET  packages/generic/:name/:version/       the version's files (newest row per file name)
//	     packages/generic/:name/:version        307 to the same path with its trailing slash
//
// Names, versions and file paths follow GitLab's Gitlab::Regex rules
// (validate.go); a file path may hold directory segments, each a valid
// file name. Responses and errors are GitLab's ({"message":"201 Created"},
// {"error":"package_name is invalid"}, the package file entity for
// select=package_file).
//
// Files:
//   - format.go: the Format (type, download path, routes);
//   - validate.go: the pure name/version/file path validation;
//   - store.go: upload, download and version listing over the core;
//   - http.go: the HTTP handlers.
//
// The format decides nothing about access, duplicates or upstreams: it
// calls the core for them (Service.Project, CanWritePackages,
// CanReadPackages, registry.RequireStandard, DuplicatesAllowed) and stores
// and serves files through the core's shared paths (AddPackageFile,
// ReadSources, StoredFile, OpenFirst with a registry.RemoteFile for REMOTE
// upstreams, DB for the version listing). HTTP responses use server/rest's
// helpers (WriteJSON, WriteParamError, PackageError, ServeDownload,
// ReadOptions, AddTrailingSlash, API.ProjectURL, API.PackageFileJSON).
package generic
