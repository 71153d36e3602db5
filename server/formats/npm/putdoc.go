package npm

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pkgreg/registry/server/registry"
)

// Reading npm's publish document in a stream. The document is
//
//	{"name": ..., "dist-tags": {...}, "versions": {"1.0.0": {...}},
//	 "_attachments": {"name-1.0.0.tgz": {"content_type": ..., "data": "<base64>", "length": N}}}
//
// and the base64 data is the tarball, as large as the package. Everything
// but the data is decoded with a json.Decoder (bounded by maxDocument);
// at the "data" key the walk switches to reading the raw JSON string and
// decoding base64 as the store reads it, so the tarball is never held in
// memory. npm writes "versions" before "_attachments", so the version and
// its digests are known before the bytes arrive; a document in another
// order is refused. After the data the walk resumes on a fresh decoder
// (primed with the path it is at) and checks the rest of the document
// before the store sees end of file: a malformed tail stores nothing.

// maxDocument bounds the JSON of a PUT outside the tarball's data
// (manifests, readme, dist-tags); that part is held in memory.
const maxDocument = 16 << 20

// putDoc is what the walk found in a PUT document.
type putDoc struct {
	Name     string
	Versions map[string]json.RawMessage
	DistTags map[string]string
	// AttachmentKey is the attachment's name; set when it has data.
	AttachmentKey string
	// Length is the attachment's announced decoded length (-1: none).
	Length int64
}

// meteredReader counts the document bytes outside the attachment data
// and stops the stream once they pass maxDocument.
type meteredReader struct {
	r        io.Reader
	meta     int64
	inData   bool
	exceeded bool
}

func (m *meteredReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if !m.inData {
		m.meta += int64(n)
		if m.meta > maxDocument {
			m.exceeded = true
			return 0, errDocumentTooLarge
		}
	}
	return n, err
}

var errDocumentTooLarge = registry.TooLarge("the package document outside the tarball exceeds %d bytes", maxDocument)

// docError turns a decoding failure into what the client is told.
func docError(m *meteredReader, err error) error {
	var de *registry.Error
	switch {
	case m.exceeded:
		return errDocumentTooLarge
	case errors.As(err, &de):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return registry.Invalid("malformed JSON: the document ends early")
	}
	return registry.Invalid("malformed JSON: %v", err)
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return registry.Invalid("malformed package document: expected %q, found %v", string(want), tok)
	}
	return nil
}

func nextKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok {
		return "", registry.Invalid("malformed package document: expected a key, found %v", tok)
	}
	return k, nil
}

// expectEnd checks nothing follows the document.
func expectEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return registry.Invalid("malformed JSON: data after the document")
		}
		return err
	}
	return nil
}

// walkUntilData decodes the document up to the attachment's data. It
// answers true when it stopped there (the raw string follows in the
// stream), false when it read a whole document without data.
func (d *putDoc) walkUntilData(dec *json.Decoder) (bool, error) {
	d.Length = -1
	if err := expectDelim(dec, '{'); err != nil {
		return false, err
	}
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return false, err
		}
		if key != "_attachments" {
			if err := d.rootField(dec, key, false); err != nil {
				return false, err
			}
			continue
		}
		if d.Versions == nil {
			return false, registry.Invalid("malformed package document: \"versions\" must come before \"_attachments\"")
		}
		if err := expectDelim(dec, '{'); err != nil {
			return false, err
		}
		if !dec.More() { // "_attachments": {}
			if err := expectDelim(dec, '}'); err != nil {
				return false, err
			}
			continue
		}
		if d.AttachmentKey, err = nextKey(dec); err != nil {
			return false, err
		}
		if err := expectDelim(dec, '{'); err != nil {
			return false, err
		}
		for dec.More() {
			k, err := nextKey(dec)
			if err != nil {
				return false, err
			}
			if k == "data" {
				return true, nil
			}
			if err := d.attachmentField(dec, k); err != nil {
				return false, err
			}
		}
		return false, registry.Invalid("the attachment %q has no data", d.AttachmentKey)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return false, err
	}
	return false, expectEnd(dec)
}

// rootField decodes one top-level field; after the data, fields the
// publish needs earlier are refused.
func (d *putDoc) rootField(dec *json.Decoder, key string, afterData bool) error {
	var skip json.RawMessage // skipped, but still checked
	target := any(&skip)
	switch key {
	case "name":
		target = &d.Name
	case "versions":
		target = &d.Versions
	case "dist-tags":
		target = &d.DistTags
	case "_attachments":
		return registry.Invalid("a publish carries exactly one tarball attachment")
	}
	if afterData && target != any(&skip) {
		return registry.Invalid("malformed package document: %q must come before \"_attachments\"", key)
	}
	if err := dec.Decode(target); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return registry.Invalid("malformed package document: %q has the wrong type", key)
		}
		return err
	}
	return nil
}

