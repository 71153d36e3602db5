package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pkgreg/registry/ent"
)

// Loops of remote repositories (A's upstream is B, B's is A, on one server
// or across several) are detected with a hop chain: every upstream request
// carries HopsHeader, the tokens of the remote projects it has passed
// through, plus this one's. A remote project that finds its own token in
// the chain of the request it serves is in a loop and answers 508 at once,
// without joining the fetch in flight that is waiting for this very
// request (which would tie up both handlers until the timeouts).
//
// A token is a hash of a random id per process and the project's id:
//   - per project, not per server, so that a chain that passes the same
//     server twice for different projects (X's remote reads Y's virtual,
//     which reads X's standard project) is not a loop;
//   - per process, since nothing else tells two registries apart (test
//     servers share secret keys and project ids). Replicas behind one URL
//     have different ids, so a loop may pass a project once per replica
//     before a process sees its own token again; maxHops bounds that.
//   - hashed, so upstreams learn nothing about our ids, and a user sees
//     (on an upstream they run) only the tokens of their own projects:
//     sending one back fails only their own reads.
const HopsHeader = "X-Registry-Hops"

// LoopHeader marks an error response caused by a loop, so that a remote
// project reading it from its upstream reports a loop, not just a 502.
const LoopHeader = "X-Registry-Loop"

// maxHops is the longest chain of remote projects a request may pass.
const maxHops = 8

// errLoop is the cause of loop errors, at the detecting project and at
// every remote project the answer passes on the way back.
var errLoop = errors.New("loop of remote repositories")

// IsLoop reports an error caused by a loop of remote repositories.
func IsLoop(err error) bool { return errors.Is(err, errLoop) }

type hopsKey struct{}

// WithHops records the hop chain a request arrived with (HopsHeader).
func WithHops(ctx context.Context, header string) context.Context {
	if header == "" {
		return ctx
	}
	var hops []string
	for _, h := range strings.Split(header, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hops = append(hops, h)
		}
		if len(hops) > maxHops { // enough to refuse it
			break
		}
	}
	return context.WithValue(ctx, hopsKey{}, hops)
}

func hopsFrom(ctx context.Context) []string {
	h, _ := ctx.Value(hopsKey{}).([]string)
	return h
}

// hopToken is prj's token in hop chains of this process.
func (r *Remote) hopToken(prj *ent.Project) string {
	sum := sha256.Sum256([]byte(r.instanceID + "/" + strconv.Itoa(prj.ID)))
	return hex.EncodeToString(sum[:8])
}

// checkLoop refuses to read prj's upstream for a request that already
// passed through prj (or through too many remote projects).
func (r *Remote) checkLoop(ctx context.Context, prj *ent.Project) error {
	hops := hopsFrom(ctx)
	switch {
	case len(hops) >= maxHops:
		return &Error{Kind: KindLoopDetected, Cause: errLoop, Message: "508 Loop Detected - the request passed through " +
			strconv.Itoa(len(hops)) + " remote repositories before reaching " + prj.FullPath + "; the limit is " + strconv.Itoa(maxHops)}
	case slices.Contains(hops, r.hopToken(prj)):
		return &Error{Kind: KindLoopDetected, Cause: errLoop, Message: "508 Loop Detected - the upstream of remote project " +
			prj.FullPath + " leads back to it; change the remoteUrl of a project in the loop"}
	}
	return nil
}

// setHops adds the chain, with prj's token, to an upstream request.
func (r *Remote) setHops(ctx context.Context, req *http.Request, prj *ent.Project) {
	req.Header.Set(HopsHeader, strings.Join(append(slices.Clone(hopsFrom(ctx)), r.hopToken(prj)), ","))
}

// upstreamStatusError is the error for an upstream answer that is neither
// a file nor a definitive miss. A loop further on is named as such.
func upstreamStatusError(resp *http.Response) error {
	if resp.StatusCode == http.StatusLoopDetected || resp.Header.Get(LoopHeader) != "" {
		return UpstreamError(errLoop, "502 Bad Gateway - the upstream registry reported a loop of remote repositories "+
			"(an upstream URL further on leads back to a project already passed); change the remoteUrl of a project in the loop")
	}
	return UpstreamError(nil, "502 Bad Gateway - the upstream registry answered %d", resp.StatusCode)
}
