// Package server assembles the registry: configuration, database, blob
// store, domain service, authentication, REST and GraphQL handlers.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/graph"
	"github.com/pkgreg/registry/server/auth"
	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/blob/fs"
	"github.com/pkgreg/registry/server/blob/s3"
	"github.com/pkgreg/registry/server/config"
	"github.com/pkgreg/registry/server/database"
	"github.com/pkgreg/registry/server/gc"
	"github.com/pkgreg/registry/server/middleware"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/rest"
)

// Server is a running registry's parts.
type Server struct {
	Config  config.Config
	Log     *slog.Logger
	DB      *ent.Client
	Dialect string
	Blobs   blob.Store
	Service *registry.Service
	Sweeper *gc.Sweeper
	handler http.Handler
}

// Options lets tests inject a clock and observe queries; production
// leaves it empty.
type Options struct {
	Now     func() time.Time
	OnQuery func(context.Context)
}

// New opens the database (migrating it) and the blob store, builds the
// domain service and routes, and runs first-start provisioning.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := cfg.SecretKey()
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	db, dialect, err := database.Open(ctx, cfg.DatabaseURL, cfg.DataDir, opt.OnQuery)
	if err != nil {
		return nil, err
	}
	blobs, err := OpenBlobStore(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	allow, _ := cfg.RemoteAllowPrefixes() // checked by Validate
	svc, err := registry.New(registry.Options{DB: db, Blobs: blobs, Logger: log, Now: opt.Now, SecretKey: key,
		MaxFileSize: cfg.MaxFileSize, ExternalURL: cfg.ExternalURL, RemoteAllowCIDRs: allow, Dialect: dialect,
		MetadataCacheBytes: cfg.MetadataCacheBytes})
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := svc.Remote.DropInlineRemoteDocuments(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.InitialRootToken != "" {
		created, err := svc.Users.EnsureRoot(ctx, cfg.InitialRootToken)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("creating the root user: %w", err)
		}
		if created {
			log.Info("created administrator 'root' with the initial root token")
		}
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	sweeper := &gc.Sweeper{DB: db, Blobs: blobs, Log: log, Now: now, Grace: cfg.GCGrace}
	s := &Server{Config: cfg, Log: log, DB: db, Dialect: dialect, Blobs: blobs, Service: svc, Sweeper: sweeper}
	s.handler = s.routes()
	return s, nil
}

// OpenBlobStore opens S3 when an endpoint is configured, else the local
// filesystem under <data-dir>/blobs.
func OpenBlobStore(ctx context.Context, cfg config.Config) (blob.Store, error) {
	if cfg.S3.Endpoint == "" {
		return fs.New(filepath.Join(cfg.DataDir, "blobs"))
	}
	return s3.New(ctx, s3.Config{
		Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey,
		Region: cfg.S3.Region, UseSSL: cfg.S3.UseSSL, Prefix: cfg.S3.Prefix,
	})
}

func (s *Server) routes() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := middleware.NewMetrics(reg)

	authed := auth.Middleware(s.Service, rest.WriteError)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /-/health", rest.Health)
	mux.Handle("GET /-/readiness", rest.Readiness(s.Service))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /-/graphql-explorer", graph.Explorer("/api/graphql"))
	api := &rest.API{Svc: s.Service, ExternalURL: s.Config.ExternalURL}
	fs := formats(s.Service, api)
	gql := authed(graph.NewHandler(s.Service, s.Log, graphFormats(fs)))
	mux.Handle("POST /api/graphql", gql)
	mux.Handle("GET /api/graphql", gql)
	api.Register(mux, authed)
	for _, f := range fs {
		s.Service.RegisterFormat(f)
		f.Routes(func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, authed(h)) })
	}
	api.RegisterGitLabUsers(mux, authed)
	api.RegisterProjects(mux, authed)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rest.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	})
	return middleware.Wrap(middleware.BodyIdleTimeout(rest.RejectTraversal(rest.CarryHops(mux)), s.Config.BodyIdleTimeout), s.Log, metrics)
}

// Handler is the whole HTTP surface (for tests with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish within the shutdown
// timeout, and closes the database.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if s.Config.GCInterval > 0 {
		gcCtx, stopGC := context.WithCancel(ctx)
		defer stopGC()
		go s.Sweeper.Run(gcCtx, s.Config.GCInterval)
	}
	s.Log.Info("registry listening", "addr", ln.Addr().String(), "database", s.Dialect, "blob_store", s.Blobs.Name())
	select {
	case err := <-errc:
		s.closeService()
		s.DB.Close()
		return err
	case <-ctx.Done():
	}
	s.Log.Info("shutting down: waiting for in-flight requests", "timeout", s.Config.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	s.closeService()
	if cerr := s.DB.Close(); err == nil {
		err = cerr
	}
	return err
}

// closeService writes what the service holds in memory (download and token
// use times) while the database is still open.
func (s *Server) closeService() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Service.Close(ctx); err != nil {
		s.Log.Warn("could not record download and token use times at shutdown", "err", err)
	}
}

// Close releases the database (when Serve was never called).
func (s *Server) Close() error {
	s.closeService()
	return s.DB.Close()
}
