package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// call is what a handler knows about the RPC it serves.
type call struct {
	method   string
	user     string
	clientID []byte
	remote   string
}

// methodFunc decodes a request body and serves it.
type methodFunc func(nn *NameNode, c *call, body []byte) (proto.Message, error)

// methods is the ClientProtocol method table; each RPC file adds itself in
// init().
var methods = map[string]methodFunc{}

// register adds a ClientProtocol method. Req is the request message type;
// the body is decoded into it before fn runs. A duplicate name is a
// programming error.
func register[Req any, PReq interface {
	*Req
	proto.Message
}](name string, fn func(nn *NameNode, c *call, req PReq) (proto.Message, error)) {
	if _, dup := methods[name]; dup {
		panic(fmt.Sprintf("namenode: method %q registered twice", name))
	}
	methods[name] = func(nn *NameNode, c *call, body []byte) (proto.Message, error) {
		req := PReq(new(Req))
		if err := proto.Unmarshal(body, req); err != nil {
			return nil, errIO("malformed %s request: %v", name, err)
		}
		return fn(nn, c, req)
	}
}
