package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"

	"entgo.io/ent/dialect/sql"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/blob"
	"github.com/pkgreg/registry/ent/member"
	"github.com/pkgreg/registry/ent/namespace"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/ent/predicate"
	"github.com/pkgreg/registry/ent/project"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Packages owns the format-independent package API: package scopes of a
// project or group, listing and counting packages and their files, package
// and file lookups, download paths, and deleting packages and files (REST,
// GraphQL). Storing files is the Service's (store.go, files.go), and so is
// DeletePackagesTx, which formats call inside their own transactions.
// Reach it as Service.Packages.
type Packages struct{ s *Service }

// PackageFilter narrows package listings (REST and GraphQL alike).
type PackageFilter struct {
	Type *enum.Format
	// Name matches as a case-insensitive substring (GitLab's fuzzy search).
	Name    string
	Version string
	// IncludeVersionless lists packages without a version too.
	IncludeVersionless bool
	// Status selects one status; nil lists the default ones (default and
	// error), never hidden ones: hidden packages appear only on request.
	Status *enum.PackageStatus
}

var listedByDefault = []enum.PackageStatus{enum.StatusDefault, enum.StatusError}

func (f PackageFilter) predicates() []predicate.Pkg {
	var ps []predicate.Pkg
	if f.Type != nil {
		ps = append(ps, pkg.PackageTypeEQ(*f.Type))
	}
	if f.Name != "" {
		ps = append(ps, pkg.NameContainsFold(f.Name))
	}
	if f.Version != "" {
		ps = append(ps, pkg.Version(f.Version))
	} else if !f.IncludeVersionless {
		ps = append(ps, pkg.VersionNEQ(""))
	}
	if f.Status != nil {
		ps = append(ps, pkg.StatusEQ(*f.Status))
	} else {
		ps = append(ps, pkg.StatusIn(listedByDefault...))
	}
	return ps
}

// PackageOrder is a listing order: field created_at, name, version or type.
type PackageOrder struct {
	Field string
	Desc  bool
}

var packageOrderFields = map[string]string{
	"created_at": pkg.FieldID, // ids grow with creation time and are unique
	"name":       pkg.FieldName,
	"version":    pkg.FieldVersion,
	"type":       pkg.FieldPackageType,
}

// ParsePackageOrder validates REST's order_by and sort.
func ParsePackageOrder(orderBy, sort string) (PackageOrder, error) {
	if orderBy == "" {
		orderBy = "created_at"
	}
	if _, ok := packageOrderFields[orderBy]; !ok {
		return PackageOrder{}, InvalidParam("order_by", "must be created_at, name, version or type")
	}
	switch sort {
	case "", "asc":
		return PackageOrder{Field: orderBy}, nil
	case "desc":
		return PackageOrder{Field: orderBy, Desc: true}, nil
	}
	return PackageOrder{}, InvalidParam("sort", "must be asc or desc")
}

func (o PackageOrder) apply(q *ent.PkgQuery) *ent.PkgQuery {
	col := packageOrderFields[o.Field]
	if col == "" {
		col = pkg.FieldID
	}
	if o.Desc {
		return q.Order(ent.Desc(col), ent.Desc(pkg.FieldID))
	}
	return q.Order(ent.Asc(col), ent.Asc(pkg.FieldID))
}

// Offset is REST's page/per_page pagination.
type Offset struct{ Page, PerPage int }

// Normalize applies GitLab's defaults and bounds (20 a page, at most 100).
func (o *Offset) Normalize() {
	if o.Page < 1 {
		o.Page = 1
	}
	if o.PerPage < 1 {
		o.PerPage = 20
	}
	if o.PerPage > 100 {
		o.PerPage = 100
	}
}

// PackageScope is where a listing looks: a project, or a group.
type PackageScope struct {
	pred predicate.Pkg
}

