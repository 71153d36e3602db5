package main

import "testing"

func TestParseFlagsMaven(t *testing.T) {
	o, err := parseFlags([]string{"--only", "maven-upload"})
	if err != nil || !o.wants("maven-upload") || o.wants("upload") || o.mavenSize != 100<<20 {
		t.Fatalf("--only maven-upload: %+v, %v", o, err)
	}
	if o, err = parseFlags([]string{"--only", "upload,maven-upload", "--maven-size", "8MiB"}); err != nil || o.mavenSize != 8<<20 || !o.wants("upload") {
		t.Fatalf("--maven-size 8MiB: %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"--maven-size", "0"}); err == nil {
		t.Fatal("--maven-size 0 accepted")
	}
	if o, err := parseFlags(nil); err != nil || o.wants("maven-upload") {
		t.Fatalf("maven-upload is not in the default set: %+v, %v", o, err)
	}
}
