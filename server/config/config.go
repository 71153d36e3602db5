// Package config loads the registry's configuration: defaults, overridden by
// REGISTRY_* environment variables, overridden by command-line flags, then
// validated. There are no globals: main passes the Config down.
package config

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration.
type Config struct {
	Addr             string
	DataDir          string
	DatabaseURL      string
	ExternalURL      string
	InitialRootToken string
	SecretKeyHex     string
	LogLevel         string
	LogFormat        string
	ShutdownTimeout  time.Duration
	// MaxFileSize caps one package file in bytes; 0 means unlimited.
	MaxFileSize int64
	// GCInterval is how often unreferenced blobs are swept (0: never).
	GCInterval time.Duration
	// GCGrace is how long an unreferenced blob is kept before deletion.
	GCGrace time.Duration
	// RemoteAllowCIDRs (comma-separated CIDRs) are the loopback, private,
	// link-local... addresses remote projects may connect to; by default
	// none (see RemoteAllowPrefixes).
	RemoteAllowCIDRs string
	// BodyIdleTimeout cuts a request body that sends nothing for this long
	// (408); a slow body that keeps moving is never cut. 0: no limit.
	BodyIdleTimeout time.Duration
	// MetadataCacheBytes bounds the in-memory cache of parsed and rendered
	// package metadata (npm packuments, PyPI file lists).
	MetadataCacheBytes int64
	S3                 S3
}

// S3 configures the S3-compatible blob store; Endpoint empty means the local
// filesystem under DataDir.
type S3 struct {
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
	UseSSL    bool
	Prefix    string
}

// option binds one setting to its env variable and flag.
type option struct {
	flag, env, help string
	str             *string
	boolean         *bool
	dur             *time.Duration
	i64             *int64
}

func (c *Config) options() []option {
	return []option{
		{flag: "addr", env: "REGISTRY_ADDR", help: "address to listen on", str: &c.Addr},
		{flag: "data-dir", env: "REGISTRY_DATA_DIR", help: "directory for the SQLite database, blobs and the secret key", str: &c.DataDir},
		{flag: "database-url", env: "REGISTRY_DATABASE_URL", help: "postgres://... to use PostgreSQL (default: SQLite file in the data dir)", str: &c.DatabaseURL},
		{flag: "external-url", env: "REGISTRY_EXTERNAL_URL", help: "base URL clients reach the registry at, written into responses (default: from each request)", str: &c.ExternalURL},
		{flag: "initial-root-token", env: "REGISTRY_INITIAL_ROOT_TOKEN", help: "on first start with no users, create admin 'root' with this personal access token (api scope)", str: &c.InitialRootToken},
		{flag: "secret-key", env: "REGISTRY_SECRET_KEY", help: "64 hex characters that seal stored secrets (default: generated into <data-dir>/secret.key); share it between replicas", str: &c.SecretKeyHex},
		{flag: "log-level", env: "REGISTRY_LOG_LEVEL", help: "debug, info, warn or error", str: &c.LogLevel},
		{flag: "log-format", env: "REGISTRY_LOG_FORMAT", help: "json or text", str: &c.LogFormat},
		{flag: "max-file-size", env: "REGISTRY_MAX_FILE_SIZE", help: "largest package file in bytes (0: unlimited); larger uploads get 413", i64: &c.MaxFileSize},
		{flag: "gc-interval", env: "REGISTRY_GC_INTERVAL", help: "how often to delete blobs no file references (0: never)", dur: &c.GCInterval},
		{flag: "gc-grace", env: "REGISTRY_GC_GRACE", help: "how long an unreferenced blob is kept, so downloads in flight finish", dur: &c.GCGrace},
		{flag: "remote-allow-cidrs", env: "REGISTRY_REMOTE_ALLOW_CIDRS", help: "comma-separated CIDRs such as 10.1.0.0/16,::1/128 that remote projects may reach although they are loopback, private, link-local or otherwise internal (default: none)", str: &c.RemoteAllowCIDRs},
		{flag: "body-idle-timeout", env: "REGISTRY_BODY_IDLE_TIMEOUT", help: "cut a request body that sends nothing for this long (408); 0: never", dur: &c.BodyIdleTimeout},
		{flag: "metadata-cache-bytes", env: "REGISTRY_METADATA_CACHE_BYTES", help: "memory for cached package metadata (parsed and rendered npm packuments, PyPI file lists), in bytes, shared by all projects", i64: &c.MetadataCacheBytes},
		{flag: "shutdown-timeout", env: "REGISTRY_SHUTDOWN_TIMEOUT", help: "how long a graceful shutdown waits for in-flight requests", dur: &c.ShutdownTimeout},
		{flag: "s3-endpoint", env: "REGISTRY_S3_ENDPOINT", help: "host:port of an S3-compatible store (MinIO, AWS S3, Ceph); empty for the local filesystem", str: &c.S3.Endpoint},
		{flag: "s3-bucket", env: "REGISTRY_S3_BUCKET", help: "bucket for blobs, created if missing", str: &c.S3.Bucket},
		{flag: "s3-access-key", env: "REGISTRY_S3_ACCESS_KEY", help: "S3 access key", str: &c.S3.AccessKey},
		{flag: "s3-secret-key", env: "REGISTRY_S3_SECRET_KEY", help: "S3 secret key", str: &c.S3.SecretKey},
		{flag: "s3-region", env: "REGISTRY_S3_REGION", help: "S3 region", str: &c.S3.Region},
		{flag: "s3-use-ssl", env: "REGISTRY_S3_USE_SSL", help: "use HTTPS to reach S3", boolean: &c.S3.UseSSL},
		{flag: "s3-prefix", env: "REGISTRY_S3_PREFIX", help: "key prefix inside the bucket", str: &c.S3.Prefix},
	}
}

