package npm

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/registry"
)

// tarball is a gzipped tar with one file.
func tarball(t *testing.T, path, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write([]byte(content))
	_ = tw.Close()
	_ = zw.Close()
	return b.Bytes()
}

// publishDoc is the document npm publish sends for name@version.
func publishDoc(name, version string, tgz []byte) string {
	s1, s512 := sha1.Sum(tgz), sha512.Sum512(tgz)
	manifest := `{"name":` + jsonString(name) + `,"version":` + jsonString(version) +
		`,"dist":{"shasum":"` + hex.EncodeToString(s1[:]) + `","integrity":"sha512-` + base64.StdEncoding.EncodeToString(s512[:]) + `"}}`
	return `{"_id":` + jsonString(name) + `,"name":` + jsonString(name) + `,"dist-tags":{"latest":` + jsonString(version) + `},` +
		`"versions":{` + jsonString(version) + `:` + manifest + `},"_attachments":{` + jsonString(tarballName(name, version)) +
		`:{"content_type":"application/octet-stream","data":"` + base64.StdEncoding.EncodeToString(tgz) + `","length":` +
		strconv.Itoa(len(tgz)) + `}}}`
}

// replaceLast replaces the last old in s.
func replaceLast(s, old, new string) string {
	i := strings.LastIndex(s, old)
	return s[:i] + new + s[i+len(old):]
}

// readPut reads a PUT document the way PutPackage and publish do: the walk
// up to the data, the data decoded from the raw stream, and the rest of
// the document checked at the end of the data.
func readPut(body string) (*putDoc, []byte, error) {
	m := &meteredReader{r: strings.NewReader(body)}
	dec := json.NewDecoder(m)
	doc := &putDoc{}
	hasData, err := doc.walkUntilData(dec)
	if err != nil {
		return doc, nil, docError(m, err)
	}
	if !hasData {
		return doc, nil, nil
	}
	raw := bufio.NewReader(io.MultiReader(dec.Buffered(), m))
	if err := startString(raw); err != nil {
		return doc, nil, docError(m, err)
	}
	m.inData = true
	att := &attachmentReader{r: base64.NewDecoder(base64.StdEncoding, &jsonStringReader{r: raw})}
	att.finish = func() error {
		m.inData = false
		if err := doc.finishAfterData(json.NewDecoder(io.MultiReader(strings.NewReader(doc.resumePrefix()), raw))); err != nil {
			return docError(m, err)
		}
		return nil
	}
	data, err := io.ReadAll(att)
	return doc, data, err
}

func TestNPMPutDocument(t *testing.T) {
	tgz := tarball(t, "package/package.json", `{"name":"@acme/util","version":"1.0.0"}`)
	doc, data, err := readPut(publishDoc("@acme/util", "1.0.0", tgz))
	if err != nil {
		t.Fatalf("publish document refused: %v", err)
	}
	if !bytes.Equal(data, tgz) || doc.Name != "@acme/util" || doc.AttachmentKey != "util-1.0.0.tgz" ||
		doc.Length != int64(len(tgz)) || doc.DistTags["latest"] != "1.0.0" {
		t.Fatalf("read %d bytes of %d, doc %+v", len(data), len(tgz), doc)
	}
	rel, err := checkRelease("@acme/util", doc)
	if err != nil {
		t.Fatalf("release refused: %v", err)
	}
	if rel.Version != "1.0.0" || strings.Contains(string(rel.Manifest), "dist") || rel.Expect.SHA1 == "" || len(rel.Expect.SHA512) != 128 {
		t.Fatalf("release %+v", rel)
	}
	name, version, err := readPackageJSON(bytes.NewReader(tgz))
	if err != nil || name != "@acme/util" || version != "1.0.0" {
		t.Fatalf("package.json: %s@%s %v", name, version, err)
	}

	// A deprecate is the document without attachments: no data to read.
	doc, data, err = readPut(`{"name":"a","versions":{"1.0.0":{"name":"a","version":"1.0.0","deprecated":"old"}},"_attachments":{}}`)
	if err != nil || data != nil || string(doc.Versions["1.0.0"]) == "" {
		t.Fatalf("deprecate document: %+v %v", doc, err)
	}
}

