package blobutil

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/blob"
)

func TestValidateKey(t *testing.T) {
	for _, k := range []string{"a", "a/b/c", ".hidden", "a.b/..c/d..", "ünï/cødé"} {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "a\\b", "a\x00", "\xff"} {
		if err := ValidateKey(k); err == nil {
			t.Errorf("ValidateKey(%q) = nil", k)
		}
	}
}

// oneByte returns one byte per Read, like a slow network body.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1)]) }

func TestReader(t *testing.T) {
	cases := []struct {
		data     string
		size     int64
		mismatch bool
	}{
		{"hello", 5, false},
		{"hello", -1, false},
		{"", 0, false},
		{"", -1, false},
		{"hello", 4, true},
		{"hello", 6, true},
		{"hello", 0, true},
		{"", 1, true},
	}
	for _, tc := range cases {
		for _, slow := range []bool{false, true} {
			var src io.Reader = strings.NewReader(tc.data)
			if slow {
				src = oneByte{src}
			}
			r := NewReader(context.Background(), src, tc.size)
			var buf bytes.Buffer
			_, err := io.Copy(&buf, r)
			if err == nil {
				err = r.Finish()
			}
			if tc.mismatch {
				if !errors.Is(err, blob.ErrSizeMismatch) {
					t.Errorf("%q size %d slow=%v: err %v, want ErrSizeMismatch", tc.data, tc.size, slow, err)
				}
				continue
			}
			if err != nil || buf.String() != tc.data || r.N() != int64(len(tc.data)) {
				t.Errorf("%q size %d slow=%v: got %q, N %d, err %v", tc.data, tc.size, slow, buf.String(), r.N(), err)
			}
		}
	}
}

// TestReaderLongStreamFailsBeforeEOF: the consumer must see the error on the
// read that delivers the last announced byte, never a clean EOF.
func TestReaderLongStreamFailsBeforeEOF(t *testing.T) {
	r := NewReader(context.Background(), strings.NewReader("hello!"), 5)
	buf := make([]byte, 5)
	n, err := r.Read(buf)
	if n != 5 || !errors.Is(err, blob.ErrSizeMismatch) {
		t.Fatalf("Read = %d, %v; want 5, ErrSizeMismatch", n, err)
	}
	if _, err := r.Read(buf); !errors.Is(err, blob.ErrSizeMismatch) {
		t.Errorf("error is not sticky: %v", err)
	}
}

func TestReaderContextAndClose(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := NewReader(ctx, strings.NewReader("hello"), -1)
	if _, err := r.Read(make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(make([]byte, 2)); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel = %v", err)
	}
	if !errors.Is(r.Err(), context.Canceled) {
		t.Errorf("Err() = %v", r.Err())
	}

	src := strings.NewReader("hello")
	r = NewReader(context.Background(), src, -1)
	r.Close()
	if _, err := r.Read(make([]byte, 2)); err == nil || src.Len() != 5 {
		t.Errorf("Read after Close = %v, source read: %v", err, src.Len() != 5)
	}
}
