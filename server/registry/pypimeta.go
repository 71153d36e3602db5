package registry

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
)

// maxSdistScan bounds the sdists whose PKG-INFO is looked for: a .tar.gz
// has no directory, so finding PKG-INFO means decompressing up to the
// whole archive (hatchling, flit and poetry write it last).
const maxSdistScan = 64 << 20

// distMetadata reads the core metadata of a stored distribution: a wheel's
// <name>.dist-info/METADATA (from the zip's directory and that entry), or
// an sdist's <name>-<version>/PKG-INFO when the sdist is at most
// maxSdistScan bytes.
func (s *Service) distMetadata(ctx context.Context, key string, size int64, kind pypiFileKind) ([]byte, error) {
	if kind == pypiSdist && size > maxSdistScan {
		return nil, errors.New("sdist too large to look for PKG-INFO")
	}
	obj, err := s.blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	isMeta := func(name, dirSuffix, base string) bool {
		dir, b, ok := strings.Cut(name, "/")
		return ok && b == base && strings.HasSuffix(dir, dirSuffix)
	}
	if kind == pypiWheel || (kind == pypiSdist && !isTarGz(obj)) {
		zr, err := zip.NewReader(readerAt(obj), size)
		if err != nil {
			return nil, Invalid("the distribution is not a valid zip file: %v", err)
		}
		for _, f := range zr.File {
			if (kind == pypiWheel && isMeta(f.Name, ".dist-info", "METADATA")) || (kind == pypiSdist && isMeta(f.Name, "", "PKG-INFO")) {
				rc, err := f.Open()
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return readCoreMetadata(rc)
			}
		}
		return nil, Invalid("the distribution has no core metadata file")
	}
	gz, err := gzip.NewReader(bufio.NewReaderSize(obj, 256<<10))
	if err != nil {
		return nil, Invalid("the sdist is not gzip-compressed: %v", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, Invalid("the sdist has no PKG-INFO: %v", err)
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

func readCoreMetadata(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCoreMetadata+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCoreMetadata {
		return nil, Invalid("the core metadata is larger than %d bytes", maxCoreMetadata)
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
