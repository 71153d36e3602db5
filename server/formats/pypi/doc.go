// Package pypi is the PyPI format: twine uploads, pip's simple index and
// file downloads, in GitLab's layout under
// /api/v4/projects/:id/packages/pypi, so that a GitLab project's
// repository URL works unchanged:
//
//	POST {pypi}                        twine's legacy file_upload form
//	GET  {pypi}/simple/                the root index: the names served
//	GET  {pypi}/simple/{name}/         a project page, PEP 503 HTML or
//	                                   PEP 691 JSON by Accept, with PEP 592
//	                                   yanks, PEP 658/714 core metadata and
//	                                   Requires-Python; other spellings of
//	                                   a name redirect to the PEP 503 form
//	GET  {pypi}/files/{sha256}/{file}  a distribution (or its .metadata),
//	                                   addressed by digest (HEAD too)
//
// plus the GraphQL mutation yankPypiRelease (graph calls YankRelease).
// Index responses carry an ETag of the rendered page and revalidate to 304.
//
// Files:
//   - format.go: Format, New, the core's hooks (Type, DownloadPath).
//   - names.go: PEP 503/508 names, PEP 440 versions, wheel and sdist file
//     names, ValidateUpload (pure functions).
//   - upload.go: Upload (a wheel's METADATA is also stored as
//     "<wheel>.metadata", and Requires-Python is read from the
//     distribution when the form has none) and YankRelease.
//   - meta.go: reading core metadata out of wheels and sdists.
//   - index.go: the files of a name per source (stored, or a REMOTE
//     upstream's page parsed from PEP 691 JSON or PEP 503 HTML), Page,
//     ProjectNames and OpenFile.
//   - http.go: the routes, the multipart upload reader, content
//     negotiation and the HTML/JSON rendering.
//
// The core decides everything that is not PyPI's own: permissions
// (Project, CanReadPackages, CanDeletePackages, PublishTarget), the
// duplicate policy (DuplicatesAllowed, AddPackageFile's ErrDuplicate), and
// upstream resolution (ReadSources, ResolveName, OpenFirst with its
// REMOTE fill, Remote.Document and Remote.DocumentBody for cached upstream pages,
// UpstreamLabel). The format also uses StoredFiles, NameStamp with the
// metadata cache (Meta) for stored file lists, RetryTx for yanks, DB for
// its listing queries and Blobs to read a stored distribution's metadata.
package pypi
