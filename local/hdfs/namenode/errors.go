package namenode

import (
	"fmt"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// Java exception class names sent in RpcResponseHeaderProto.exceptionClassName.
// The client maps the first few to os.ErrNotExist, os.ErrPermission,
// syscall.ENOTEMPTY, os.ErrExist and os.ErrInvalid.
const (
	exFileNotFound        = "java.io.FileNotFoundException"
	exAccessControl       = "org.apache.hadoop.security.AccessControlException"
	exNotEmpty            = "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException"
	exAlreadyExists       = "org.apache.hadoop.fs.FileAlreadyExistsException"
	exIllegalArgument     = "org.apache.hadoop.HadoopIllegalArgumentException"
	exAlreadyBeingCreated = "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"
	exIO                  = "java.io.IOException"
	exParentNotDir        = "org.apache.hadoop.fs.ParentNotDirectoryException"
	exInvalidPath         = "org.apache.hadoop.fs.InvalidPathException"
	exLeaseExpired        = "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException"
	exComponentTooLong    = "org.apache.hadoop.hdfs.protocol.FSLimitException$PathComponentTooLongException"
	exNoSuchMethod        = "org.apache.hadoop.ipc.RpcNoSuchMethodException"
	exNoSuchProtocol      = "org.apache.hadoop.ipc.RpcNoSuchProtocolException"
	exIPC                 = "org.apache.hadoop.ipc.IpcException"
)

// RemoteError is an error sent to the client as a Java exception: status
// ERROR, the class name, the message and an error code.
type RemoteError struct {
	Class string
	Msg   string
	Code  pb.RpcResponseHeaderProto_RpcErrorCodeProto
}

func (e *RemoteError) Error() string { return e.Class + ": " + e.Msg }

func remote(class, format string, args ...any) *RemoteError {
	return &RemoteError{Class: class, Msg: fmt.Sprintf(format, args...), Code: pb.RpcResponseHeaderProto_ERROR_APPLICATION}
}

func errNotFound(path string) *RemoteError {
	return remote(exFileNotFound, "File does not exist: %s", path)
}

func errParentNotFound(path string) *RemoteError {
	return remote(exFileNotFound, "Parent directory doesn't exist: %s", parentOf(path))
}

func errParentNotDir(path string) *RemoteError {
	return remote(exParentNotDir, "Parent path is not a directory: %s", path)
}

func errExists(format string, args ...any) *RemoteError {
	return remote(exAlreadyExists, format, args...)
}

func errIO(format string, args ...any) *RemoteError { return remote(exIO, format, args...) }
