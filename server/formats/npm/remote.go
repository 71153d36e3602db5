package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
)

// REMOTE npm projects. One upstream document per name: the full packument
// (what npm 11 asks for, and what npm view shows). The abbreviated form
// npm install may ask for instead is derived from it, so that a name costs
// one upstream fetch per TTL whatever its clients ask for, and one body in
// the blob store.
//
// Public packuments are large (tens of megabytes for typescript, next or
// aws-sdk), so the body is never held whole: it is read as a stream with a
// json.Decoder, one version at a time, into an index (per version: the
// abbreviated manifest, digests, upstream tarball URL, publish time) that
// the metadata cache keeps under the document's SHA-256, shared by every
// project with the same upstream. The full form is rendered by streaming
// the stored body again, straight into the response when it is too large
// to cache.

// remoteDoc ties a REMOTE read to the stored document it came from. It
// carries the request's context because rendering the full form (after
// the domain call returned) reads the body from the blob store.
type remoteDoc struct {
	ctx  context.Context
	core *registry.Service
	doc  *registry.Document
}

// fullAccept asks the upstream for the full packument.
const fullAccept = "application/json"

// remotePackage reads a name from a REMOTE project's upstream registry
// through the document cache (the project's TTL, serve-stale).
func (f *Format) remotePackage(ctx context.Context, prj *ent.Project, name string, full bool) (*Package, bool, error) {
	if prj.RemoteURL == nil {
		return nil, false, registry.UpstreamError(nil, "502 Bad Gateway - remote project %s has no upstream URL", prj.FullPath)
	}
	docURL := strings.TrimRight(*prj.RemoteURL, "/") + "/" + escapedName(name)
	doc, err := f.core.Remote.Document(ctx, prj, "npm:"+name, docURL, fullAccept)
	if errors.Is(err, registry.ErrUpstreamMiss) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	e, err := f.remoteIndex(ctx, doc, name)
	if err != nil {
		return nil, false, err
	}
	if len(e.versions) == 0 {
		return nil, false, nil
	}
	rev := "1-" + fmt.Sprintf("%x", doc.FetchedAt.UnixNano())
	return &Package{Name: name, Versions: e.versions, Tags: maps.Clone(e.tags), Rev: rev, cached: e,
		remote: &remoteDoc{ctx: ctx, core: f.core, doc: doc}}, true, nil
}

// remoteIndex returns the index of a stored upstream packument, from
// the metadata cache or by reading the body once (concurrent readers of
// the same content share one read).
func (f *Format) remoteIndex(ctx context.Context, doc *registry.Document, name string) (*cacheEntry, error) {
	key := "npm-doc\x00" + doc.SHA256
	v, err := f.core.Meta().Load(key, func() (any, int64, error) {
		obj, err := f.core.Remote.OpenDocument(context.WithoutCancel(ctx), doc)
		if err != nil {
			return nil, 0, err
		}
		defer obj.Close()
		e, err := parseIndex(obj, name)
		if err != nil {
			return nil, 0, err
		}
		e.id, e.cache = key, f.core.Meta()
		return e, e.size, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*cacheEntry), nil
}

// parseIndex reads an upstream packument as a stream: the versions npm
// can install (a semver version, a tarball, an integrity we can check),
// with their abbreviated manifests; dist-tags naming them; publish times.
// Only one version's manifest is decoded at a time.
func parseIndex(r io.Reader, name string) (*cacheEntry, error) {
	bad := func(err error) error {
		return registry.UpstreamError(err, "502 Bad Gateway - the upstream's packument for %s is not valid JSON", name)
	}
	e := &cacheEntry{versions: map[string]*pkgVersion{}, tags: map[string]string{}}
	var tags map[string]string
	times := map[string]time.Time{}
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, bad(err)
	}
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return nil, bad(err)
		}
		switch key {
		case "versions":
			err = walkVersions(dec, func(string) bool { return true }, func(v string, m map[string]json.RawMessage) error {
				if nv := indexVersion(v, m); nv != nil {
					e.versions[v] = nv
				}
				return nil
			})
		case "dist-tags":
			var raw json.RawMessage
			if err = dec.Decode(&raw); err == nil {
				_ = json.Unmarshal(raw, &tags) // a malformed tag list is no tags
			}
		case "time":
			var raw map[string]json.RawMessage
			err = dec.Decode(&raw)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				err = nil
			}
			for v, ts := range raw {
				var s string
				if json.Unmarshal(ts, &s) == nil {
					if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
						times[v] = t
					}
				}
			}
		default:
			err = skipJSONValue(dec)
		}
		if err != nil {
			return nil, bad(err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, bad(err)
	}
	for v, nv := range e.versions {
		nv.Published = times[v]
	}
	for tag, v := range tags {
		if e.versions[v] != nil {
			e.tags[tag] = v
		}
	}
	e.size = versionsSize(e.versions) + int64(len(e.tags))*64
	return e, nil
}

