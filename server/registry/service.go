package registry

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Options configures a Service.
type Options struct {
	DB     *ent.Client
	Blobs  blob.Store
	Logger *slog.Logger
	// Now is the clock; tests inject one instead of sleeping.
	Now func() time.Time
	// SecretKey (32 bytes) seals stored secrets such as upstream credentials.
	SecretKey []byte
	// MaxFileSize caps one package file in bytes; 0 means unlimited.
	MaxFileSize int64
	// ExternalURL is the base URL written into responses ("" = from the request).
	ExternalURL string
	// RemoteAllowCIDRs are the otherwise refused addresses (loopback,
	// private, ...) remote projects may connect to (egress.go).
	RemoteAllowCIDRs []netip.Prefix
	// Dialect is the database's ent dialect ("postgres", "sqlite3").
	Dialect string
	// MetadataCacheBytes bounds the in-memory metadata cache (parsed and
	// rendered packuments, file lists); 0 means DefaultMetadataCacheBytes.
	MetadataCacheBytes int64
}

// Service is the domain layer.
type Service struct {
	db     *ent.Client
	blobs  blob.Store
	log    *slog.Logger
	now    func() time.Time
	sealer *sealer

	maxFileSize int64
	externalURL string
	dialect     string
	Remote      *Remote
	meta        *MetaCache
	usage       *usage
	formats     map[enum.Format]Format

	// The sub-services: cohesive parts of the domain API that share the
	// Service's database, blobs, clock and access checks.
	Tokens   *Tokens
	Users    *Users
	Projects *Projects
	Packages *Packages
}

// New builds a Service.
func New(o Options) (*Service, error) {
	if o.DB == nil || o.Blobs == nil {
		return nil, errors.New("registry: DB and Blobs are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	sl, err := newSealer(o.SecretKey)
	if err != nil {
		return nil, err
	}
	if o.MetadataCacheBytes == 0 {
		o.MetadataCacheBytes = DefaultMetadataCacheBytes
	}
	s := &Service{db: o.DB, blobs: o.Blobs, log: o.Logger, now: o.Now, sealer: sl,
		maxFileSize: o.MaxFileSize, externalURL: o.ExternalURL, dialect: dialectOr(o.Dialect), Remote: newRemote(o.RemoteAllowCIDRs),
		meta: newMetaCache(o.MetadataCacheBytes)}
	s.Tokens, s.Users, s.Projects, s.Packages = &Tokens{s}, &Users{s}, &Projects{s}, &Packages{s}
	s.Remote.s = s
	s.usage = newUsage(usageFlushInterval, s.flushUsageInBackground)
	return s, nil
}

// DB exposes the client for read-only listings that the GraphQL layer
// paginates; every write goes through Service methods.
func (s *Service) DB() *ent.Client { return s.db }

// Blobs exposes the blob store (readiness checks, benchmarks).
func (s *Service) Blobs() blob.Store { return s.blobs }

// Ping checks the database (readiness).
func (s *Service) Ping(ctx context.Context) error {
	_, err := s.db.User.Query().Limit(1).Count(ctx)
	return err
}

// withTx runs fn in a transaction, rolling back on error or panic.
func (s *Service) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	atCommit, err := s.txOnce(ctx, fn, nil)
	switch {
	case err == nil:
		return nil
	case !atCommit:
		return err
	case ent.IsConstraintError(err):
		return Conflict("a concurrent change conflicted with this one; try again")
	}
	return Internal(err, "could not commit the transaction")
}

// DBError turns a database error into a domain error: constraint violations
// become conflicts with msg, not-found becomes NotFound, the rest Internal.
func DBError(err error, conflictMsg string) error {
	var de *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return err
	case ent.IsConstraintError(err):
		return Conflict("%s", conflictMsg)
	case ent.IsNotFound(err):
		return NotFound("%s", errNotVisible)
	}
	return Internal(err, "database error")
}

// Log is the service's logger, for formats' best-effort warnings.
func (s *Service) Log() *slog.Logger { return s.log }

// Now is the service's clock (tests inject one).
func (s *Service) Now() time.Time { return s.now() }

// MaxFileSize is the configured cap on one package file in bytes (0: none).
func (s *Service) MaxFileSize() int64 { return s.maxFileSize }

// Meta is the byte-bounded cache that formats keep their derived metadata
// in (rendered indexes, parsed upstream documents).
func (s *Service) Meta() *MetaCache { return s.meta }
