package agents

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

func node(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatalf("yaml %q: %v", src, err)
	}
	return &n
}

func testCtx() Context {
	return Context{
		Sim:   sim.Config{MinReplicas: new(1), MaxReplicas: 20},
		Trace: &traces.Trace{Name: "flat", Bucket: time.Minute, Rates: []float64{10, 10, 10}},
	}
}

func TestNames(t *testing.T) {
	want := []string{"hpa", "kpa", "oracle", "predictive", "static", "threshold"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	for _, name := range Names() {
		a, err := New(name, nil, testCtx())
		if err != nil || a == nil {
			t.Errorf("New(%q, nil) = %v, %v", name, a, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name, policy, params string
		ctx                  func(*Context)
		wantSub              []string
	}{
		{"unknown policy", "autopilot", "", nil, []string{`"autopilot"`, "unknown policy"}},
		{"unknown key", "hpa", "target_utilization: 0.5\ntarget_utilisation: 0.5\n", nil, []string{"line 2: params.target_utilisation: unknown key"}},
		{"unknown key kpa", "kpa", "panic: 3\n", nil, []string{`params.panic: unknown key "panic"`}},
		{"not a mapping", "threshold", "- 1\n", nil, []string{"line 1: params: must be a mapping"}},
		{"bad value", "threshold", "upper: 0.2\nlower: 0.5\n", nil, []string{"params.lower: 0.5: must be in [0, upper 0.2)"}},
		{"static out of range", "static", "n: 21\n", nil, []string{"params.n: 21: must be in [min_replicas, max_replicas] = [1, 20]"}},
		{"hpa target", "hpa", "target_utilization: 0\n", nil, []string{"params.target_utilization: 0: must be in (0, 1]"}},
		{"oracle without trace", "oracle", "", func(c *Context) { c.Trace = nil }, []string{"trace"}},
		{"bad sim config", "static", "", func(c *Context) { c.Sim.MinReplicas = new(30) }, []string{"sim.min_replicas: 30: must be in [0, max_replicas] = [0, 20]"}},
		{"predictive season", "predictive", "season: 7s\n", nil, []string{"params.season: 7s: must be >= 0 and a multiple"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx()
			if tc.ctx != nil {
				tc.ctx(&ctx)
			}
			var n *yaml.Node
			if tc.params != "" {
				n = node(t, tc.params)
			}
			_, err := New(tc.policy, n, ctx)
			if err == nil {
				t.Fatalf("New(%q, %q) succeeded", tc.policy, tc.params)
			}
			for _, s := range tc.wantSub {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestParamsDecoded(t *testing.T) {
	a, err := New("static", node(t, "n: 7\n"), testCtx())
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Decide(sim.Observation{}); got != 7 {
		t.Errorf("static n=7 decided %d", got)
	}
	a, err = New("hpa", node(t, "target_utilization: 0.8\nscale_down_stabilization: 60s\n"), testCtx())
	if err != nil {
		t.Fatal(err)
	}
	h := a.(*HPA)
	if h.p.TargetUtilization != 0.8 || h.p.ScaleDownStabilization != time.Minute || h.p.Tolerance != 0.1 {
		t.Errorf("decoded %+v", h.p)
	}
	if _, ok := a.(Resetter); !ok {
		t.Error("HPA is not a Resetter")
	}
}
