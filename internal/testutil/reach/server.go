package reach

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
)

// Response is what a Server answers every request with: something the code under test could
// use, so that an unguarded path goes on as it would with a real server.
type Response struct {
	ContentType, Body string
}

var (
	// SchemaResponse is a JSON schema, for code that resolves a schema $ref.
	SchemaResponse = Response{ContentType: "application/json", Body: `{"type": "string"}`}
	// ManifestResponse is a Kubernetes object, for code that fetches a kustomize resource.
	ManifestResponse = Response{ContentType: "application/yaml", Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n"}
)

// Server is a loopback HTTP or HTTPS server that counts connections and requests. Connections
// are the stricter count: a client that does not trust the test certificate connects but never
// sends a request.
type Server struct {
	*httptest.Server
	conns, requests atomic.Int64
}

// NewServer starts a Server answering r; Close stops it.
func NewServer(tls bool, r Response) *Server {
	s := &Server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.requests.Add(1)
		w.Header().Set("Content-Type", r.ContentType)
		_, _ = w.Write([]byte(r.Body))
	}))
	// httptest keeps this hook when it installs its own.
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	return s
}

// Conns is the number of connections accepted since the start or the last Reset.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Requests is the number of requests answered since the start or the last Reset.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Reset forgets the connections and requests so far.
func (s *Server) Reset() {
	s.conns.Store(0)
	s.requests.Store(0)
}
