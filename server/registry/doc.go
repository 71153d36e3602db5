// Package registry is the core: every rule that all package formats share
// lives here, and the formats (server/formats/<name>), the REST API
// (server/rest) and the GraphQL resolvers (graph) call it. It knows no
// format: a format registers a [Format] (its package type and download
// path) when the server is assembled, and the layering test in server/
// fails if this package, or any other shared one, imports a format.
// Nothing above this layer writes to the database or the blob store.
//
// # Shape
//
// [Service] is the core's entry point. It holds the shared parts (database,
// blob store, clock, sealer, metadata cache) and the operations every
// format calls; the rest is split into sub-services that are fields of it:
//
//   - Service.Tokens ([Tokens]): the four token kinds, authentication.
//   - Service.Users ([Users]): users, the current user and token, build info.
//   - Service.Projects ([Projects]): groups, projects, members, package
//     settings, virtual upstreams and remote configuration, GitLab listings.
//   - Service.Packages ([Packages]): the format-independent packages API:
//     listings, counts, deletes, download paths.
//   - Service.Remote ([Remote]): the pull-through engine of REMOTE projects.
//
// # The API formats use
//
// Reading through a project (any mode):
//
//   - [Service.Project] resolves a project reference (numeric id or full
//     path) for a principal; [Service.CanReadPackages] checks the read.
//     Callers that cannot see a project get a not-found error
//     ([IsProjectNotFound]), so private projects stay invisible.
//   - [Service.ReadSources] is the upstream order: the project itself, or a
//     VIRTUAL project's upstreams by priority (higher first), only those
//     whose audience includes the caller. Sources of equal priority and
//     mode form a tier; [ResolveName] gives a name to the first tier that
//     has it, so a public REMOTE never adds versions to a private name
//     (the dependency-confusion guard).
//   - [Service.GroupReadSources] is the order of a read at the group level
//     (GitLab's /groups/:id/-/packages/<format>/... routes): the projects
//     of the group and its subgroups whose packages the caller may read
//     (the group listings' rule), of the format or of none, newest first,
//     STANDARD before REMOTE, VIRTUAL ones skipped, at most
//     [MaxGroupReadSources]. An invisible group is [IsProjectNotFound], as
//     a project is.
//   - [Service.StoredFile] and [Service.StoredFiles] find the newest
//     installable file of a name/version/file in each source, in one query;
//     [Service.NameStamp] identifies the state of a name for cache keys.
//   - [Service.OpenFirst] serves the first source that has the file: stored,
//     or filled from a REMOTE upstream ([RemoteFile]: single-flight,
//     verified against the upstream's digests, streamed to the first caller
//     while stored), with the upstream failure as the answer when no source
//     has it. The result is a [Download]; downloads are counted without a
//     database write ([Service.NoteDownload]).
//   - [Remote.Document] fetches and caches an upstream index document
//     (TTL, conditional revalidation, serve-stale, negative cache); its
//     body is read with [Remote.OpenDocument] or [Remote.DocumentBody].
//   - [Remote.Sidecar] reads a small upstream text that is not cached (a
//     checksum file a fill is then verified against, Maven's <file>.sha1),
//     single-flight, misses remembered for the negative TTL.
//   - [Service.Meta] is the byte-bounded in-memory cache for what a format
//     derives (rendered indexes, parsed upstream documents); [MetaCache.Load]
//     builds a missing entry once for all concurrent callers.
//
// Publishing (STANDARD projects only):
//
//   - [Service.PublishTarget] resolves the project, checks the write and the
//     repository mode ([RequireStandard]). [RequireFormat] refuses a project
//     of another format; AddPackageFile applies it to every upload, so no
//     format can store into a project of another one.
//   - [Service.DuplicatesAllowed] is the namespace's duplicate policy.
//   - [Service.AddPackageFile] is the upload pipeline: stream to the blob
//     store under a fresh key while hashing ([Expected] digests verified),
//     then one transaction that upserts the package, re-checks the
//     duplicate rule under a lock ([ErrDuplicate]), deduplicates the blob and
//     inserts the file row; a failure leaves no visible file and nothing the
//     sweep cannot reclaim.
//   - [Service.RetryTx] runs a format's own transaction (npm's dist-tags
//     and unpublish, PyPI's yanks), retrying transient failures and lost
//     PostgreSQL connections without running a commit twice;
//     [Service.DeletePackagesTx] deletes packages inside it.
//
// Errors are one vocabulary ([Invalid], [NotFound], [Conflict], [Forbidden],
// [Unauthenticated], [TooLarge], [Unavailable], [Internal], ...) that REST
// and GraphQL map to statuses; a format returns them and never writes a
// status itself.
package registry
