package features

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/repo"
	"github.com/prometheus/prometheus/model/labels"
)

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		expr string
		want string // substring of the error, including the position
	}{
		{`sum(rate(http_requests_total[1m])`, "1:34: parse error"},
		{`sum(rate(http_requestz_total[1m]))`, `1:10: unknown metric "http_requestz_total"`},
		{`sum(rate(http_requests_total{code="500"}[1m]))`, `1:10: selector http_requests_total{code="500"} matches no series`},
		{`sum(holt_winters(http_requests_queued[5m], 0.5, 0.5))`, "parse error"},
		{`sum(rate(http_requests_total[1m])) / quantile(0.9, app_worker_slots)`, `1:38: aggregation "quantile"`},
		{`sum by (code) (rate(http_requests_total[1m]))`, "1:1: grouping"},
		{`rate(http_requests_total[1m])`, "1:1: rate of a range selector must be aggregated"},
		{`app_worker_slots`, "1:1: selector app_worker_slots must be aggregated"},
		{`sum(http_requests_queued) > 3`, "1:1: filtering comparison"},
		{`sum(irate(http_requests_total[1m]))`, `1:5: aggregation argument irate`},
		{`sum(app_worker_slots @ 100)`, "1:5: @ modifier"},
		{`max_over_time(sum(app_worker_slots)[5m])`, "parse error"},
		{`max_over_time(sum(app_worker_slots)[5m:])`, "1:15: subquery without an explicit step"},
		{`sum({__name__=~"http.*"})`, "1:5: metric name matcher"},
	}
	for _, c := range cases {
		s := Spec{Features: []Feature{{Name: "f", Expr: c.expr}}}
		err := s.Validate()
		if err == nil {
			t.Errorf("%s: accepted", c.expr)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `feature "f" (`+c.expr+`)`) {
			t.Errorf("%s:\n got  %v\n want %q and the feature and expression", c.expr, err, c.want)
		}
	}
	var ue error = ErrUnsupported
	s := Spec{Features: []Feature{{Name: "f", Expr: `sum(foo)`}}}
	if err := s.Validate(); !errors.Is(err, ue) {
		t.Errorf("unknown metric error %v does not wrap ErrUnsupported", err)
	}
	bad := []Spec{
		{},
		{Features: []Feature{{Name: "a", Expr: "1"}, {Name: "a", Expr: "2"}}},
		{Features: []Feature{{Name: "A b", Expr: "1"}}},
		{Features: []Feature{{Name: "a", Expr: "1", Clip: -1}}},
	}
	for i, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("bad spec %d accepted", i)
		}
	}
}

func TestLoadSpec(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSpec(&b, Default(0.25)); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSpec(&b, "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != Default(0.25).String() || !strings.Contains(got.String(), `le="0.25"`) {
		t.Fatalf("round trip changed the spec:\n%s", got)
	}
	_, err = LoadSpec(strings.NewReader("features:\n  - name: x\n    expr: sum(app_worker_slots)\n    colour: red\n"), "spec.yaml")
	if err == nil || !strings.Contains(err.Error(), "spec.yaml") || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("unknown key: %v", err)
	}
	_, err = LoadSpec(strings.NewReader("features:\n  - name: x\n    expr: sum(nope)\n"), "spec.yaml")
	if err == nil || !strings.Contains(err.Error(), `spec.yaml: feature "x" (sum(nope)): 1:5: unknown metric`) {
		t.Fatalf("unknown metric: %v", err)
	}
}

func TestTransform(t *testing.T) {
	f := Feature{Fill: 1, Scale: 2, Clip: 3}
	inf := 1 / zero()
	for _, c := range []struct {
		v    float64
		ok   bool
		want float64
	}{{4, true, 2}, {100, true, 3}, {-100, true, -3}, {0, false, 1}, {inf - inf, true, 1}, {inf, true, 3}, {-inf, true, -3}} {
		if got := f.Transform(c.v, c.ok); got != c.want {
			t.Errorf("Transform(%v, %v) = %v, want %v", c.v, c.ok, got, c.want)
		}
	}
}

func zero() float64 { return 0 }

