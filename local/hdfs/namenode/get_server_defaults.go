package namenode

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("getServerDefaults", (*NameNode).getServerDefaults) }

// getServerDefaults answers the getServerDefaults RPC.
//
// RPC: ClientProtocol.getServerDefaults(GetServerDefaultsRequestProto)
// returns GetServerDefaultsResponseProto{serverDefaults}.
//
// Behavior: the configured block size, 512 bytes per checksum, 64 KiB write
// packets, replication 1, CRC32C, no trash, and encryptDataTransfer false
// (true would make the client ask for data encryption keys and SASL). The Go
// client asks before its first create and before dialing a DataNode.
//
// Deliberate gaps: no key provider, no storage policies.
func (nn *NameNode) getServerDefaults(c *call, req *pb.GetServerDefaultsRequestProto) (proto.Message, error) {
	return &pb.GetServerDefaultsResponseProto{ServerDefaults: &pb.FsServerDefaultsProto{
		BlockSize:           proto.Uint64(uint64(nn.cfg.BlockSize)),
		BytesPerChecksum:    proto.Uint32(512),
		WritePacketSize:     proto.Uint32(64 << 10),
		Replication:         proto.Uint32(1),
		FileBufferSize:      proto.Uint32(4096),
		EncryptDataTransfer: proto.Bool(false),
		TrashInterval:       proto.Uint64(0),
		ChecksumType:        pb.ChecksumTypeProto_CHECKSUM_CRC32C.Enum(),
	}}, nil
}
