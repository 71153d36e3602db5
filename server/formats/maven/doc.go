// Package maven is the Maven repository format of a project, in GitLab's
// layout, over the registry core (server/registry).
//
// # Routes
//
// Each behind authentication, under /api/v4/projects/:id (http.go):
//
//	PUT  packages/maven/*path  a file, a checksum sidecar, or metadata
//	GET  packages/maven/*path  a file, a sidecar, or metadata (HEAD too)
//
// A path is group/path/artifactId/version/file, the groupId's dots as
// slashes. It is validated as GitLab does (path.go): no empty, "." or ".."
// segments, directories as Gitlab::Regex.maven_path_regex (the version
// directory may also hold '+'), the artifactId as maven_app_name_regex,
// the version as maven_version_regex, the file name as
// maven_file_name_regex; a refusal is a 400 that names what is wrong.
//
// # Storage
//
// A file is stored as GitLab stores it: package name "com/example/my-app"
// (the path without the version), version the version directory ("1.0",
// "1.0-SNAPSHOT"), one package file per file name (pom, jar, classifiers,
// any extension, Gradle's .module, .asc signatures), with SHA-1, MD5,
// SHA-256 and SHA-512 computed while it streams in. The namespace's Maven
// duplicate rule decides whether a release file may be redeployed
// (concurrent redeploys: exactly one wins, the core's ErrDuplicate is the
// others' 400); SNAPSHOT versions are exempt, their files get new
// timestamped names on every deploy. Every file PUT passes
// checkVersionPolicy (policy.go), the project's RELEASE/SNAPSHOT policy.
//
// # Sidecars
//
// .md5, .sha1, .sha256 and .sha512 are never stored. A PUT is compared with
// the stored file's digest: equal is a 204, different a 400 saying both,
// and nothing changes either way. A sidecar PUT before its file is a 404
// (as on GitLab) rather than accepted and ignored: a 2xx would tell the
// client its upload was verified when nothing was. A GET is answered from
// the stored digests. Every file GET/HEAD carries X-Checksum-Sha1,
// X-Checksum-MD5, X-Checksum-Sha256 and X-Checksum-Sha512 (Maven Resolver
// then skips the sidecar request), an ETag and Range support.
//
// # Metadata
//
// maven-metadata.xml is rendered from the rows on every read (render.go,
// metaread.go), never stored from a client:
//
//   - artifact level (groupId/artifactId/): the versions in Maven's order
//     (ComparableVersion, version.go), latest (the highest), release (the
//     highest that is not a SNAPSHOT), lastUpdated (yyyyMMddHHmmss, UTC);
//   - SNAPSHOT version level (…/1.0-SNAPSHOT/): timestamp and buildNumber
//     of the newest build and snapshotVersions per classifier and
//     extension, read from the stored timestamped file names
//     (artifact-1.0-20261201.120000-3-sources.jar);
//   - plugin group level (groupId/): <plugins> with name, prefix and
//     artifactId of each plugin artifact directly below the group.
//
// Their .md5/.sha1/.sha256/.sha512 are digests of the rendered document. A
// client's metadata PUT (mvn sends one per level) answers 201 and stores
// nothing, except that a group document's plugin entries are merged into
// the package metadata of the artifacts they name (added or updated, never
// removed). Since metadata comes from rows, concurrent deploys of
// different versions cannot lose a version, and a deleted version leaves
// the metadata at once. Nothing rendered is cached; a cache would have to
// key on the name's core.NameStamp.
//
// # What the core decides
//
// Access (Service.Project, CanReadPackages, CanWritePackages,
// RequireStandard, RequireFormat), the duplicate policy
// (DuplicatesAllowed), the upstream order and name ownership
// (ReadSources, ResolveName), storing and serving files (AddPackageFile,
// StoredFile, OpenFirst with a RemoteFile for REMOTE fills), and errors
// (an anonymous read of a private project is rest.PackageError's 401 with
// the Basic challenge that makes mvn send its credentials).
//
// # Files
//
//   - format.go: the Format (type, download path);
//   - http.go: the routes and handlers, document and sidecar responses;
//   - path.go: path parsing and validation (pure);
//   - version.go: Maven's ComparableVersion (pure);
//   - render.go: the metadata documents, snapshot file names, plugin
//     entries (pure);
//   - digest.go: the hashes of sidecars (pure);
//   - store.go: uploads, sidecar verification, file reads and sidecars;
//   - metaread.go: the rows behind each metadata level, plugin recording;
//   - policy.go: the project's version policy hook.
package maven