func (d *putDoc) attachmentField(dec *json.Decoder, key string) error {
	switch key {
	case "data":
		return registry.Invalid("the attachment %q has its data twice", d.AttachmentKey)
	case "length":
		if err := dec.Decode(&d.Length); err != nil {
			return registry.Invalid("the attachment's length must be a whole number")
		}
		return nil
	}
	var skip json.RawMessage
	return dec.Decode(&skip)
}

// resumePrefix is the path the walk was at when the data began: a fresh
// decoder reads it and then the rest of the real stream.
func (d *putDoc) resumePrefix() string {
	return `{"_attachments":{` + jsonString(d.AttachmentKey) + `:{"data":""`
}

// finishAfterData walks the rest of the document after the data string.
func (d *putDoc) finishAfterData(dec *json.Decoder) error {
	for _, step := range []func() error{
		func() error { return expectDelim(dec, '{') },
		func() error { _, err := nextKey(dec); return err },
		func() error { return expectDelim(dec, '{') },
		func() error { _, err := nextKey(dec); return err },
		func() error { return expectDelim(dec, '{') },
		func() error { _, err := nextKey(dec); return err },
		func() error { _, err := dec.Token(); return err },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	for dec.More() {
		k, err := nextKey(dec)
		if err != nil {
			return err
		}
		if err := d.attachmentField(dec, k); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	if dec.More() {
		return registry.Invalid("a publish carries exactly one tarball attachment")
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return err
		}
		if err := d.rootField(dec, key, true); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	return expectEnd(dec)
}

// startString consumes `: "` before a string value in the raw stream.
func startString(r *bufio.Reader) error {
	for _, want := range []byte{':', '"'} {
		for {
			c, err := r.ReadByte()
			if err != nil {
				return err
			}
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				continue
			}
			if c != want {
				return registry.Invalid("malformed package document: the attachment's data must be a base64 string")
			}
			break
		}
	}
	return nil
}

// jsonStringReader reads the contents of a JSON string from a raw stream
// up to its closing quote. Base64 needs only the escapes "\/" and \u00XX.
type jsonStringReader struct {
	r    *bufio.Reader
	done bool
}

func (s *jsonStringReader) Read(p []byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) {
		if n > 0 && s.r.Buffered() == 0 {
			break // hand over what we have rather than wait
		}
		buf, err := s.r.Peek(max(1, min(s.r.Buffered(), len(p)-n)))
		if len(buf) == 0 {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		i := bytes.IndexFunc(buf, func(c rune) bool { return c == '"' || c == '\\' || c < 0x20 })
		if i < 0 {
			n += copy(p[n:], buf)
			_, _ = s.r.Discard(len(buf))
			continue
		}
		n += copy(p[n:], buf[:i])
		_, _ = s.r.Discard(i)
		c, _ := s.r.ReadByte()
		switch {
		case c == '"':
			s.done = true
			return n, nil
		case c < 0x20:
			return n, registry.Invalid("malformed JSON: a control character in the attachment's data")
		}
		b, err := s.unescape()
		if err != nil {
			return n, err
		}
		p[n] = b
		n++
	}
	return n, nil
}

func (s *jsonStringReader) unescape() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		return 0, io.ErrUnexpectedEOF
	}
	switch c {
	case '/', '\\', '"':
		return c, nil
	case 'n', 'r':
		return '\n', nil // line breaks, which base64 ignores
	case 'u':
		var hex [4]byte
		if _, err := io.ReadFull(s.r, hex[:]); err != nil {
			return 0, io.ErrUnexpectedEOF
		}
		var v int
		if _, err := fmt.Sscanf(string(hex[:]), "%04x", &v); err != nil || v >= 0x80 {
			return 0, registry.Invalid("the attachment's data is not valid base64")
		}
		return byte(v), nil
	}
	return 0, registry.Invalid("malformed JSON: a bad escape in the attachment's data")
}

// attachmentReader yields the decoded tarball. At the end of the data it
// walks the rest of the document (finish) before it reports end of file,
// and it keeps the first failure so that the publish reports it rather
// than the store's view of a broken stream.
type attachmentReader struct {
	r       io.Reader
	finish  func() error
	decoded int64
	err     error
}

func (a *attachmentReader) Read(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	n, err := a.r.Read(p)
	a.decoded += int64(n)
	switch {
	case err == io.EOF:
		if ferr := a.finish(); ferr != nil {
			a.err = ferr
			return n, ferr
		}
	case err != nil:
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			err = registry.Invalid("the attachment's data is not valid base64")
		}
		a.err = err
	}
	return n, err
}
