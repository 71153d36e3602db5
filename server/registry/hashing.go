package registry

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strings"
	"sync"
)

// Digests are the hashes of a stored stream. SHA-256 is always computed;
// SHA-1 and MD5 only where a format or the client's check needs them (MD5
// alone halves throughput, so it is not hashed by default).
type Digests struct {
	SHA256 string
	SHA1   string
	MD5    string
	SHA512 string
}

// Expected holds digests a client sent to have its upload verified.
// Empty fields are not checked.
type Expected struct {
	SHA256 string // hex
	SHA1   string // hex
	MD5    string // hex
	SHA512 string // hex
}

// ParseDigestHeaders reads the client's integrity headers: X-Checksum-SHA256
// (hex, as Artifactory and Nexus clients send), Content-MD5 (base64, RFC
// 1864) and Digest (RFC 3230: "sha-256=<base64>", "md5=<base64>").
func ParseDigestHeaders(get func(string) string) (Expected, error) {
	var e Expected
	if v := strings.TrimSpace(get("X-Checksum-SHA256")); v != "" {
		if b, err := hex.DecodeString(v); err != nil || len(b) != sha256.Size {
			return e, Invalid("X-Checksum-SHA256 must be 64 hexadecimal characters")
		}
		e.SHA256 = strings.ToLower(v)
	}
	if v := strings.TrimSpace(get("X-Checksum-SHA1")); v != "" {
		if b, err := hex.DecodeString(v); err != nil || len(b) != sha1.Size {
			return e, Invalid("X-Checksum-SHA1 must be 40 hexadecimal characters")
		}
		e.SHA1 = strings.ToLower(v)
	}
	if v := strings.TrimSpace(get("Content-MD5")); v != "" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) != md5.Size {
			return e, Invalid("Content-MD5 must be the base64 of a 16-byte MD5 digest")
		}
		e.MD5 = hex.EncodeToString(b)
	}
	if v := get("Digest"); v != "" {
		for _, part := range strings.Split(v, ",") {
			alg, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				return e, Invalid("Digest header must be <algorithm>=<base64>")
			}
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
			switch strings.ToLower(alg) {
			case "sha-256":
				if err != nil || len(b) != sha256.Size {
					return e, Invalid("Digest sha-256 must be the base64 of a 32-byte digest")
				}
				if e.SHA256 != "" && e.SHA256 != hex.EncodeToString(b) {
					return e, Invalid("Digest and X-Checksum-SHA256 disagree")
				}
				e.SHA256 = hex.EncodeToString(b)
			case "md5":
				if err != nil || len(b) != md5.Size {
					return e, Invalid("Digest md5 must be the base64 of a 16-byte digest")
				}
				e.MD5 = hex.EncodeToString(b)
			}
			// Other algorithms are ignored, as RFC 3230 allows.
		}
	}
	return e, nil
}

// hashingReader hashes what is read through it.
type hashingReader struct {
	r                  io.Reader
	sha256, sha1, md5  hash.Hash
	sha512             hash.Hash
	n                  int64
	limit              int64 // 0: none
	errTooLargeReached bool
	// onEOF, when set, gets the digests once the body has been read to
	// its end, before the caller has stored or recorded anything.
	onEOF func(n int64, d Digests)
}

var errTooLarge = errors.New("registry: body exceeds the size limit")

func newHashingReader(r io.Reader, withSHA1, withMD5, withSHA512 bool, limit int64) *hashingReader {
	h := &hashingReader{r: r, sha256: sha256.New(), limit: limit}
	if withSHA512 {
		h.sha512 = sha512.New()
	}
	if withSHA1 {
		h.sha1 = sha1.New()
	}
	if withMD5 {
		h.md5 = md5.New()
	}
	return h
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.n += int64(n)
		if h.limit > 0 && h.n > h.limit {
			// Stop the stream as soon as it passes the limit: the caller
			// never writes more than limit+len(p) bytes.
			h.errTooLargeReached = true
			return 0, errTooLarge
		}
		// MD5 and SHA-512 (no hardware help) run beside SHA-256 and SHA-1.
		var wg sync.WaitGroup
		for _, x := range []hash.Hash{h.md5, h.sha512} {
			if x != nil {
				wg.Go(func() { x.Write(p[:n]) })
			}
		}
		h.sha256.Write(p[:n])
		if h.sha1 != nil {
			h.sha1.Write(p[:n])
		}
		wg.Wait()
	}
	if err == io.EOF && h.onEOF != nil {
		h.onEOF(h.n, h.digests())
		h.onEOF = nil
	}
	return n, err
}

func (h *hashingReader) digests() Digests {
	d := Digests{SHA256: hex.EncodeToString(h.sha256.Sum(nil))}
	if h.sha1 != nil {
		d.SHA1 = hex.EncodeToString(h.sha1.Sum(nil))
	}
	if h.md5 != nil {
		d.MD5 = hex.EncodeToString(h.md5.Sum(nil))
	}
	if h.sha512 != nil {
		d.SHA512 = hex.EncodeToString(h.sha512.Sum(nil))
	}
	return d
}

// verify compares computed digests with what the client announced.
func (e Expected) verify(d Digests) error {
	switch {
	case e.SHA256 != "" && e.SHA256 != d.SHA256:
		return Invalid("checksum mismatch: the body's SHA-256 is %s, the request announced %s", d.SHA256, e.SHA256)
	case e.SHA1 != "" && e.SHA1 != d.SHA1:
		return Invalid("checksum mismatch: the body's SHA-1 is %s, the request announced %s", d.SHA1, e.SHA1)
	case e.MD5 != "" && e.MD5 != d.MD5:
		return Invalid("checksum mismatch: the body's MD5 is %s, the request announced %s", d.MD5, e.MD5)
	case e.SHA512 != "" && e.SHA512 != d.SHA512:
		return Invalid("checksum mismatch: the body's SHA-512 is %s, the announced one is %s", d.SHA512, e.SHA512)
	}
	return nil
}
