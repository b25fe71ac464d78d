package netns

import (
	"fmt"
	"net/netip"
)

// Defaults of Options.
var (
	// DefaultPool is a private range rarely used by real networks.
	DefaultPool = netip.MustParsePrefix("10.213.0.0/16")
)

// DefaultNamePrefix names the host ends of the veth pairs: questlog<n>.
const DefaultNamePrefix = "questlog"

// maxLinkName is Linux's limit on interface names (IFNAMSIZ - 1).
const maxLinkName = 15

// Options configures New. The zero value uses the defaults.
type Options struct {
	// Pool is the IPv4 range the /30 subnets are taken from. Default:
	// DefaultPool.
	Pool netip.Prefix
	// NamePrefix names the host end of the veth pair, followed by the
	// subnet's index in Pool. Default: DefaultNamePrefix.
	NamePrefix string
}

func (o Options) withDefaults() (Options, error) {
	if !o.Pool.IsValid() {
		o.Pool = DefaultPool
	}
	o.Pool = o.Pool.Masked()
	if !o.Pool.Addr().Is4() || o.Pool.Bits() > 30 {
		return o, fmt.Errorf("netns: pool %s must be an IPv4 range of at least a /30", o.Pool)
	}
	if o.NamePrefix == "" {
		o.NamePrefix = DefaultNamePrefix
	}
	if longest := len(o.NamePrefix) + len(fmt.Sprint(o.subnets()-1)); longest > maxLinkName {
		return o, fmt.Errorf("netns: name prefix %q is too long for interface names (%d characters at most with the index)", o.NamePrefix, maxLinkName)
	}
	return o, nil
}

// subnets is how many /30s the pool holds.
func (o Options) subnets() int { return 1 << (30 - o.Pool.Bits()) }

// subnet returns the i-th /30 of the pool, its gateway (.1) and the
// namespace's address (.2).
func (o Options) subnet(i int) (subnet netip.Prefix, gateway, addr netip.Addr) {
	base := o.Pool.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	n += uint32(i) << 2
	at := func(off uint32) netip.Addr {
		v := n + off
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return netip.PrefixFrom(at(0), 30), at(1), at(2)
}
