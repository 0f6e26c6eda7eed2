package promtest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// SilentServer is a server that accepts every connection and never answers, until
// the request is given up or the test ends: a Prometheus URL that hangs.
func SilentServer(t *testing.T) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() {
		close(done)
		srv.Close()
	})
	return srv
}
