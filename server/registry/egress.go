package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// A remote URL is user input that makes this server connect somewhere. The
// guard below refuses, by address class, the destinations a user must not
// reach through the registry (the host itself, its network, the cloud
// metadata service) unless the operator allows them. It is checked at dial
// time against the address actually connected to, so neither DNS
// rebinding nor a redirect gets around it; the check when a remoteUrl is
// configured only gives an early, clear answer.
//
// Classes, not a list of reserved ranges: documentation and benchmarking
// ranges (203.0.113.0/24 and friends) are where real registries live in
// some networks, and they must keep working by default.

// metadataAddrs are cloud instance metadata services. 169.254.169.254 (AWS,
// GCP's metadata.google.internal, Azure, OpenStack...) and fd00:ec2::254
// (AWS over IPv6) are link-local and unique-local anyway; Alibaba Cloud's
// 100.100.100.200 is in no refused class, so it is named here.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("100.100.100.200"),
}

var (
	// thisNetwork is 0.0.0.0/8: Linux connects 0.0.0.0 (and, with the
	// unicast extensions, more of 0/8) to the local host.
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	// nat64 is the well-known NAT64 prefix: on a NAT64 network
	// 64:ff9b::a9fe:a9fe reaches 169.254.169.254, so the embedded IPv4
	// address is what counts.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// refusedClass names the class of ip that remote fetches do not connect to
// by default, or returns "" for an address they may reach.
func refusedClass(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	if nat64.Contains(ip) {
		b := ip.As16()
		return refusedClass(netip.AddrFrom4([4]byte(b[12:])))
	}
	switch {
	case slices.Contains(metadataAddrs, ip):
		return "a cloud metadata address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsUnspecified() || thisNetwork.Contains(ip):
		return "an unspecified address"
	case ip.IsLinkLocalUnicast():
		return "a link-local address"
	case ip.IsPrivate():
		return "a private or unique-local address"
	case ip.IsMulticast():
		return "a multicast address"
	case !ip.IsValid():
		return "not an IP address"
	}
	return ""
}

// egressPolicy decides which addresses remote fetches may connect to.
type egressPolicy struct {
	// allow are the operator's exceptions (--remote-allow-cidrs).
	allow []netip.Prefix
}

// refusedAddrError is a connection the policy refused.
type refusedAddrError struct {
	addr  netip.Addr
	class string
}

func (e *refusedAddrError) Error() string {
	return fmt.Sprintf("%s is %s", e.addr, e.class)
}

// describe says what is refused about host: "10.0.0.1 is a private ..."
// or, for a name, "db.internal resolves to 10.0.0.1, a private ...".
func (e *refusedAddrError) describe(host string) string {
	if host == e.addr.String() || !e.addr.IsValid() {
		return host + " is " + e.class
	}
	return fmt.Sprintf("%s resolves to %s, %s", host, e.addr, e.class)
}

// check returns a *refusedAddrError when ip may not be connected to.
func (p egressPolicy) check(ip netip.Addr) error {
	plain := ip.Unmap().WithZone("")
	class := refusedClass(plain)
	if class == "" {
		return nil
	}
	for _, pfx := range p.allow {
		if pfx.Contains(plain) {
			return nil
		}
	}
	return &refusedAddrError{addr: plain, class: class}
}

// control is the net.Dialer hook: it runs for every address the dialer
// tries, after DNS, before connecting.
func (p egressPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Nothing that cannot be checked is connected to.
		return &refusedAddrError{class: "not an IP address"}
	}
	return p.check(ap.Addr())
}

// refusedRule tells the user who configured a refused destination why, and
// how the operator can allow it.
const refusedRule = "this registry does not connect to loopback, link-local, private, unique-local, unspecified, " +
	"multicast or cloud metadata addresses unless its operator allows them (--remote-allow-cidrs)"

// newEgressClient is the HTTP client of remote fetches: every connection,
// the first and each redirect's, goes through the policy.
func newEgressClient(p egressPolicy) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// No HTTP(S)_PROXY: through a proxy the dialer would see only the
	// proxy's address, and the proxy would connect wherever the URL says.
	tr.Proxy = nil
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, Control: p.control}).DialContext
	// A dead upstream must not hold reads for long: a read through a
	// virtual project moves on to lower-priority upstreams after this.
	tr.ResponseHeaderTimeout = 30 * time.Second
	tr.TLSHandshakeTimeout = 10 * time.Second
	return &http.Client{Transport: tr, CheckRedirect: checkUpstreamRedirect}
}

// checkUpstreamRedirect follows at most 5 redirects, to http(s) only (the
// dialer checks where each one connects), and keeps the credentials only
// on the origin they were sent to. Go's client keeps Authorization on a
// redirect to another port or scheme of the same host name, or to a
// subdomain; the upstream's credentials must reach only the upstream.
func checkUpstreamRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to a %q URL", req.URL.Scheme)
	}
	if !sameOrigin(via[0].URL, req.URL) {
		req.Header.Del("Authorization")
	}
	return nil
}

// sameOrigin compares scheme, host and port (an explicit default port is
// the same origin as none).
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && originHost(a) == originHost(b)
}

func originHost(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// resolveTimeout bounds the DNS lookup of a remoteUrl being configured.
const resolveTimeout = 2 * time.Second

// checkRemoteHost refuses a remoteUrl whose host is, or resolves to, an
// address remote fetches would refuse to connect to. Any refused address
// refuses the URL: a fetch might use any of them, and the user should
// learn of the problem now rather than from some later read. A host that
// does not resolve now is accepted: DNS may be down for a moment or the
// name not published yet, and the check at dial time is the one that
// counts anyway (DNS answers change).
func (r *Remote) checkRemoteHost(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return Invalid("remoteUrl must be an absolute http or https URL")
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		lctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		defer cancel()
		if addrs, err = net.DefaultResolver.LookupNetIP(lctx, "ip", host); err != nil {
			return nil
		}
	}
	for _, ip := range addrs {
		var re *refusedAddrError
		if err := r.egress.check(ip); errors.As(err, &re) {
			return Invalid("remoteUrl host %s: %s", re.describe(host), refusedRule)
		}
	}
	return nil
}
