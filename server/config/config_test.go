package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func load(args []string, env map[string]string) (Config, error) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, func(k string) string { return env[k] })
}

func TestDefaultsEnvThenFlags(t *testing.T) {
	c, err := load(nil, nil)
	if err != nil || c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.DatabaseURL != "" || c.S3.Endpoint != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	env := map[string]string{"REGISTRY_ADDR": "0.0.0.0:9000", "REGISTRY_S3_USE_SSL": "true", "REGISTRY_SHUTDOWN_TIMEOUT": "5s",
		"REGISTRY_S3_ENDPOINT": "minio:9000", "REGISTRY_S3_ACCESS_KEY": "a", "REGISTRY_S3_SECRET_KEY": "b",
		"REGISTRY_EXTERNAL_URL": "https://reg.example.com/"}
	c, err = load([]string{"--addr", "127.0.0.1:7000"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || !c.S3.UseSSL || c.ShutdownTimeout != 5*time.Second || c.ExternalURL != "https://reg.example.com" {
		t.Fatalf("env and flags: %+v", c)
	}
}

func TestValidateRejectsBadSettings(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"db scheme":        {"REGISTRY_DATABASE_URL": "mysql://x"},
		"external url":     {"REGISTRY_EXTERNAL_URL": "reg.example.com"},
		"short root token": {"REGISTRY_INITIAL_ROOT_TOKEN": "short"},
		"secret key":       {"REGISTRY_SECRET_KEY": "abcd"},
		"s3 without keys":  {"REGISTRY_S3_ENDPOINT": "minio:9000"},
		"s3 with scheme":   {"REGISTRY_S3_ENDPOINT": "http://minio:9000", "REGISTRY_S3_ACCESS_KEY": "a", "REGISTRY_S3_SECRET_KEY": "b"},
		"bool":             {"REGISTRY_S3_USE_SSL": "maybe"},
		"duration":         {"REGISTRY_SHUTDOWN_TIMEOUT": "forever"},
		"log level":        {"REGISTRY_LOG_LEVEL": "loud"},
	} {
		if _, err := load(nil, env); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := load([]string{"stray"}, nil); err == nil || !strings.Contains(err.Error(), "stray") {
		t.Errorf("stray argument: %v", err)
	}
}

func TestSecretKeyIsCreatedOnceAndReused(t *testing.T) {
	c := Defaults()
	c.DataDir = t.TempDir()
	k1, err := c.SecretKey()
	if err != nil || len(k1) != 32 {
		t.Fatalf("%v %d", err, len(k1))
	}
	k2, err := c.SecretKey()
	if err != nil || string(k1) != string(k2) {
		t.Fatal("second start got another key: sealed secrets would be lost")
	}
}
