package pypi

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry"
)

// maxSdistScan bounds the sdists whose PKG-INFO is looked for: a .tar.gz
// has no directory, so finding PKG-INFO means decompressing up to the
// whole archive (hatchling, flit and poetry write it last).
const maxSdistScan = 64 << 20

// distMetadata reads the core metadata of a stored distribution (see
// readDistMetadata), opening it from the blob store by key.
func (f *Format) distMetadata(ctx context.Context, key string, size int64, kind fileKind) ([]byte, error) {
	if kind == sdistKind && size > maxSdistScan {
		return nil, errors.New("sdist too large to look for PKG-INFO")
	}
	obj, err := f.core.Blobs().Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return readDistMetadata(obj, size, kind)
}

// readDistMetadata reads the core metadata of a distribution of size
// bytes: a wheel's <name>.dist-info/METADATA (from the zip's directory and
// that entry), or an sdist's <name>-<version>/PKG-INFO (a .tar.gz or a
// .zip, told apart by content).
func readDistMetadata(obj io.ReadSeeker, size int64, kind fileKind) ([]byte, error) {
	isMeta := func(name, dirSuffix, base string) bool {
		dir, b, ok := strings.Cut(name, "/")
		return ok && b == base && strings.HasSuffix(dir, dirSuffix)
	}
	if kind == wheelKind || (kind == sdistKind && !isTarGz(obj)) {
		zr, err := zip.NewReader(readerAt(obj), size)
		if err != nil {
			return nil, registry.Invalid("the distribution is not a valid zip file: %v", err)
		}
		for _, zf := range zr.File {
			if (kind == wheelKind && isMeta(zf.Name, ".dist-info", "METADATA")) || (kind == sdistKind && isMeta(zf.Name, "", "PKG-INFO")) {
				rc, err := zf.Open()
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return readCoreMetadata(rc)
			}
		}
		return nil, registry.Invalid("the distribution has no core metadata file")
	}
	gz, err := gzip.NewReader(bufio.NewReaderSize(obj, 256<<10))
	if err != nil {
		return nil, registry.Invalid("the sdist is not gzip-compressed: %v", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, registry.Invalid("the sdist has no PKG-INFO: %v", err)
		}
		if h.Typeflag == tar.TypeReg && isMeta(strings.TrimPrefix(h.Name, "./"), "", "PKG-INFO") {
			return readCoreMetadata(tr)
		}
	}
}

// isTarGz tells a .tar.gz from a .zip sdist by the gzip magic number.
func isTarGz(r io.ReadSeeker) bool {
	var magic [2]byte
	_, err := io.ReadFull(r, magic[:])
	_, serr := r.Seek(0, io.SeekStart)
	return err == nil && serr == nil && magic == [2]byte{0x1f, 0x8b}
}

// readerAt gives random access to an object: directly when it supports it
// (local files, S3 objects), else by seeking.
func readerAt(r io.ReadSeeker) io.ReaderAt {
	if fb, ok := r.(blob.FileBacked); ok {
		return fb.OSFile()
	}
	if ra, ok := r.(io.ReaderAt); ok {
		return ra
	}
	return &seekReaderAt{r: r}
}

type seekReaderAt struct{ r io.ReadSeeker }

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(s.r, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF // ReaderAt's contract for a short read at the end
	}
	return n, err
}

func readCoreMetadata(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCoreMetadata+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCoreMetadata {
		return nil, registry.Invalid("the core metadata is larger than %d bytes", maxCoreMetadata)
	}
	return data, nil
}

// metadataField is the value of a header of core metadata (RFC 822 style:
// "Name: value" lines up to the first blank line, continuation lines
// indented), matched case-insensitively; "" when absent.
func metadataField(data []byte, name string) string {
	var value string
	found := false
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if found {
				value += " " + strings.TrimSpace(line)
			}
			continue
		}
		if found {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			value, found = strings.TrimSpace(v), true
		}
	}
	return value
}
