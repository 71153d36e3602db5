package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/blob"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	blobstore "github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry/enum"
)

// ObjectPrefix is where package file objects live in the blob store.
const ObjectPrefix = "objects/"

// newObjectKey is a fresh random key: every upload is written once under
// its own key, and the database maps content hashes to keys.
func newObjectKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return ObjectPrefix + h[:2] + "/" + h
}

// NewFile is what addPackageFile needs to store one file of one package.
type NewFile struct {
	Project  *ent.Project
	Format   enum.Format
	Name     string
	Version  string
	FileName string
	// Status switches the package's status when set (GitLab's behaviour).
	Status *enum.PackageStatus
	Body   io.Reader
	// Size is the announced length (Content-Length) or -1.
	Size   int64
	Expect Expected
	// DuplicatesAllowed is the namespace's rule for this name/version.
	DuplicatesAllowed             bool
	NeedSHA1, NeedMD5, NeedSHA512 bool
	// PkgMetadata, when set, replaces the package's format metadata.
	PkgMetadata json.RawMessage
	// FileMetadata is the format's metadata of this file.
	FileMetadata json.RawMessage
	// Within runs inside the recording transaction after the package row
	// is held and before the file row is inserted: a format's own checks
	// and writes (immutability, tags) commit or fail with the file.
	Within func(ctx context.Context, tx *ent.Tx, pkgID int) error
	// BodyRead, when set, gets the byte count and digests as soon as the
	// body has been read to its end, before it is made durable and
	// recorded (a remote fill releases its live stream there).
	BodyRead func(n int64, d Digests)
	// Stored, when set, runs once the body is stored and verified, before
	// the recording transaction: it may read the new object (a format's
	// metadata inside the file) and returns the file metadata to record
	// instead of FileMetadata, or nil to keep FileMetadata.
	Stored func(ctx context.Context, key string, size int64) json.RawMessage
}

// AddPackageFile streams a file into the blob store while hashing it, then
// records package, blob and file in one transaction. Nothing half-done: on
// any failure the new object is deleted and no row points at it.
func (s *Service) AddPackageFile(ctx context.Context, f NewFile) (*ent.PackageFile, error) {
	// A project of one format takes no other format's packages, whichever
	// format's route the upload came through.
	if err := RequireFormat(f.Project, f.Format); err != nil {
		return nil, err
	}
	if s.maxFileSize > 0 && f.Size > s.maxFileSize {
		return nil, TooLarge("file is %d bytes; the limit is %d bytes", f.Size, s.maxFileSize)
	}
	if !f.DuplicatesAllowed {
		// A cheap early answer; the check inside the transaction decides.
		dup, err := s.fileExists(ctx, s.db, f)
		if err != nil {
			return nil, err
		}
		if dup {
			return nil, ErrDuplicate
		}
	}
	key := newObjectKey()
	hr := newHashingReader(f.Body, f.NeedSHA1 || f.Expect.SHA1 != "", f.NeedMD5 || f.Expect.MD5 != "",
		f.NeedSHA512 || f.Expect.SHA512 != "", s.maxFileSize)
	hr.onEOF = f.BodyRead
	body := newPipelinedReader(hr)
	n, err := s.blobs.Put(ctx, key, body, f.Size)
	body.Close() // the read-ahead is over before anything reads hr's results
	if err != nil {
		switch {
		case hr.errTooLargeReached:
			return nil, TooLarge("file exceeds the limit of %d bytes", s.maxFileSize)
		case errors.Is(err, blobstore.ErrSizeMismatch):
			return nil, Invalid("the request body does not match its Content-Length (%d bytes)", f.Size)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, Invalid("the upload was interrupted")
		}
		return nil, Unavailable(err, "could not store the file")
	}
	d := hr.digests()
	if err := f.Expect.verify(d); err != nil {
		s.deleteObject(key)
		return nil, err
	}
	if f.Stored != nil {
		if m := f.Stored(ctx, key, n); m != nil {
			f.FileMetadata = m
		}
	}
	var pf *ent.PackageFile
	var storedKey string
	err = s.RetryTx(ctx, func(tx *ent.Tx) error {
		var err error
		pf, storedKey, err = s.recordFile(ctx, tx, f, key, n, d)
		return err
	})
	if err != nil {
		if !errors.Is(err, errCommitUnknown) {
			s.deleteObject(key)
		} // else a row may point at it; unreferenced, the sweeper removes it
		return nil, err
	}
	if storedKey != key {
		// Identical content was already stored: keep one copy.
		s.deleteObject(key)
	}
	return pf, nil
}

