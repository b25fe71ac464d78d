package namenode

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("getFileInfo", (*NameNode).getFileInfo) }

// getFileInfo answers the getFileInfo RPC.
//
// RPC: ClientProtocol.getFileInfo(GetFileInfoRequestProto{src}) returns
// GetFileInfoResponseProto{fs}.
//
// Behavior: the status of src, with an empty path field. A missing path is
// not an error: fs is left unset, as HDFS does, and the client turns that
// into os.ErrNotExist (Remove and RemoveAll depend on it). A path through a
// file is ParentNotDirectoryException; a bad path is InvalidPathException;
// EXECUTE is checked on every ancestor.
//
// Deliberate gaps: no symlinks, no /.reserved paths, no storage policy or
// erasure coding fields, no access-time update.
func (nn *NameNode) getFileInfo(c *call, req *pb.GetFileInfoRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	nn.mu.Lock()
	defer nn.mu.Unlock()
	res, err := nn.resolve(u, req.GetSrc())
	if err != nil {
		return nil, err
	}
	resp := &pb.GetFileInfoResponseProto{}
	if res.node != nil {
		resp.Fs = nn.fileStatus(res.node, "")
	}
	return resp, nil
}
