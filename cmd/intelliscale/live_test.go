package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --min 0 is refused with the reason, before any backend or Prometheus is touched,
// instead of silently becoming 1; so are a negative minimum and max below min.
func TestLiveControllerReplicaBounds(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--min", "0"}, "--min 0: must be >= 1: the live controller cannot scale to zero"},
		{[]string{"--min", "0", "--backend", "kubernetes"}, "--min 0: must be >= 1"},
		{[]string{"--min", "-2"}, "--min -2: must be >= 1"},
		{[]string{"--min", "4", "--max", "3"}, "--max 3: must be >= --min (4)"},
	} {
		args := append([]string{"live", "controller", "--prometheus", "http://127.0.0.1:1"}, tc.args...)
		code, _, stderr := runCmd(args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// The load generator reads traces with the traces loaders (one parser per format):
// a bad row is refused naming file and line, before any request is sent.
func TestLiveLoadgenUsesTheTraceLoaders(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("seconds,rate\n0,2\n60,-3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd("live", "loadgen", "--target", "http://127.0.0.1:1/", bad)
	if code != 1 || !strings.Contains(stderr, "bad.csv") || !strings.Contains(stderr, "line 3") || stdout != "" {
		t.Errorf("bad trace: exit %d, stdout %q, stderr %q; want 1 and bad.csv line 3", code, stdout, stderr)
	}
	// A per-bucket counts file, which the old CSV-only reader refused, plans its
	// requests (sent to a target that answers: one that does not fails the run).
	counts := filepath.Join(dir, "counts.txt")
	if err := os.WriteFile(counts, []byte("120\n60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	code, stdout, stderr = runCmd("live", "loadgen", "--target", srv.URL+"/", "--max-requests", "1", "--timeout", "10s", counts)
	if code != 0 || !strings.Contains(stdout, "loadgen: 1 requests") {
		t.Errorf("counts trace: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