// What a client sending a broken or hostile document is told: a 400 with
// the reason, never a stored file.
func TestNPMPutDocumentRefused(t *testing.T) {
	tgz := tarball(t, "package/package.json", `{"name":"a","version":"1.0.0"}`)
	good := publishDoc("a", "1.0.0", tgz)
	data := base64.StdEncoding.EncodeToString(tgz)
	for _, c := range []struct{ what, body, want string }{
		{"attachments first", `{"_attachments":{"a-1.0.0.tgz":{"data":"AAAA"}},"versions":{}}`, `"versions" must come before`},
		{"two attachments", replaceLast(good, `}}}`, `},"b.tgz":{"data":""}}}`), "exactly one tarball attachment"},
		{"versions after the data", replaceLast(good, `}}}`, `}},"versions":{}}`), "must come before"},
		{"trailing garbage", good + `{}`, "data after the document"},
		{"truncated", good[:len(good)-2], "the document ends early"},
		{"truncated in the data", good[:strings.Index(good, `"data":"`)+20], ""},
		{"bad escape", strings.Replace(good, data[:4], `\q`+data[2:4], 1), "bad escape"},
		{"no data", `{"versions":{},"_attachments":{"a-1.0.0.tgz":{"length":3}}}`, "has no data"},
		{"data not a string", `{"versions":{},"_attachments":{"a-1.0.0.tgz":{"data":12}}}`, "base64 string"},
		{"versions not an object", `{"versions":[1],"_attachments":{}}`, "wrong type"},
	} {
		_, _, err := readPut(c.body)
		if err == nil {
			t.Errorf("%s: accepted", c.what)
			continue
		}
		if c.want != "" && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.what, err, c.want)
		}
	}
}

// The escapes a JSON encoder may put in base64 data ("\/", \u002b) are
// read back; a control character is refused.
func TestNPMAttachmentEscapes(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want []byte
	}{
		{`: "\/\/\/\/"`, []byte{0xff, 0xff, 0xff}},
		{` :"\u002b\u002B++"`, []byte{0xfb, 0xef, 0xbe}},
		{`:"QUJD\nREVG"`, []byte("ABCDEF")},
	} {
		r := bufio.NewReader(strings.NewReader(c.raw + `}`))
		if err := startString(r); err != nil {
			t.Fatalf("%s: %v", c.raw, err)
		}
		got, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, &jsonStringReader{r: r}))
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: %x %v, want %x", c.raw, got, err, c.want)
		}
	}
	r := bufio.NewReader(strings.NewReader(":\"AA\x01A\""))
	_ = startString(r)
	if _, err := io.ReadAll(&jsonStringReader{r: r}); registry.KindOf(err) != registry.KindInvalid {
		t.Fatalf("a control character: %v", err)
	}
}