var ErrDuplicate = Invalid("Duplicate package is not allowed")

func (s *Service) fileExists(ctx context.Context, db *ent.Client, f NewFile) (bool, error) {
	ok, err := db.PackageFile.Query().Where(
		packagefile.FileName(f.FileName),
		FilesOfPackages(pkg.ProjectID(f.Project.ID), pkg.PackageTypeEQ(f.Format), pkg.Name(f.Name), pkg.Version(f.Version)),
	).Exist(ctx)
	if err != nil {
		return false, Internal(err, "could not check for duplicates")
	}
	return ok, nil
}

// recordFile upserts the package, re-checks the duplicate rule while holding
// the package row (PostgreSQL: the upsert's row lock; SQLite: the immediate
// transaction's write lock), upserts the blob by content hash and inserts
// the file row.
func (s *Service) recordFile(ctx context.Context, tx *ent.Tx, f NewFile, key string, size int64, d Digests) (*ent.PackageFile, string, error) {
	now := s.now()
	status := enum.StatusDefault
	if f.Status != nil {
		status = *f.Status
	}
	pc := tx.Pkg.Create().SetProjectID(f.Project.ID).SetPackageType(f.Format).SetName(f.Name).
		SetVersion(f.Version).SetStatus(status).SetCreatedAt(now).SetUpdatedAt(now)
	if f.PkgMetadata != nil {
		pc.SetMetadata(f.PkgMetadata)
	}
	pkgID, err := pc.
		OnConflictColumns(pkg.FieldProjectID, pkg.FieldPackageType, pkg.FieldName, pkg.FieldVersion).
		Update(func(u *ent.PkgUpsert) {
			u.SetUpdatedAt(now)
			if f.Status != nil {
				u.SetStatus(*f.Status)
			}
			if f.PkgMetadata != nil {
				u.SetMetadata(f.PkgMetadata)
			}
		}).ID(ctx)
	if err != nil {
		return nil, "", err
	}
	if !f.DuplicatesAllowed {
		dup, err := tx.PackageFile.Query().Where(packagefile.PackageID(pkgID), packagefile.FileName(f.FileName)).Exist(ctx)
		if err != nil {
			return nil, "", err
		}
		if dup {
			return nil, "", ErrDuplicate
		}
	}
	if f.Within != nil {
		if err := f.Within(ctx, tx, pkgID); err != nil {
			return nil, "", err
		}
	}
	bc := tx.Blob.Create().SetSha256(d.SHA256).SetSize(size).SetStorageKey(key).SetCreatedAt(now)
	if d.SHA1 != "" {
		bc.SetSha1(d.SHA1)
	}
	if d.MD5 != "" {
		bc.SetMd5(d.MD5)
	}
	blobID, err := bc.OnConflictColumns(blob.FieldSha256).ClearOrphanedAt().ID(ctx)
	if err != nil {
		return nil, "", err
	}
	b, err := tx.Blob.Get(ctx, blobID)
	if err != nil {
		return nil, "", err
	}
	fc := tx.PackageFile.Create().SetPackageID(pkgID).SetBlobID(blobID).SetFileName(f.FileName).
		SetSize(size).SetSha256(d.SHA256).SetCreatedAt(now).SetUpdatedAt(now)
	if f.NeedSHA1 {
		fc.SetSha1(d.SHA1)
	}
	if f.NeedMD5 {
		fc.SetMd5(d.MD5)
	}
	if f.NeedSHA512 {
		fc.SetSha512(d.SHA512)
	}
	if f.FileMetadata != nil {
		fc.SetMetadata(f.FileMetadata)
	}
	pf, err := fc.Save(ctx)
	if err != nil {
		return nil, "", err
	}
	return pf, b.StorageKey, nil
}

// deleteObject removes an object that no row references, detached from the
// request's context (the client may be gone). The sweeper catches failures.
func (s *Service) deleteObject(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.blobs.Delete(ctx, key); err != nil {
		s.log.Warn("could not delete an unreferenced object; the sweeper will retry", "key", key, "err", err)
	}
}