// ProjectPackageScope resolves a project for a package listing.
func (pks *Packages) ProjectPackageScope(ctx context.Context, p *Principal, ref string) (*ProjectAccess, *PackageScope, error) {
	pa, err := pks.s.Project(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := pks.s.CanReadPackages(p, pa); err != nil {
		return nil, nil, err
	}
	if pa.Project.RepositoryMode != enum.Virtual {
		return pa, &PackageScope{pred: pkg.ProjectID(pa.Project.ID)}, nil
	}
	pred, err := pks.virtualPackages(ctx, p, pa.Project)
	return pa, &PackageScope{pred: pred}, err
}

// virtualPackages selects, for a virtual project, each name/version once:
// the package of the first upstream (in resolution order) that has it. A
// package of upstream i is listed only if no upstream before i has the
// same name/version in a downloadable status, which is exactly the one a
// download would serve.
func (pks *Packages) virtualPackages(ctx context.Context, p *Principal, virtual *ent.Project) (predicate.Pkg, error) {
	sources, err := pks.s.ReadSources(ctx, p, virtual, *virtual.Format)
	if err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return pkg.IDIn(), nil
	}
	winners := make([]predicate.Pkg, len(sources))
	var before []any
	for i, src := range sources {
		higher := append([]any(nil), before...)
		winners[i] = pkg.And(pkg.ProjectID(src.Project.ID), func(sel *sql.Selector) {
			if len(higher) == 0 {
				return
			}
			w := sql.Table(pkg.Table).As("winner")
			sub := sql.Select(w.C(pkg.FieldID)).From(w).Where(sql.And(
				sql.ColumnsEQ(w.C(pkg.FieldPackageType), sel.C(pkg.FieldPackageType)),
				sql.ColumnsEQ(w.C(pkg.FieldName), sel.C(pkg.FieldName)),
				sql.ColumnsEQ(w.C(pkg.FieldVersion), sel.C(pkg.FieldVersion)),
				sql.In(w.C(pkg.FieldProjectID), higher...),
				sql.In(w.C(pkg.FieldStatus), string(enum.StatusDefault), string(enum.StatusHidden)),
			))
			sel.Where(sql.NotExists(sub))
		})
		before = append(before, src.Project.ID)
	}
	return pkg.Or(winners...), nil
}

// GroupPackageScope resolves a group (numeric id or full path) for a
// listing over the projects in it (and its subgroups unless excluded)
// whose packages the caller may read.
func (pks *Packages) GroupPackageScope(ctx context.Context, p *Principal, ref string, excludeSubgroups bool) (*NamespaceAccess, *PackageScope, error) {
	na, err := pks.packageGroup(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	if na == nil {
		return nil, nil, NotFound("404 Group Not Found")
	}
	readable, err := pks.readablePackageProjects(ctx, p, na, excludeSubgroups)
	if err != nil {
		return nil, nil, err
	}
	return na, &PackageScope{pred: pkg.HasProjectWith(readable)}, nil
}

// packageGroup resolves a group reference (numeric id or full path) for a
// read of packages across the group: nil (and no error) when there is no
// such group or p may not see it, which each caller answers with its own
// not-found error; Forbidden when p's token may not read packages at all.
// GroupPackageScope and GroupReadSources share it, and the projects they
// then read come from readablePackageProjects.
func (pks *Packages) packageGroup(ctx context.Context, p *Principal, ref string) (*NamespaceAccess, error) {
	var na *NamespaceAccess
	var err error
	if id, aerr := strconv.Atoi(ref); aerr == nil {
		na, err = pks.s.Projects.NamespaceByID(ctx, p, id)
	} else {
		na, err = pks.s.Namespace(ctx, p, ref)
	}
	if err != nil {
		if k := KindOf(err); k == KindInternal || k == KindUnavailable {
			return nil, err // a failure, not an answer: no 404 for it
		}
		return nil, nil
	}
	if na.Namespace.Kind != enum.GroupNamespace {
		return nil, nil
	}
	if p.Authenticated() && !p.HasScope(readPackageScopes...) {
		return nil, Forbidden("403 Forbidden - insufficient_scope: this token's scopes do not allow reading packages")
	}
	return na, nil
}

// readablePackageProjects is the one predicate for "projects under this
// group whose packages p may read", mirroring CanReadPackages in SQL.
func (pks *Packages) readablePackageProjects(ctx context.Context, p *Principal, na *NamespaceAccess, excludeSubgroups bool) (predicate.Project, error) {
	root := na.Namespace
	var inTree predicate.Project
	if excludeSubgroups {
		inTree = project.NamespaceID(root.ID)
	} else {
		inTree = project.HasNamespaceWith(namespace.Or(namespace.ID(root.ID), namespace.FullPathHasPrefix(root.FullPath+"/")))
	}
	base := project.And(inTree, project.PackagesEnabled(true))
	if na.Level >= enum.Guest {
		// A role on the group (or an ancestor) covers every project below.
		return base, nil
	}
	open := []predicate.Project{project.VisibilityEQ(enum.Public)}
	if p.signedInPerson() {
		open = append(open, project.VisibilityEQ(enum.Internal))
		// Roles on subgroups or on single projects inside the tree.
		subs, err := pks.s.db.Member.Query().Where(member.UserID(p.User.ID), member.AccessLevelGTE(enum.Guest)).
			QueryNamespace().Where(namespace.FullPathHasPrefix(root.FullPath + "/")).All(ctx)
		if err != nil {
			return nil, Internal(err, "could not read memberships")
		}
		for _, sub := range subs {
			open = append(open, project.HasNamespaceWith(namespace.Or(namespace.ID(sub.ID), namespace.FullPathHasPrefix(sub.FullPath+"/"))))
		}
		open = append(open, project.HasMembersWith(member.UserID(p.User.ID), member.AccessLevelGTE(enum.Guest)))
	}
	if t := p.Token; t != nil && t.Kind != enum.PersonalToken {
		if t.ProjectID != nil {
			open = append(open, project.ID(*t.ProjectID))
		}
		if t.NamespaceID != nil {
			bound, err := pks.s.db.Namespace.Get(ctx, *t.NamespaceID)
			if err != nil {
				return nil, DBError(err, "")
			}
			open = append(open, project.HasNamespaceWith(namespace.Or(namespace.ID(bound.ID), namespace.FullPathHasPrefix(bound.FullPath+"/"))))
		}
	}
	return project.And(base, project.Or(open...)), nil
}

// ListPackagesOffset lists packages in a scope with REST's offset
// pagination; it returns the page and the total count.
func (pks *Packages) ListPackagesOffset(ctx context.Context, scope *PackageScope, f PackageFilter, o PackageOrder, page Offset) ([]*ent.Pkg, int, error) {
	page.Normalize()
	q := pks.s.db.Pkg.Query().Where(scope.pred).Where(f.predicates()...)
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, Internal(err, "could not count packages")
	}
	rows, err := o.apply(q.WithProject(withNamespace)).Offset((page.Page - 1) * page.PerPage).Limit(page.PerPage).All(ctx)
	if err != nil {
		return nil, 0, Internal(err, "could not list packages")
	}
	return rows, total, nil
}

