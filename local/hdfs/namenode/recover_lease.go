package namenode

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("recoverLease", (*NameNode).recoverLease) }

// recoverLease answers the recoverLease RPC.
//
// RPC: ClientProtocol.recoverLease(RecoverLeaseRequestProto{src, clientName})
// returns RecoverLeaseResponseProto{result}.
//
// Behavior: used by Java clients (DistributedFileSystem.recoverLease) to take
// over a file left open by a dead writer. A closed file answers true. A file
// under construction is recovered at once, whatever its holder's renewal
// time (HDFS forces recovery here too), and the answer is true because
// recovery is synchronous. Missing path or directory:
// FileNotFoundException. WRITE on the file is required.
//
// Deliberate gaps: none beyond recovery being synchronous (HDFS answers
// false while the DataNode recovers the block).
func (nn *NameNode) recoverLease(c *call, req *pb.RecoverLeaseRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	err := nn.mutate(func(t *txn) error {
		res, err := nn.resolve(u, req.GetSrc())
		if err != nil {
			return err
		}
		f := res.node
		if f == nil || f.dir {
			return errNotFound(req.GetSrc())
		}
		if err := nn.checkAccess(u, f, accessWrite); err != nil {
			return err
		}
		if !f.underConstruction() {
			return nil
		}
		return nn.recoverFile(t, f, "recoverLease by "+req.GetClientName())
	})
	if err != nil {
		return nil, err
	}
	return &pb.RecoverLeaseResponseProto{Result: proto.Bool(true)}, nil
}
