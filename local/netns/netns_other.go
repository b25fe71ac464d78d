//go:build !linux

package netns

import (
	"errors"
	"net"
	"net/netip"
	"os/exec"
)

var errUnsupported = errors.New("network namespaces need Linux")

// Available reports why New cannot work here.
func Available() error { return errUnsupported }

// Network is a network namespace; only Linux has them.
type Network struct {
	Gateway, Addr netip.Addr
	Link          string
}

// New fails: only Linux has network namespaces.
func New(Options) (*Network, error) { return nil, errUnsupported }

func (*Network) Start(*exec.Cmd) error                       { return errUnsupported }
func (*Network) Listen(string, string) (net.Listener, error) { return nil, errUnsupported }
func (*Network) Close() error                                { return nil }