// A publish must match its URL, carry digests that can be checked, name
// its tarball as npm does, and tag only the version it publishes.
func TestNPMCheckRelease(t *testing.T) {
	const sri = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
	doc := func(mutate func(d *putDoc)) *putDoc {
		d := &putDoc{AttachmentKey: "util-1.0.0.tgz", Length: -1, DistTags: map[string]string{"latest": "1.0.0"},
			Versions: map[string]json.RawMessage{"1.0.0": json.RawMessage(`{"name":"@acme/util","version":"1.0.0","dist":{"integrity":"` + sri + `"}}`)}}
		if mutate != nil {
			mutate(d)
		}
		return d
	}
	manifest := func(m string) func(d *putDoc) {
		return func(d *putDoc) { d.Versions = map[string]json.RawMessage{"1.0.0": json.RawMessage(m)} }
	}
	if _, err := checkRelease("@acme/util", doc(nil)); err != nil {
		t.Fatalf("a good publish refused: %v", err)
	}
	if _, err := checkRelease("@acme/util", doc(func(d *putDoc) { d.AttachmentKey = "@acme/util-1.0.0.tgz" })); err != nil {
		t.Fatalf("the scoped attachment name npm writes refused: %v", err)
	}
	for _, c := range []struct {
		what   string
		mutate func(d *putDoc)
		want   string
	}{
		{"two versions", func(d *putDoc) { d.Versions["1.0.1"] = d.Versions["1.0.0"] }, "exactly one version"},
		{"not semver", func(d *putDoc) { d.Versions = map[string]json.RawMessage{"1.0": d.Versions["1.0.0"]} }, "invalid version"},
		{"other name", manifest(`{"name":"@acme/other","version":"1.0.0","dist":{"integrity":"` + sri + `"}}`), "the URL publishes"},
		{"other version", manifest(`{"name":"@acme/util","version":"1.0.1","dist":{"integrity":"` + sri + `"}}`), "the URL publishes"},
		{"no digests", manifest(`{"name":"@acme/util","version":"1.0.0","dist":{}}`), "integrity or shasum"},
		{"sha1 integrity only", manifest(`{"name":"@acme/util","version":"1.0.0","dist":{"integrity":"sha1-AAAA"}}`), "not a sha512"},
		{"short shasum", manifest(`{"name":"@acme/util","version":"1.0.0","dist":{"shasum":"abc"}}`), "40 hexadecimal"},
		{"manifest not an object", manifest(`"x"`), "package.json object"},
		{"other attachment", func(d *putDoc) { d.AttachmentKey = "util-9.9.9.tgz" }, "is not the tarball"},
		{"tag of another version", func(d *putDoc) { d.DistTags = map[string]string{"latest": "0.9.0"} }, "a publish tags the version"},
		{"tag like a version", func(d *putDoc) { d.DistTags = map[string]string{"1.0.0": "1.0.0"} }, "must not look like a version"},
	} {
		_, err := checkRelease("@acme/util", doc(c.mutate))
		if registry.KindOf(err) != registry.KindInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want invalid %q", c.what, err, c.want)
		}
	}
}

// npm deprecate PUTs the whole document back: only "deprecated" of a
// published version changes, and an empty message un-deprecates.
func TestNPMWithDeprecation(t *testing.T) {
	stored := json.RawMessage(`{"name":"a","version":"1.0.0","main":"index.js"}`)
	m, ok := withDeprecation(stored, json.RawMessage(`{"name":"a","version":"1.0.0","main":"evil.js","deprecated":"use 2.x"}`))
	if !ok || string(m) != `{"deprecated":"use 2.x","main":"index.js","name":"a","version":"1.0.0"}` {
		t.Fatalf("deprecate: %s %v", m, ok)
	}
	if _, ok := withDeprecation(m, json.RawMessage(`{"deprecated":"use 2.x"}`)); ok {
		t.Fatal("the same message counts as a change")
	}
	if _, ok := withDeprecation(stored, json.RawMessage(`{"main":"evil.js"}`)); ok {
		t.Fatal("a change of another field counts as a change")
	}
	m, ok = withDeprecation(m, json.RawMessage(`{"deprecated":""}`))
	if !ok || strings.Contains(string(m), "deprecated") {
		t.Fatalf("un-deprecate: %s %v", m, ok)
	}
}

// The tarball's package.json is found under its top directory, whatever
// the directory's name; a tarball without one, or no tarball at all, is
// refused.
func TestNPMReadPackageJSON(t *testing.T) {
	for _, path := range []string{"package/package.json", "./package/package.json", "node-foo/package.json"} {
		name, version, err := readPackageJSON(bytes.NewReader(tarball(t, path, `{"name":"a","version":"1.2.3"}`)))
		if err != nil || name != "a" || version != "1.2.3" {
			t.Errorf("%s: %s@%s %v", path, name, version, err)
		}
	}
	for what, r := range map[string]io.Reader{
		"nested package.json": bytes.NewReader(tarball(t, "package/lib/package.json", `{"name":"a","version":"1.2.3"}`)),
		"top-level file":      bytes.NewReader(tarball(t, "package.json", `{"name":"a","version":"1.2.3"}`)),
		"bad JSON":            bytes.NewReader(tarball(t, "package/package.json", `{"name":`)),
		"not gzip":            strings.NewReader("plain text"),
	} {
		if _, _, err := readPackageJSON(r); registry.KindOf(err) != registry.KindInvalid {
			t.Errorf("%s: %v, want invalid", what, err)
		}
	}
}