// indexVersion is what the index keeps of one upstream version (nil:
// not installable). m loses its "dist".
func indexVersion(v string, m map[string]json.RawMessage) *pkgVersion {
	if ValidateVersion(v) != nil {
		return nil
	}
	var dist distInfo
	if err := json.Unmarshal(m["dist"], &dist); err != nil || dist.Tarball == "" {
		return nil // nothing to install
	}
	if _, ok := sha512FromIntegrity(dist.Integrity); !ok {
		return nil // an integrity we cannot check is not served
	}
	delete(m, "dist")
	return &pkgVersion{Version: v, Abbreviated: abbreviateFields(m), Shasum: strings.ToLower(dist.Shasum),
		Integrity: dist.Integrity, Upstream: dist.Tarball}
}

// walkVersions walks a packument's "versions" object (the decoder is at
// its value), decoding the manifests of the versions want accepts, one at
// a time, and skipping the others.
func walkVersions(dec *json.Decoder, want func(string) bool, fn func(v string, m map[string]json.RawMessage) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // "versions": null
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("\"versions\" is not an object")
	}
	for dec.More() {
		v, err := nextKey(dec)
		if err != nil {
			return err
		}
		if !want(v) {
			if err := skipJSONValue(dec); err != nil {
				return err
			}
			continue
		}
		var m map[string]json.RawMessage
		if err := dec.Decode(&m); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				continue // not a manifest: not installable
			}
			return err
		}
		if m == nil {
			continue
		}
		if err := fn(v, m); err != nil {
			return err
		}
	}
	return expectDelim(dec, '}')
}

// skipJSONValue reads past one value (readme, maintainers, users...).
func skipJSONValue(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

// eachManifest streams the stored document's versions, calling fn with
// the manifest (without "dist") of each version want accepts.
func (r *remoteDoc) eachManifest(want func(string) bool, fn func(v string, manifest json.RawMessage) error) error {
	obj, err := r.core.Remote.OpenDocument(r.ctx, r.doc)
	if err != nil {
		return err
	}
	defer obj.Close()
	bad := func(err error) error {
		return registry.Unavailable(err, "could not read the cached upstream document")
	}
	dec := json.NewDecoder(obj)
	if err := expectDelim(dec, '{'); err != nil {
		return bad(err)
	}
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return bad(err)
		}
		if key != "versions" {
			if err := skipJSONValue(dec); err != nil {
				return bad(err)
			}
			continue
		}
		seen := map[string]bool{}
		err = walkVersions(dec, func(v string) bool { return want(v) && !seen[v] }, func(v string, m map[string]json.RawMessage) error {
			seen[v] = true
			delete(m, "dist")
			manifest, err := json.Marshal(m)
			if err != nil {
				return err
			}
			return fn(v, manifest)
		})
		if err != nil {
			var de *registry.Error
			if errors.As(err, &de) {
				return err
			}
			return bad(err)
		}
		return nil
	}
	return nil
}

// renderRemoteFull writes the full "versions" object of a REMOTE package
// from its stored document, in the upstream's order, one version at a
// time, into b.
func (pk *Package) renderRemoteFull(b *bytes.Buffer, tarballBase string) error {
	b.WriteByte('{')
	first := true
	err := pk.remote.eachManifest(func(v string) bool { return pk.Versions[v] != nil }, func(v string, manifest json.RawMessage) error {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(jsonString(v) + ":")
		appendWithDist(b, manifest, pk.distJSON(tarballBase, v))
		return nil
	})
	b.WriteByte('}')
	return err
}

// withManifests returns pk with every version's full manifest in memory
// (a merge of several REMOTE sources renders from the versions, not from
// one document). The cached versions are shared: they are copied.
func (pk *Package) withManifests() (*Package, error) {
	if pk.remote == nil {
		return pk, nil
	}
	out := *pk
	out.remote, out.cached = nil, nil
	out.Versions = make(map[string]*pkgVersion, len(pk.Versions))
	err := pk.remote.eachManifest(func(v string) bool { return pk.Versions[v] != nil }, func(v string, manifest json.RawMessage) error {
		nv := *pk.Versions[v]
		nv.Manifest = manifest
		out.Versions[v] = &nv
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// remoteManifest reads one version's full manifest from the stored document.
func (pk *Package) remoteManifest(v string) (json.RawMessage, error) {
	var out json.RawMessage
	err := pk.remote.eachManifest(func(x string) bool { return x == v && out == nil }, func(_ string, manifest json.RawMessage) error {
		out = manifest
		return nil
	})
	if err == nil && out == nil {
		out = pk.Versions[v].Abbreviated
	}
	return out, err
}
