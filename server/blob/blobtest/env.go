package blobtest

import (
	"os"
	"testing"
)

// S3ConfigFromEnv returns the MinIO/S3 connection used by integration tests,
// from REGISTRY_TEST_S3_ENDPOINT (host:port), REGISTRY_TEST_S3_ACCESS_KEY,
// REGISTRY_TEST_S3_SECRET_KEY and REGISTRY_TEST_S3_BUCKET (default
// "registry-test"). Without an endpoint the test is skipped, except under
// CI=true where a missing MinIO is a failure rather than silent coverage loss.
func S3ConfigFromEnv(t testing.TB) (endpoint, accessKey, secretKey, bucket string) {
	t.Helper()
	endpoint = os.Getenv("REGISTRY_TEST_S3_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI requires MinIO: set REGISTRY_TEST_S3_ENDPOINT")
		}
		t.Skip("S3 tests skipped: set REGISTRY_TEST_S3_ENDPOINT (host:port), REGISTRY_TEST_S3_ACCESS_KEY and REGISTRY_TEST_S3_SECRET_KEY to run them against MinIO")
	}
	accessKey = os.Getenv("REGISTRY_TEST_S3_ACCESS_KEY")
	secretKey = os.Getenv("REGISTRY_TEST_S3_SECRET_KEY")
	if accessKey == "" || secretKey == "" {
		t.Fatal("REGISTRY_TEST_S3_ENDPOINT is set but REGISTRY_TEST_S3_ACCESS_KEY or REGISTRY_TEST_S3_SECRET_KEY is empty")
	}
	bucket = os.Getenv("REGISTRY_TEST_S3_BUCKET")
	if bucket == "" {
		bucket = "registry-test"
	}
	return endpoint, accessKey, secretKey, bucket
}