// Defaults returns the embedded-defaults configuration.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./data",
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: 30 * time.Second,
		MaxFileSize:     5 << 30, // GitLab's default generic package limit
		GCInterval:      15 * time.Minute,
		GCGrace:         time.Hour,
		BodyIdleTimeout: time.Minute,
		// With the collector's headroom and requests in flight, the
		// process stays under about 256 MiB.
		MetadataCacheBytes: 32 << 20,
		S3:                 S3{Bucket: "registry", Region: "us-east-1"},
	}
}

// Load builds a Config from defaults, then getenv, then args: a flag given
// on the command line wins over the environment. Help output shows the
// built-in defaults, never values from the environment (they may be secrets).
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Defaults()
	opts := c.options()
	for _, o := range opts {
		help := fmt.Sprintf("%s (env %s)", o.help, o.env)
		switch {
		case o.str != nil:
			fs.StringVar(o.str, o.flag, *o.str, help)
		case o.boolean != nil:
			fs.BoolVar(o.boolean, o.flag, *o.boolean, help)
		case o.dur != nil:
			fs.DurationVar(o.dur, o.flag, *o.dur, help)
		case o.i64 != nil:
			fs.Int64Var(o.i64, o.flag, *o.i64, help)
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, o := range opts {
		v := getenv(o.env)
		if v == "" || given[o.flag] {
			continue
		}
		switch {
		case o.str != nil:
			*o.str = v
		case o.boolean != nil:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not true or false", o.env, v)
			}
			*o.boolean = b
		case o.dur != nil:
			d, err := time.ParseDuration(v)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a duration such as 30s", o.env, v)
			}
			*o.dur = d
		case o.i64 != nil:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a whole number", o.env, v)
			}
			*o.i64 = n
		}
	}
	return c, c.Validate()
}

// Validate checks the configuration as a whole.
func (c *Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr must not be empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") &&
		!strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		errs = append(errs, errors.New("database-url must start with postgres://, postgresql:// or sqlite:"))
	}
	if c.ExternalURL != "" {
		u, err := url.Parse(c.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("external-url must be an absolute http(s) URL"))
		}
		c.ExternalURL = strings.TrimRight(c.ExternalURL, "/")
	}
	if c.InitialRootToken != "" && len(c.InitialRootToken) < 20 {
		errs = append(errs, errors.New("initial-root-token must be at least 20 characters"))
	}
	if c.SecretKeyHex != "" {
		if b, err := hex.DecodeString(c.SecretKeyHex); err != nil || len(b) != 32 {
			errs = append(errs, errors.New("secret-key must be 64 hex characters (32 bytes)"))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, errors.New("log-level must be debug, info, warn or error"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, errors.New("log-format must be json or text"))
	}
	if c.MaxFileSize < 0 {
		errs = append(errs, errors.New("max-file-size must be 0 (unlimited) or positive"))
	}
	if c.MetadataCacheBytes < 0 {
		errs = append(errs, errors.New("metadata-cache-bytes must not be negative"))
	}
	if c.GCInterval < 0 || c.GCGrace < 0 || c.BodyIdleTimeout < 0 {
		errs = append(errs, errors.New("gc-interval, gc-grace and body-idle-timeout must not be negative"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown-timeout must be positive"))
	}
	if _, err := c.RemoteAllowPrefixes(); err != nil {
		errs = append(errs, err)
	}
	if c.S3.Endpoint != "" {
		if c.S3.Bucket == "" {
			errs = append(errs, errors.New("s3-bucket is required with s3-endpoint"))
		}
		if c.S3.AccessKey == "" || c.S3.SecretKey == "" {
			errs = append(errs, errors.New("s3-access-key and s3-secret-key are required with s3-endpoint"))
		}
		if strings.Contains(c.S3.Endpoint, "://") {
			errs = append(errs, errors.New("s3-endpoint is host:port without a scheme; use s3-use-ssl for HTTPS"))
		}
	}
	return errors.Join(errs...)
}

// RemoteAllowPrefixes parses RemoteAllowCIDRs.
func (c *Config) RemoteAllowPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.RemoteAllowCIDRs, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("remote-allow-cidrs: %q is not a CIDR such as 127.0.0.0/8 or ::1/128", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// SecretKey returns the 32-byte sealing key: the configured one, or the one
// in <data-dir>/secret.key, created on first use.
func (c *Config) SecretKey() ([]byte, error) {
	if c.SecretKeyHex != "" {
		return hex.DecodeString(c.SecretKeyHex)
	}
	path := filepath.Join(c.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s does not hold 64 hex characters", path)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := randRead(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: when two processes start at once, one key wins and the
	// loser reads it back.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return c.SecretKey()
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return nil, err
	}
	return key, f.Sync()
}