// TestOpenMetricsFormat checks the writer's output line by line: descriptors before
// samples, each family's samples contiguous and under its name, every series in time
// order, every written sample read back with its labels, value and timestamp, and a
// final # EOF. (Prometheus's model/textparse needs a module that go.mod does not
// list, so the full parser runs only through promtool below.)
func TestOpenMetricsFormat(t *testing.T) {
	scrapes := syntheticScrapes(5, 30)
	epoch := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := WriteOpenMetrics(&b, scrapes, epoch); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for k := range scrapes {
		for _, d := range series {
			key := d.Labels.String() + "@" + strconv.FormatFloat(float64(epoch.UnixMilli()+scrapes[k].Time.Milliseconds())/1000, 'f', 3, 64)
			want[key] = strconv.FormatFloat(d.Value(&scrapes[k]), 'g', -1, 64)
		}
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if lines[len(lines)-1] != "# EOF" {
		t.Fatalf("last line %q, want # EOF", lines[len(lines)-1])
	}
	fam, famType, seenFam := "", "", map[string]bool{}
	lastTS := map[string]float64{}
	n := 0
	for i, ln := range lines[:len(lines)-1] {
		if strings.HasPrefix(ln, "# TYPE ") {
			f := strings.Fields(ln)
			fam, famType = f[2], f[3]
			if seenFam[fam] {
				t.Fatalf("line %d: family %s split", i+1, fam)
			}
			seenFam[fam] = true
			continue
		}
		if strings.HasPrefix(ln, "#") {
			continue
		}
		sp := strings.LastIndexByte(ln, ' ')
		vp := strings.LastIndexByte(ln[:sp], ' ')
		metric, val, ts := ln[:vp], ln[vp+1:sp], ln[sp+1:]
		name := metric
		if j := strings.IndexByte(metric, '{'); j >= 0 {
			name = metric[:j]
		}
		if !strings.HasPrefix(name, fam) {
			t.Fatalf("line %d: %s under family %s", i+1, name, fam)
		}
		okName := map[string]bool{
			"counter":   name == fam+"_total",
			"gauge":     name == fam,
			"histogram": name == fam+"_bucket" || name == fam+"_sum" || name == fam+"_count",
		}[famType]
		if !okName {
			t.Fatalf("line %d: sample %s in %s family %s", i+1, name, famType, fam)
		}
		ls, err := parseLabels(metric)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		key := ls.String() + "@" + ts
		if want[key] != val {
			t.Fatalf("line %d: %s = %s, want %q", i+1, key, val, want[key])
		}
		tf, _ := strconv.ParseFloat(ts, 64)
		if tf <= lastTS[ls.String()] {
			t.Fatalf("line %d: series %s not in time order", i+1, ls)
		}
		lastTS[ls.String()] = tf
		n++
	}
	if n != len(want) {
		t.Fatalf("read %d samples, wrote %d", n, len(want))
	}
}

// parseLabels parses name{a="b",...} as the writer formats it.
func parseLabels(s string) (labels.Labels, error) {
	kv := []string{labels.MetricName}
	j := strings.IndexByte(s, '{')
	if j < 0 {
		return labels.FromStrings(append(kv, s)...), nil
	}
	kv = append(kv, s[:j])
	for _, p := range strings.Split(strings.TrimSuffix(s[j+1:], "}"), ",") {
		k, v, ok := strings.Cut(p, "=")
		uq, err := strconv.Unquote(v)
		if !ok || err != nil {
			return labels.Labels{}, fmt.Errorf("bad label %q", p)
		}
		kv = append(kv, k, uq)
	}
	return labels.FromStrings(kv...), nil
}

// TestOpenMetricsPromtool backfills the output with promtool built from the same
// Prometheus version ($PROMTOOL or <repo>/bin/promtool).
func TestOpenMetricsPromtool(t *testing.T) {
	tool := os.Getenv("PROMTOOL")
	if tool == "" {
		root, err := repoRoot()
		if err != nil {
			t.Skip(err)
		}
		tool = filepath.Join(root, "bin", "promtool")
	}
	if _, err := os.Stat(tool); err != nil {
		t.Skipf("promtool not found (%v): set PROMTOOL to a promtool built from prometheus v0.316.0", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "run.om")
	var b bytes.Buffer
	if err := WriteOpenMetrics(&b, syntheticScrapes(9, 200), time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "tsdb", "create-blocks-from", "openmetrics", file, filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	blocks, _ := filepath.Glob(filepath.Join(dir, "data", "*", "meta.json"))
	if len(blocks) == 0 {
		t.Fatalf("promtool wrote no blocks:\n%s", out)
	}
}

func repoRoot() (string, error) { return repo.Root(".") }

func benchScrapes(b *testing.B) ([]Feature, *Evaluator, *Storage, time.Duration) {
	spec := Default(0.5)
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ev, err := NewEvaluator(spec, epoch)
	if err != nil {
		b.Fatal(err)
	}
	st := NewStorage(epoch)
	scs := syntheticScrapes(1, 300)
	for i := range scs {
		scs[i].Time = time.Duration(i+1) * 15 * time.Second // regular, like the simulator
		ev.Record(&scs[i])
		st.Record(&scs[i])
	}
	return spec.Features, ev, st, scs[len(scs)-1].Time
}

// BenchmarkFeaturesNative: one evaluation of the full default feature set natively.
func BenchmarkFeaturesNative(b *testing.B) {
	fs, ev, _, at := benchScrapes(b)
	out := make([]float64, len(fs))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = ev.Observe(at, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/featureset")
}

// BenchmarkFeaturesPromQL: the same evaluation through the Prometheus engine over the
// in-memory storage (the parity test's reference path).
func BenchmarkFeaturesPromQL(b *testing.B) {
	fs, ev, st, at := benchScrapes(b)
	eng := NewEngine()
	vals := make([]float64, len(fs))
	ok := make([]bool, len(fs))
	spec := ev.Spec()
	ts := time.UnixMilli(st.Millis(at))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := EvalPromQL(context.Background(), eng, st, spec, ts, vals, ok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/featureset")
}
