// Command registry is a GitLab-compatible package registry.
//
//	registry [serve] [flags]        run the server (default)
//	registry admin create-token ... print a new personal access token
//	registry --help                 list every option
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pkgreg/registry/server"
	"github.com/pkgreg/registry/server/config"
	"github.com/pkgreg/registry/server/middleware"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

const usage = `registry: a GitLab-compatible package registry.

Usage:
  registry [serve] [flags]          run the server (the default command)
  registry admin create-token --username NAME --name TOKEN_NAME --scopes api[,read_api,...] [--expires-at YYYY-MM-DD] [flags]
                                    create a personal access token and print it
  registry help                     show this help

Every flag can also be set with the REGISTRY_* environment variable named
beside it; a flag given on the command line wins over the environment.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "registry:", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "admin":
		if len(args) == 0 || args[0] != "create-token" {
			return errors.New("unknown admin command; try: registry admin create-token --help")
		}
		return createToken(ctx, args[1:], getenv, stdout, stderr)
	case "help":
		fs := flagSet("registry", stderr)
		_, _ = config.Load(fs, []string{"-help"}, getenv)
		return nil
	}
	return fmt.Errorf("unknown command %q; try: registry --help", cmd)
}

func flagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	return fs
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(middleware.LogHandler{Handler: h})
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(flagSet("registry", stderr), args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	slog.SetDefault(log)
	srv, err := server.New(ctx, cfg, log, server.Options{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		srv.Close()
		return err
	}
	return srv.Serve(ctx, ln)
}

func createToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("registry admin create-token", stderr)
	username := fs.String("username", "", "user the token belongs to (required)")
	name := fs.String("name", "", "token name (required)")
	scopes := fs.String("scopes", "api", "comma-separated scopes: api, read_api, read_package_registry, write_package_registry")
	expires := fs.String("expires-at", "", "expiry date YYYY-MM-DD (default: never)")
	cfg, err := config.Load(fs, args, getenv)
	if err != nil {
		return err
	}
	if *username == "" || *name == "" {
		return errors.New("--username and --name are required")
	}
	in := registry.TokenInput{Name: *name}
	for _, s := range strings.Split(*scopes, ",") {
		var sc enum.Scope
		if err := sc.UnmarshalGQL(strings.TrimSpace(s)); err != nil {
			return err
		}
		in.Scopes = append(in.Scopes, sc)
	}
	if *expires != "" {
		t, err := time.Parse("2006-01-02", *expires)
		if err != nil {
			return fmt.Errorf("--expires-at: %q is not a date such as 2027-01-31", *expires)
		}
		in.ExpiresAt = &t
	}
	srv, err := server.New(ctx, cfg, newLogger(cfg, stderr), server.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	nt, err := srv.Service.Tokens.CreatePersonalAccessToken(ctx, registry.System, *username, in)
	if err != nil {
		return errors.New(registry.PublicMessage(err))
	}
	fmt.Fprintln(stdout, nt.Secret)
	return nil
}
