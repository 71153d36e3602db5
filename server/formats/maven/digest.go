package maven

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
)

// newHash is the hash of a sidecar extension.
func newHash(alg string) hash.Hash {
	switch alg {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha512":
		return sha512.New()
	}
	return sha256.New()
}

// documentDigest is the hex digest of a rendered document.
func documentDigest(alg string, b []byte) string {
	h := newHash(alg)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
