package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

func TestHelpDocumentsEveryOptionWithoutLeakingSecrets(t *testing.T) {
	var out bytes.Buffer
	env := map[string]string{"REGISTRY_S3_SECRET_KEY": "super-secret-value", "REGISTRY_INITIAL_ROOT_TOKEN": "glpat-do-not-print-me-please"}
	err := run(context.Background(), []string{"--help"}, func(k string) string { return env[k] }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "help") {
		t.Fatalf("--help: %v", err)
	}
	help := out.String()
	for _, want := range []string{"REGISTRY_ADDR", "REGISTRY_DATA_DIR", "REGISTRY_DATABASE_URL", "REGISTRY_EXTERNAL_URL",
		"REGISTRY_INITIAL_ROOT_TOKEN", "REGISTRY_S3_ENDPOINT", "REGISTRY_S3_BUCKET", "REGISTRY_S3_ACCESS_KEY",
		"REGISTRY_S3_SECRET_KEY", "REGISTRY_S3_REGION", "REGISTRY_S3_USE_SSL", "admin create-token", "127.0.0.1:8080", "./data"} {
		if !strings.Contains(help, want) {
			t.Errorf("help does not mention %s", want)
		}
	}
	if strings.Contains(help, "super-secret-value") || strings.Contains(help, "do-not-print") {
		t.Fatal("help printed a secret from the environment")
	}
}

func TestAdminCreateToken(t *testing.T) {
	cfg := servertest.NewConfig(t)
	args := []string{"admin", "create-token", "--username", "root", "--name", "ops", "--scopes", "api,read_api",
		"--data-dir", cfg.DataDir, "--initial-root-token", servertest.RootToken}
	if cfg.DatabaseURL != "" {
		args = append(args, "--database-url", cfg.DatabaseURL)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("create-token: %v\n%s", err, stderr.String())
	}
	tok := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(tok, "glpat-") || strings.Contains(stderr.String(), tok) {
		t.Fatalf("printed %q; the token must go to stdout only", tok)
	}
	e := servertest.NewWithConfig(t, cfg)
	r := e.MustGraphQL(t, tok, `{ currentUser { username admin } }`, nil)
	if string(r.Data) != `{"currentUser":{"username":"root","admin":true}}` {
		t.Fatalf("new token resolves to %s", r.Data)
	}

	wants := map[string]string{
		"unknown user":  `user "nobody" not found`,
		"bad scope":     `"sudo" is not a valid scope`,
		"missing name":  "--username and --name are required",
		"bad expiry":    `--expires-at: "soon" is not a date`,
		"unknown admin": "unknown admin command",
	}
	for name, bad := range map[string][]string{
		"unknown user":  {"admin", "create-token", "--username", "nobody", "--name", "x", "--data-dir", cfg.DataDir},
		"bad scope":     {"admin", "create-token", "--username", "root", "--name", "x", "--scopes", "sudo", "--data-dir", cfg.DataDir},
		"missing name":  {"admin", "create-token", "--username", "root", "--data-dir", cfg.DataDir},
		"bad expiry":    {"admin", "create-token", "--username", "root", "--name", "x", "--expires-at", "soon", "--data-dir", cfg.DataDir},
		"unknown admin": {"admin", "drop-everything"},
	} {
		if cfg.DatabaseURL != "" {
			bad = append(bad, "--database-url", cfg.DatabaseURL)
		}
		if err := run(context.Background(), bad, func(string) string { return "" }, &stdout, &stderr); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), wants[name]) {
			// The refusal must be for this case's reason, not an
			// unrelated one (a database that did not open, say).
			t.Errorf("%s: %v, want it to say %q", name, err, wants[name])
		}
	}
}
