// Package gc reclaims storage nobody references: blobs whose last file or
// cached remote document was deleted (after a grace period, so that
// downloads in flight finish), objects a crash left behind between writing
// and recording them, and the staging data (partial files, incomplete
// multipart uploads) of uploads a crash cut off mid-stream.
package gc

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/blob"
	blobstore "github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry"
)

// Sweeper deletes unreferenced blobs and stray objects.
type Sweeper struct {
	DB    *ent.Client
	Blobs blobstore.Store
	Log   *slog.Logger
	Now   func() time.Time
	// Grace is how long an orphaned blob or an unrecorded object is kept,
	// and how long an upload's staging data may go unwritten before it is
	// taken for a crash's leftover.
	Grace time.Duration
}

// Stats counts what one sweep removed.
type Stats struct {
	OrphanedBlobs int
	StrayObjects  int
	// StaleUploads counts the staging files or multipart uploads of
	// uploads that died mid-stream; StaleUploadBytes is what they held.
	StaleUploads     int
	StaleUploadBytes int64
}

// RunOnce sweeps once.
func (s *Sweeper) RunOnce(ctx context.Context) (Stats, error) {
	var st Stats
	cutoff := s.Now().Add(-s.Grace)
	orphans, err := s.DB.Blob.Query().Where(blob.OrphanedAtLT(cutoff), blob.Not(blob.HasFiles()),
		blob.Not(blob.HasRemoteDocuments())).Limit(1000).All(ctx)
	if err != nil {
		return st, err
	}
	for _, b := range orphans {
		// Conditional delete: an upload that reused the blob meanwhile has
		// cleared orphaned_at or added a file, and the row stays. The file
		// foreign key makes a concurrent link fail instead of dangling.
		// A cached remote document (its body is a blob too) keeps it the same way.
		n, err := s.DB.Blob.Delete().Where(blob.ID(b.ID), blob.OrphanedAtLT(cutoff), blob.Not(blob.HasFiles()),
			blob.Not(blob.HasRemoteDocuments())).Exec(ctx)
		if err != nil || n == 0 {
			continue
		}
		if err := s.Blobs.Delete(ctx, b.StorageKey); err != nil {
			s.Log.Warn("gc: could not delete object of a deleted blob; it will be swept as a stray", "key", b.StorageKey, "err", err)
			continue
		}
		st.OrphanedBlobs++
	}
	err = s.Blobs.Walk(ctx, registry.ObjectPrefix, func(info blobstore.Info) error {
		if info.ModTime.After(cutoff) {
			return nil // maybe an upload about to be recorded
		}
		known, err := s.DB.Blob.Query().Where(blob.StorageKey(info.Key)).Exist(ctx)
		if err != nil || known {
			return err
		}
		if err := s.Blobs.Delete(ctx, info.Key); err != nil {
			return err
		}
		st.StrayObjects++
		return nil
	})
	if sc, ok := s.Blobs.(blobstore.StagingCleaner); ok {
		var serr error
		st.StaleUploads, st.StaleUploadBytes, serr = sc.RemoveStaleUploads(ctx, cutoff)
		err = errors.Join(err, serr)
	}
	return st, err
}

// Run sweeps every interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st, err := s.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				s.Log.Error("gc sweep failed", "err", err)
			} else if st.OrphanedBlobs+st.StrayObjects+st.StaleUploads > 0 {
				s.Log.Info("gc sweep", "orphaned_blobs", st.OrphanedBlobs, "stray_objects", st.StrayObjects,
					"stale_uploads", st.StaleUploads, "stale_upload_bytes", st.StaleUploadBytes)
			}
		}
	}
}
