package namenode

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("renewLease", (*NameNode).renewLease) }

// renewLease answers the renewLease RPC.
//
// RPC: ClientProtocol.renewLease(RenewLeaseRequestProto{clientName}) returns
// RenewLeaseResponseProto.
//
// Behavior: refreshes the renewal time of every file leased to clientName.
// The Go client sends it every second for its whole life, with or without
// open files; a holder with no files is a no-op. Nothing is journaled.
//
// Deliberate gaps: none.
func (nn *NameNode) renewLease(c *call, req *pb.RenewLeaseRequestProto) (proto.Message, error) {
	nn.mu.Lock()
	nn.leases.renew(req.GetClientName(), nn.now())
	nn.mu.Unlock()
	return &pb.RenewLeaseResponseProto{}, nil
}
