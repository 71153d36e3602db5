package registry

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestEgressAddressClasses(t *testing.T) {
	allowLoopback := egressPolicy{allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, c := range []struct {
		addr           string
		class          string // "" = may be connected to by default
		allowedByLoop6 bool   // allowed with 127.0.0.0/8,::1/128
	}{
		{"203.0.113.10", "", true}, // documentation range: public registries here live in it
		{"198.51.100.1", "", true},
		{"8.8.8.8", "", true},
		{"2001:db8::1", "", true},
		{"100.64.0.1", "", true}, // shared address space is no refused class
		{"127.0.0.1", "a loopback address", true},
		{"127.255.0.9", "a loopback address", true},
		{"::1", "a loopback address", true},
		{"::ffff:127.0.0.1", "a loopback address", true}, // IPv4-mapped
		{"0.0.0.0", "an unspecified address", false},
		{"0.1.2.3", "an unspecified address", false},
		{"::", "an unspecified address", false},
		{"169.254.169.254", "a cloud metadata address", false},
		{"::ffff:169.254.169.254", "a cloud metadata address", false},
		{"64:ff9b::a9fe:a9fe", "a cloud metadata address", false}, // NAT64
		{"64:ff9b::7f00:1", "a loopback address", false},          // the allow-list matches the address dialled, not the embedded one
		{"fd00:ec2::254", "a cloud metadata address", false},
		{"100.100.100.200", "a cloud metadata address", false},
		{"169.254.1.1", "a link-local address", false},
		{"fe80::1%eth0", "a link-local address", false},
		{"10.0.0.1", "a private or unique-local address", false},
		{"172.16.5.4", "a private or unique-local address", false},
		{"192.168.1.1", "a private or unique-local address", false},
		{"fd12:3456::1", "a private or unique-local address", false},
		{"224.0.0.251", "a multicast address", false},
		{"ff02::1", "a multicast address", false},
	} {
		ip := netip.MustParseAddr(c.addr)
		if got := refusedClass(ip); got != c.class {
			t.Errorf("%s: class %q, want %q", c.addr, got, c.class)
		}
		var re *refusedAddrError
		if err := (egressPolicy{}).check(ip); (err != nil) != (c.class != "") || (err != nil && !errors.As(err, &re)) {
			t.Errorf("%s with no allow-list: %v", c.addr, err)
		}
		if err := allowLoopback.check(ip); (err == nil) != (c.class == "" || c.allowedByLoop6) {
			t.Errorf("%s with loopback allowed: %v", c.addr, err)
		}
	}
}

// The guard sits in the dialer: whatever a name resolves to, the address
// actually connected to is checked.
func TestEgressDialGuard(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dial := func(p egressPolicy, host string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := (&net.Dialer{Control: p.control}).DialContext(ctx, "tcp", net.JoinHostPort(host, port))
		if err == nil {
			c.Close()
		}
		return err
	}
	var re *refusedAddrError
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if err := dial(egressPolicy{}, host); !errors.As(err, &re) || re.class != "a loopback address" {
			t.Errorf("%s by default: %v", host, err)
		}
	}
	allow := egressPolicy{allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	if err := dial(allow, "127.0.0.1"); err != nil {
		t.Errorf("127.0.0.1 allowed: %v", err)
	}
}