// CountPackages counts packages in a scope (GraphQL's count).
func (pks *Packages) CountPackages(ctx context.Context, scope *PackageScope, f PackageFilter) (int, error) {
	n, err := pks.s.db.Pkg.Query().Where(scope.pred).Where(f.predicates()...).Count(ctx)
	return n, DBError(err, "")
}

// packageCursor is a keyset position: the sort column's value and the id.
type packageCursor struct {
	V  string `json:"v,omitempty"`
	ID int    `json:"id"`
}

func encodePackageCursor(c packageCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePackageCursor(s string) (packageCursor, error) {
	var c packageCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID <= 0 {
		return c, Invalid("invalid cursor %q", s)
	}
	return c, nil
}

func sortValue(p *ent.Pkg, field string) string {
	switch field {
	case "name":
		return p.Name
	case "version":
		return p.Version
	case "type":
		return string(p.PackageType)
	}
	return ""
}

// ListPackagesKeyset lists packages in a scope with Relay keyset
// pagination on (sort column, id): stable under inserts, and one query a
// page whatever the offset.
func (pks *Packages) ListPackagesKeyset(ctx context.Context, scope *PackageScope, f PackageFilter, o PackageOrder, args PageArgs) (*Page[*ent.Pkg], error) {
	if args.First != nil && args.Last != nil {
		return nil, Invalid("pass either first or last, not both")
	}
	n := defaultPageSize
	backward := false
	switch {
	case args.First != nil:
		n = *args.First
	case args.Last != nil:
		n, backward = *args.Last, true
	}
	if n < 0 || n > maxPageSize {
		return nil, Invalid("first and last must be between 0 and %d", maxPageSize)
	}
	col := packageOrderFields[o.Field]
	if col == "" {
		col = pkg.FieldID
	}
	// after: rows past the cursor in listing order; before: rows ahead of it.
	bound := func(c string, past bool) (predicate.Pkg, error) {
		cur, err := decodePackageCursor(c)
		if err != nil {
			return nil, err
		}
		greater := past != o.Desc
		return predicate.Pkg(func(sel *sql.Selector) {
			cmp, cmpID := sql.GT, sql.GT
			if !greater {
				cmp, cmpID = sql.LT, sql.LT
			}
			if col == pkg.FieldID {
				sel.Where(cmpID(sel.C(pkg.FieldID), cur.ID))
				return
			}
			sel.Where(sql.Or(cmp(sel.C(col), cur.V), sql.And(sql.EQ(sel.C(col), cur.V), cmpID(sel.C(pkg.FieldID), cur.ID))))
		}), nil
	}
	q := pks.s.db.Pkg.Query().Where(scope.pred).Where(f.predicates()...)
	if args.After != nil {
		b, err := bound(*args.After, true)
		if err != nil {
			return nil, err
		}
		q.Where(b)
	}
	if args.Before != nil {
		b, err := bound(*args.Before, false)
		if err != nil {
			return nil, err
		}
		q.Where(b)
	}
	order := o
	if backward {
		order.Desc = !order.Desc
	}
	rows, err := order.apply(q.WithProject(withNamespace)).Limit(n + 1).All(ctx)
	if err != nil {
		return nil, Internal(err, "could not list packages")
	}
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	page := &Page[*ent.Pkg]{}
	if backward {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
		page.HasPreviousPage, page.HasNextPage = more, args.Before != nil
	} else {
		page.HasNextPage, page.HasPreviousPage = more, args.After != nil
	}
	page.Items = rows
	for _, r := range rows {
		page.Cursors = append(page.Cursors, encodePackageCursor(packageCursor{V: sortValue(r, o.Field), ID: r.ID}))
	}
	return page, nil
}

// projectPackage loads a package of a project.
func (pks *Packages) projectPackage(ctx context.Context, pa *ProjectAccess, id int) (*ent.Pkg, error) {
	pk, err := pks.s.db.Pkg.Query().Where(pkg.ID(id), pkg.ProjectID(pa.Project.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, NotFound("404 Package Not Found")
	}
	return pk, DBError(err, "")
}

// GetPackage returns one package of a project the caller may read.
func (pks *Packages) GetPackage(ctx context.Context, p *Principal, ref string, id int) (*ent.Pkg, error) {
	pa, _, err := pks.ProjectPackageScope(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	return pks.projectPackage(ctx, pa, id)
}

// ListPackageFiles lists every file row of a package (duplicates too),
// oldest first, with offset pagination.
func (pks *Packages) ListPackageFiles(ctx context.Context, p *Principal, ref string, id int, page Offset) ([]*ent.PackageFile, int, error) {
	pk, err := pks.GetPackage(ctx, p, ref, id)
	if err != nil {
		return nil, 0, err
	}
	page.Normalize()
	q := pks.s.db.PackageFile.Query().Where(packagefile.PackageID(pk.ID))
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, Internal(err, "could not count files")
	}
	files, err := q.Order(ent.Asc(packagefile.FieldID)).Offset((page.Page - 1) * page.PerPage).Limit(page.PerPage).All(ctx)
	return files, total, DBError(err, "")
}

// PackageFilesPage lists a package's files with keyset pagination (GraphQL).
func (pks *Packages) PackageFilesPage(ctx context.Context, pk *ent.Pkg, args PageArgs) (*Page[*ent.PackageFile], error) {
	return Paginate(args, func(f *ent.PackageFile) int { return f.ID }, func(after, before int, desc bool, limit int) ([]*ent.PackageFile, error) {
		q := pks.s.db.PackageFile.Query().Where(packagefile.PackageID(pk.ID)).Limit(limit).Order(orderByID(desc, packagefile.FieldID))
		if after > 0 {
			q.Where(packagefile.IDGT(after))
		}
		if before > 0 {
			q.Where(packagefile.IDLT(before))
		}
		rows, err := q.All(ctx)
		return rows, DBError(err, "")
	})
}

// DeletePackage deletes a package and its files. MAINTAINER+.
func (pks *Packages) DeletePackage(ctx context.Context, p *Principal, ref string, id int) error {
	pa, err := pks.s.Project(ctx, p, ref)
	if err != nil {
		return err
	}
	if err := pks.s.CanDeletePackages(p, pa); err != nil {
		return err
	}
	pk, err := pks.projectPackage(ctx, pa, id)
	if err != nil {
		return err
	}
	return pks.deletePackages(ctx, []int{pk.ID})
}

// DeletePackageFile deletes one file of a package. MAINTAINER+. A package
// left without files stays, as in GitLab.
func (pks *Packages) DeletePackageFile(ctx context.Context, p *Principal, ref string, pkgID, fileID int) error {
	pa, err := pks.s.Project(ctx, p, ref)
	if err != nil {
		return err
	}
	if err := pks.s.CanDeletePackages(p, pa); err != nil {
		return err
	}
	if _, err := pks.projectPackage(ctx, pa, pkgID); err != nil {
		return err
	}
	ok, err := pks.s.db.PackageFile.Query().Where(packagefile.ID(fileID), packagefile.PackageID(pkgID)).Exist(ctx)
	if err != nil {
		return Internal(err, "could not read the file")
	}
	if !ok {
		return NotFound("404 Package File Not Found")
	}
	return pks.deleteFiles(ctx, []int{fileID})
}

// deletePackages removes packages with their files in one transaction.
func (pks *Packages) deletePackages(ctx context.Context, ids []int) error {
	return pks.s.RetryTx(ctx, func(tx *ent.Tx) error { return pks.s.DeletePackagesTx(ctx, tx, ids) })
}

// DeletePackagesTx removes packages and their files inside tx, and marks
// the blobs no file uses any more for the sweeper.
func (s *Service) DeletePackagesTx(ctx context.Context, tx *ent.Tx, ids []int) error {
	blobIDs, err := tx.PackageFile.Query().Where(packagefile.PackageIDIn(ids...)).Select(packagefile.FieldBlobID).Ints(ctx)
	if err != nil {
		return err
	}
	if _, err := tx.PackageFile.Delete().Where(packagefile.PackageIDIn(ids...)).Exec(ctx); err != nil {
		return err
	}
	if _, err := tx.Pkg.Delete().Where(pkg.IDIn(ids...)).Exec(ctx); err != nil {
		return err
	}
	return s.markOrphans(ctx, tx, blobIDs)
}

// deleteFiles removes file rows in one transaction.
func (pks *Packages) deleteFiles(ctx context.Context, ids []int) error {
	return pks.s.RetryTx(ctx, func(tx *ent.Tx) error {
		blobIDs, err := tx.PackageFile.Query().Where(packagefile.IDIn(ids...)).Select(packagefile.FieldBlobID).Ints(ctx)
		if err != nil {
			return err
		}
		// A package changes when its files do (index caches validate on it).
		if err := tx.Pkg.Update().Where(pkg.HasFilesWith(packagefile.IDIn(ids...))).SetUpdatedAt(pks.s.now()).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.PackageFile.Delete().Where(packagefile.IDIn(ids...)).Exec(ctx); err != nil {
			return err
		}
		return pks.s.markOrphans(ctx, tx, blobIDs)
	})
}

// markOrphans stamps blobs that no file and no cached remote document
// references any more; the sweeper deletes them after a grace period, so
// downloads in flight finish. It is the Service's: Packages' deletions,
// DeletePackagesTx and the remote document cache all use it.
func (s *Service) markOrphans(ctx context.Context, tx *ent.Tx, blobIDs []int) error {
	if len(blobIDs) == 0 {
		return nil
	}
	_, err := tx.Blob.Update().Where(blob.IDIn(blobIDs...), blob.Not(blob.HasFiles()), blob.Not(blob.HasRemoteDocuments()),
		blob.OrphanedAtIsNil()).
		SetOrphanedAt(s.now()).Save(ctx)
	return err
}

// ProjectsByIDs loads projects (for listings that show project paths).
func (pks *Packages) ProjectsByIDs(ctx context.Context, ids []int) (map[int]*ent.Project, error) {
	rows, err := pks.s.db.Project.Query().Where(project.IDIn(ids...)).WithNamespace().All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read projects")
	}
	out := make(map[int]*ent.Project, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// withNamespace loads a listed package's project with its namespace, so
// that Project.namespace costs no query per row.
func withNamespace(q *ent.ProjectQuery) { q.WithNamespace() }
