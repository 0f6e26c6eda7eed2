package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// A simulation beyond the limit is refused before any work with the estimate and
// the way out; --force runs it.
func TestSimRefusesHugeWorkUnlessForced(t *testing.T) {
	dir := t.TempDir()
	tl := filepath.Join(dir, "tl.csv")
	// The default limit: a built-in trace scaled to ten thousand requests per second.
	code, _, stderr := runCmd("sim", "--builtin", "step", "--scale-mean", "10000", "--timeline", tl)
	if code != 1 || !strings.Contains(stderr, "simulated requests") || !strings.Contains(stderr, "more than the limit of 2e+08") ||
		!strings.Contains(stderr, "--force") || !strings.Contains(stderr, "trace step") {
		t.Fatalf("exit %d, stderr %q: want a refusal with the estimate and --force", code, stderr)
	}
	if _, err := os.Stat(tl); err == nil {
		t.Fatal("a refused run wrote its timeline")
	}

	// A lowered limit, so that the forced run is short: 100 req/s for 10 minutes is
	// 60000 requests.
	defer func(old float64) { maxSimRequests = old }(maxSimRequests)
	maxSimRequests = 1e4
	trace := filepath.Join(dir, "flat.csv")
	var csv strings.Builder
	csv.WriteString("seconds,rate\n")
	for i := range 10 {
		fmt.Fprintf(&csv, "%d,100\n", 60*i)
	}
	if err := os.WriteFile(trace, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd("sim", "--trace", trace, "--timeline", tl)
	if code != 1 || !strings.Contains(stderr, "about 6e+04 simulated requests over 10m0s of trace") {
		t.Fatalf("exit %d, stderr %q: want a refusal estimating 6e+04 requests", code, stderr)
	}
	code, out, stderr := runCmd("sim", "--trace", trace, "--timeline", tl, "--force")
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "requests") {
		t.Fatalf("--force: no summary:\n%s", out)
	}
	if b, err := os.ReadFile(tl); err != nil || !strings.HasPrefix(string(b), "time_s,") {
		t.Fatalf("--force: timeline %q, %v", b, err)
	}
}

// The estimate is the integral of the rate (or the count of exact arrivals); a
// trace whose integral overflows is refused even with --force.
func TestEstimateWork(t *testing.T) {
	tr := &traces.Trace{Name: "x", Bucket: 30 * time.Second, Rates: []float64{1, 2, 3.5, 0}}
	st, err := traces.Info(tr)
	if err != nil {
		t.Fatal(err)
	}
	w := estimateWork(tr)
	if math.Abs(w.requests-st.Total) > 1e-9 || w.requests != 195 || w.span != 2*time.Minute {
		t.Fatalf("estimate %+v, want 195 requests over 2m (traces.Info: %v)", w, st.Total)
	}
	tr.Arrivals = []time.Duration{time.Second, 2 * time.Second}
	if w := estimateWork(tr); w.requests != 2 {
		t.Fatalf("with arrivals: %v requests, want 2", w.requests)
	}
	inf := simWork{requests: math.Inf(1), span: time.Hour}
	if err := inf.check("big", true); err == nil || !strings.Contains(err.Error(), "trace big") {
		t.Fatalf("infinite work with --force: %v", err)
	}
	if err := (simWork{requests: maxSimRequests}).check("ok", false); err != nil {
		t.Fatalf("work at the limit refused: %v", err)
	}
	if got := (simWork{requests: 8e6, span: time.Hour}).wall(); got != 2*time.Second {
		t.Fatalf("wall %v, want 2s at 4e6 requests/s", got)
	}
}

// Progress lines come every simProgressEvery of wall time and once at the end,
// with the share simulated increasing; a run that ends before the first line
// prints nothing.
func TestSimProgressLines(t *testing.T) {
	var clock time.Time
	tick := func() time.Time { clock = clock.Add(time.Second); return clock }
	var buf bytes.Buffer
	p := newSimProgress(&buf, tick)
	end := 100 * time.Minute
	for i := 1; i <= 20; i++ {
		p.update(time.Duration(i)*end/20, end)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// 20 updates one second apart (5% of the trace each): lines at 5, 10 and 15 s
	// of wall time, then the end at 20 s.
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{" 25% (25m0s of 1h40m0s simulated), 5s elapsed, about 15s left", " 50%", " 75%", "100% (1h40m0s of 1h40m0s simulated), 20s elapsed, about 0s left"} {
		if !strings.HasPrefix(lines[i], "sim: "+want) {
			t.Errorf("line %d %q, want prefix %q", i, lines[i], "sim: "+want)
		}
	}
	buf.Reset()
	p = newSimProgress(&buf, tick)
	p.update(end/2, end)
	p.update(end, end)
	if buf.Len() != 0 {
		t.Fatalf("a short run printed %q", buf.String())
	}
}
