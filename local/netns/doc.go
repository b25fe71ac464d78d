// Package netns gives processes a network of their own, the way Docker's
// bridge network gives one to a container and Lambda's micro-VMs to a
// function: a fresh network namespace whose loopback is its own, joined to
// the host by a veth pair.
//
// Inside, 127.0.0.1 is the namespace itself, not the host; the host is the
// gateway, Network.Gateway (the host's end of the pair), and every address
// the host owns is reachable through it. A program that reaches Kafka or HDFS
// at 127.0.0.1 therefore fails here as it fails in a SAM CLI container or on
// AWS, while one that is given a reachable address works.
//
// # How
//
// New starts a goroutine locked to an OS thread and moves that thread alone
// into a new network namespace (unshare(CLONE_NEWNET); namespaces belong to
// threads on Linux). Processes started by that thread (Start) and sockets it
// opens (Listen) belong to the namespace. The Go runtime never starts new
// threads from a locked thread whose state was changed, and the thread never
// returns to the scheduler: it exits with the goroutine at Close.
//
// The namespace has no name in /run/netns: the kernel frees it when its last
// process and thread are gone, and its veth pair with it. Processes started
// with a Pdeathsig (local/lambda's are) die with the thread that started
// them, so even a SIGKILLed emulator leaks nothing. Each Network takes a /30 from Options.Pool
// (10.213.0.0/16 by default): .1 is the gateway, .2 the namespace's eth0
// (its default route goes to the gateway). The host end of the pair is
// named <Options.NamePrefix><index of the /30>; creating it is the claim on
// the subnet, so concurrent emulators never share one.
//
// # Cost
//
// New runs three `ip` commands (iproute2) and takes a few milliseconds;
// starting a process in the namespace costs a channel round trip more than
// starting it on the host (see BenchmarkNew and, in local/lambda,
// BenchmarkColdStart).
//
// # Limits
//
// It needs Linux, root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and the ip command;
// Available says why not. Nothing is forwarded or masqueraded: processes
// inside reach the host's addresses, not other machines, and a resolver on
// the host's loopback (127.0.0.53) is out of reach, so give them IP
// addresses or names in /etc/hosts.
package netns
