package kubernetes

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/live"
)

// An API server that accepts connections and never answers: the backend's start
// (the first read of the workload) is cut off at the timeout it is given, and the
// error names the server and the timeout. It used to wait for ever.
func TestOpenAgainstSilentAPIServerIsBounded(t *testing.T) {
	var requests atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+srv.URL+`"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	bs := live.RegisterBackends(fs, Backend())
	if err := fs.Parse([]string{"--kubeconfig", kubeconfig, "--workload", "deployment/app"}); err != nil {
		t.Fatal(err)
	}
	// The parent is done only long after the bound: it stops the test should the
	// bound be missing, and tells that case apart.
	parent, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := bs.Open(parent, fs, "kubernetes", io.Discard, 150*time.Millisecond)
	if err == nil {
		t.Fatalf("opened %s against a server that never answers", s.Target())
	}
	if parent.Err() != nil {
		t.Fatalf("open returned only when the test's own deadline passed: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"kubernetes API server " + srv.URL, "no answer within 150ms", "deployment ns/app"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q: want it to name %q", msg, want)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q: want it to wrap context.DeadlineExceeded", msg)
	}
	if requests.Load() == 0 {
		t.Error("the server saw no request: the open did not reach it")
	}
}
