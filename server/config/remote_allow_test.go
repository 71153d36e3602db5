package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestRemoteAllowCIDRs(t *testing.T) {
	c, err := load(nil, nil)
	if p, _ := c.RemoteAllowPrefixes(); err != nil || len(p) != 0 {
		t.Fatalf("default allow-list: %v %v", p, err)
	}
	c, err = load(nil, map[string]string{"REGISTRY_REMOTE_ALLOW_CIDRS": " 127.0.0.0/8, ::1/128,10.1.2.3/16 "})
	p, _ := c.RemoteAllowPrefixes()
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.1.0.0/16")}
	if err != nil || !slices.Equal(p, want) {
		t.Fatalf("from the environment: %v %v", p, err)
	}
	c, err = load([]string{"--remote-allow-cidrs", "192.168.0.0/24"}, map[string]string{"REGISTRY_REMOTE_ALLOW_CIDRS": "127.0.0.0/8"})
	if p, _ := c.RemoteAllowPrefixes(); err != nil || len(p) != 1 || p[0].String() != "192.168.0.0/24" {
		t.Fatalf("the flag wins: %v %v", p, err)
	}
	for _, bad := range []string{"127.0.0.1", "localhost/8", "10.0.0.0/33", "::1/129,"} {
		if _, err := load([]string{"--remote-allow-cidrs", bad}, nil); err == nil || !strings.Contains(err.Error(), "remote-allow-cidrs") {
			t.Errorf("%q: %v, want a startup error naming remote-allow-cidrs", bad, err)
		}
	}
}
