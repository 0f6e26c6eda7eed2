package experiments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/traces"
)

func TestParseErrorsNameFileLineField(t *testing.T) {
	base := "name: x\ntraces:\n  - {name: a, builtin: bursty}\npolicies:\n  - {name: t, kind: threshold}\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown kind", "name: x\ntraces:\n  - {name: a, builtin: bursty}\npolicies:\n  - {name: t, kind: threshold}\n  - name: p\n    kind: ppo2\n",
			`c.yaml line 7: policies[1].kind: "ppo2": unknown`},
		{"unknown key", base + "wokers: 2\n", `c.yaml line 6: wokers: unknown key "wokers"`},
		{"duplicate policy", base + "  - {name: t, kind: hpa}\n", `c.yaml line 6: policies[1].name: "t": duplicate`},
		{"split sum", "name: x\ntraces:\n  - name: a\n    builtin: bursty\n    split: {train: 0.5, validation: 0.2, test: 0.2}\npolicies:\n  - {name: t, kind: hpa}\n",
			"c.yaml line 5: traces[0].split: shares sum to 0.9"},
		{"split NaN", "name: x\ntraces:\n  - name: a\n    builtin: bursty\n    split: {train: .nan, validation: 0.2, test: 0.2}\npolicies:\n  - {name: t, kind: hpa}\n",
			"c.yaml line 5: traces[0].split: train NaN, validation 0.2, test 0.2: each must be > 0"},
		{"no source", "name: x\ntraces:\n  - {name: a}\npolicies:\n  - {name: t, kind: hpa}\n", "c.yaml line 3: traces[0]: exactly one of builtin, file and synth"},
		{"tuned without grid", base + "  - {name: h, kind: hpa-tuned}\n", "c.yaml line 6: policies[1].tune.grid"},
		{"learned without steps", base + "  - {name: d, kind: dqn}\n", "c.yaml line 6: policies[1].train.steps"},
		{"train on rule", base + "  - {name: d, kind: hpa, train: {steps: 3}}\n", "c.yaml line 6: policies[1].train: only valid"},
		{"bad name", "name: x y\ntraces:\n  - {name: a, builtin: bursty}\npolicies:\n  - {name: t, kind: hpa}\n", "c.yaml line 1: name"},
		{"cell separator in name", base + "  - {name: a__b, kind: hpa}\n", `c.yaml line 6: policies[1].name: "a__b": must be non-empty, contain only letters, digits, '-', '_' and '.', not hold "__"`},
		{"dot name", "name: x\ntraces:\n  - {name: .., builtin: bursty}\npolicies:\n  - {name: t, kind: hpa}\n", `c.yaml line 3: traces[0].name: "..": must be non-empty, contain only letters, digits, '-', '_' and '.', not hold "__" (which joins names in cell directories), and not be "." or ".."`},
		{"same trace twice", "name: x\ntraces:\n  - {name: a, builtin: step, scale_mean: 20}\n  - {name: b, builtin: step, scale_mean: 20}\npolicies:\n  - {name: t, kind: hpa}\n",
			`c.yaml line 4: traces[1]: the same traffic and windows as traces[0] ("a"): a trace listed twice counts twice`},
		{"unknown baseline", base + "baselines: [nope]\n", `c.yaml line 6: baselines[0]: "nope": no such policy`},
		{"bad eval", base + "eval: [test, holdout]\n", `c.yaml line 6: eval[1]: "holdout"`},
		{"duplicate seed", base + "seeds: [1, 1]\n", "c.yaml line 6: seeds[1]: 1: duplicate"},
		{"empty seeds", base + "seeds: []\n", "c.yaml line 6: seeds: at least one seed is required"},
		{"empty eval", base + "eval: []\n", "c.yaml line 6: eval: at least one window is required"},
		{"empty file", "", "c.yaml: empty configuration"},
		{"only comments", "# an experiment, some day\n\n", "c.yaml: empty configuration"},
		{"null document", "null\n", "c.yaml: empty configuration"},
		{"empty mapping", "---\n{}\n", "c.yaml: empty configuration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "c.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg := tinyCfg(t)
	if len(cfg.Seeds) != 3 || cfg.Workers < 1 {
		t.Errorf("seeds %v workers %d", cfg.Seeds, cfg.Workers)
	}
	if cfg.Traces[0].Split != (Split{0.6, 0.2, 0.2}) {
		t.Errorf("default split %+v", cfg.Traces[0].Split)
	}
	if strings.Join(cfg.Eval, ",") != "validation,test" {
		t.Errorf("eval %v", cfg.Eval)
	}
	if strings.Join(cfg.Baselines, ",") != "threshold,hpa-tuned" {
		t.Errorf("baselines %v", cfg.Baselines)
	}
	if cfg.Policies[1].Tune.Param != "target_utilization" {
		t.Errorf("tune param %q", cfg.Policies[1].Tune.Param)
	}
	resolvedFixedPoint(t, cfg)
	// Seeds left out are the default seeds (written out empty, an error).
	noSeeds, err := Parse([]byte(strings.Replace(tinyConfig, "seeds: [1, 2, 3]\n", "", 1)), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(noSeeds.Seeds) != "[1 2 3]" {
		t.Errorf("default seeds %v", noSeeds.Seeds)
	}
}

// resolvedFixedPoint checks that the resolved config (config.yaml) reads back to
// itself, and returns it.
func resolvedFixedPoint(t *testing.T, cfg *Config) []byte {
	t.Helper()
	data, err := marshalConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(data, "config.yaml")
	if err != nil {
		t.Fatalf("resolved config does not parse: %v\n%s", err, data)
	}
	data2, _ := marshalConfig(again)
	if !bytes.Equal(data, data2) {
		t.Errorf("resolved config not a fixed point:\n%s\n---\n%s", data, data2)
	}
	return data
}

// TestUnseenConfigMatchesReal: make bench-unseen runs the policies, service and
// seeds of make bench-real, and other windows of the same traces.
func TestUnseenConfigMatchesReal(t *testing.T) {
	real, err := Load("configs/real.yaml")
	if err != nil {
		t.Fatal(err)
	}
	unseen, err := Load("configs/unseen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []struct {
		name string
		r, u any
	}{{"policies", real.Policies, unseen.Policies}, {"sim", real.Sim, unseen.Sim}, {"seeds", real.Seeds, unseen.Seeds}, {"baselines", real.Baselines, unseen.Baselines}} {
		a, err := yaml.Marshal(part.r)
		if err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(part.u)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differ between real.yaml and unseen.yaml:\n%s\n---\n%s", part.name, a, b)
		}
	}
	if len(unseen.Traces) != len(real.Traces) {
		t.Fatalf("%d traces, real.yaml has %d", len(unseen.Traces), len(real.Traces))
	}
	for i, u := range unseen.Traces {
		r := real.Traces[i]
		if u.File != r.File || u.Name == r.Name {
			t.Errorf("traces[%d]: %q of %s, want another window of real.yaml's %q (%s)", i, u.Name, u.File, r.Name, r.File)
		}
		// The three days must not overlap real.yaml's, whose test windows are read.
		if u.Start < r.Start+r.Length && r.Start < u.Start+u.Length {
			t.Errorf("traces[%d]: [%v, %v) overlaps real.yaml's [%v, %v)", i, u.Start, u.Start+u.Length, r.Start, r.Start+r.Length)
		}
	}
}

func TestShippedConfigsParse(t *testing.T) {
	// Experiment configs (configs/ also holds training configs of experiments/train).
	for _, f := range []string{"configs/default.yaml", "configs/real.yaml", "configs/unseen.yaml", "configs/small.yaml"} {
		cfg, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(cfg.Seeds) < 3 {
			t.Errorf("%s: %d seeds; headline figures need at least 3", f, len(cfg.Seeds))
		}
		kinds := map[string]bool{}
		for _, p := range cfg.Policies {
			kinds[p.Kind] = true
		}
		for _, k := range []string{kindThreshold, kindHPA, KindHPATuned, kindKPA, kindPredictive, KindOracle, kindPPO, kindDQN} {
			if !kinds[k] {
				t.Errorf("%s: no %s policy", f, k)
			}
		}
	}
}

func TestWindowBounds(t *testing.T) {
	b, err := windowBounds(TraceSpec{Name: "x", Split: Split{0.6, 0.2, 0.2}}, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bucketRange{SplitTrain: {0, 6}, SplitValidation: {6, 8}, SplitTest: {8, 10}}
	for k, w := range want {
		if b[k] != w {
			t.Errorf("%s: %v, want %v", k, b[k], w)
		}
	}
	ws := &Windows{Train: Window{0, 90 * time.Second}, Validation: Window{2 * time.Minute, 3 * time.Minute}, Test: Window{3 * time.Minute, 5 * time.Minute}}
	b, err = windowBounds(TraceSpec{Name: "x", Windows: ws}, 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if b[SplitTrain] != (bucketRange{0, 2}) || b[SplitTest] != (bucketRange{3, 5}) {
		t.Errorf("explicit windows: %v", b)
	}
	ws.Test.End = 6 * time.Minute
	if _, err := windowBounds(TraceSpec{Name: "x", Windows: ws}, 5, time.Minute); err == nil {
		t.Error("window past the end accepted")
	}
	if _, err := windowBounds(TraceSpec{Name: "x", Split: Split{0.9, 0.05, 0.05}}, 5, time.Minute); err == nil {
		t.Error("empty window accepted")
	}
}

func TestSliceTrace(t *testing.T) {
	tr := &traces.Trace{Name: "x", Bucket: time.Second, Rates: []float64{1, 2, 3, 4},
		Arrivals: []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 2100 * time.Millisecond, 3900 * time.Millisecond}}
	s := sliceTrace(tr, bucketRange{1, 3})
	if len(s.Rates) != 2 || s.Rates[0] != 2 || s.Rates[1] != 3 {
		t.Errorf("rates %v", s.Rates)
	}
	if len(s.Arrivals) != 2 || s.Arrivals[0] != 500*time.Millisecond || s.Arrivals[1] != 1100*time.Millisecond {
		t.Errorf("arrivals %v", s.Arrivals)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

func TestDeriveSeedDependsOnSeedAndLabelOnly(t *testing.T) {
	seen := map[uint64]string{}
	for _, seed := range []uint64{0, 1, 2, 3} {
		for _, l := range []string{"a/test", "a/validation", "b/test", "train/ppo"} {
			v := deriveSeed(seed, l)
			if prev, ok := seen[v]; ok {
				t.Errorf("collision: %d/%s and %s", seed, l, prev)
			}
			seen[v] = l
			if deriveSeed(seed, l) != v {
				t.Error("not a function of its arguments")
			}
		}
	}
}

func TestChooseGrid(t *testing.T) {
	pts := []gridPoint{{0.5, 1, 30}, {0.7, 4, 20}, {0.8, 5, 18}, {0.9, 9, 12}}
	if b, ok := chooseGrid(pts, 5); !ok || b.Value != 0.8 {
		t.Errorf("budget 5: %v %v, want 0.8 qualified (cheapest within budget)", b, ok)
	}
	if b, ok := chooseGrid(pts, 0.5); ok || b.Value != 0.5 {
		t.Errorf("budget 0.5: %v %v, want 0.5 unqualified (fewest violations)", b, ok)
	}
}

func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/5"); err != nil || s != (Shard{2, 5}) {
		t.Errorf("2/5: %v %v", s, err)
	}
	for _, bad := range []string{"5/5", "-1/3", "1/0", "a/b", "1/3x", "1"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Every cell belongs to exactly one shard.
	for i := range 10 {
		n := 0
		for k := range 3 {
			if (Shard{k, 3}).Has(i) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("cell %d in %d shards", i, n)
		}
	}
}

func TestNumJSON(t *testing.T) {
	in := map[string]Num{"a": Num(math.NaN()), "b": 1.25, "c": Num(math.Inf(1))}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"a":null,"b":1.25,"c":null}` {
		t.Errorf("json %s", data)
	}
	var out map[string]Num
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(out["a"])) || out["b"] != 1.25 {
		t.Errorf("round trip %v", out)
	}
}

func TestWithParamOverrides(t *testing.T) {
	var n yaml.Node
	yaml.Unmarshal([]byte("{target_utilization: 0.8, tolerance: 0.1}"), &n)
	p := withParam(n.Content[0], "target_utilization", 0.55)
	var got map[string]float64
	if err := p.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got["target_utilization"] != 0.55 || got["tolerance"] != 0.1 || len(got) != 2 {
		t.Errorf("params %v", got)
	}
	var orig map[string]float64
	n.Content[0].Decode(&orig)
	if orig["target_utilization"] != 0.8 {
		t.Error("original params modified")
	}
}

func TestJobManifest(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJob(&b, JobSpec{Name: "bench", Image: "ghcr.io/x/intelliscale:1", Config: "/etc/intelliscale/default.yaml", Shards: 4, Parallelism: 2}); err != nil {
		t.Fatal(err)
	}
	var job struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Parallelism    int    `yaml:"parallelism"`
			Template       struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []struct {
						Image        string   `yaml:"image"`
						Args         []string `yaml:"args"`
						VolumeMounts []struct {
							Name      string `yaml:"name"`
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					} `yaml:"containers"`
					Volumes []struct {
						Name string `yaml:"name"`
						PVC  struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					} `yaml:"volumes"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b.Bytes(), &job); err != nil {
		t.Fatalf("manifest is not YAML: %v\n%s", err, b.String())
	}
	s := job.Spec
	if job.APIVersion != "batch/v1" || job.Kind != "Job" || s.CompletionMode != "Indexed" || s.Completions != 4 || s.Parallelism != 2 {
		t.Fatalf("job %+v", job)
	}
	ps := s.Template.Spec
	if ps.RestartPolicy != "Never" || len(ps.Containers) != 1 || ps.Containers[0].Image != "ghcr.io/x/intelliscale:1" {
		t.Fatalf("pod %+v", ps)
	}
	args := strings.Join(ps.Containers[0].Args, " ")
	for _, want := range []string{"experiment run", "--config /etc/intelliscale/default.yaml", "--shard $(SHARD_INDEX)/4", "--out /results/bench/shard-$(SHARD_INDEX)"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if len(ps.Volumes) != 1 || ps.Volumes[0].PVC.ClaimName != "intelliscale-results" || ps.Containers[0].VolumeMounts[0].MountPath != "/results" {
		t.Errorf("volumes %+v mounts %+v", ps.Volumes, ps.Containers[0].VolumeMounts)
	}
	b.Reset()
	if err := WriteJob(&b, JobSpec{Name: "eval", Image: "x", Config: "/c.yaml", Shards: 2, Phase: RunEvaluate, Prepared: "/results/prep/merged"}); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b.Bytes(), &job); err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(job.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "--phase evaluate --prepared /results/prep/merged --shard") {
		t.Errorf("evaluate job args %q", args)
	}
	if err := WriteJob(&b, JobSpec{Name: "Bad_Name", Image: "x", Config: "c", Shards: 1}); err == nil {
		t.Error("bad name accepted")
	}
}

// With several bad windows the error names the first in time order, every time (the
// windows must not be checked in map order).
func TestWindowBoundsErrorDeterministic(t *testing.T) {
	ws := &Windows{Train: Window{0, time.Minute}, Validation: Window{time.Minute, 7 * time.Minute}, Test: Window{7 * time.Minute, 9 * time.Minute}}
	for i := range 50 {
		_, err := windowBounds(TraceSpec{Name: "x", Windows: ws}, 5, time.Minute)
		if err == nil || !strings.Contains(err.Error(), "validation window") {
			t.Fatalf("call %d: %v, want the validation window named", i, err)
		}
	}
	for i := range 50 {
		_, err := windowBounds(TraceSpec{Name: "x", Split: Split{0.98, 0.01, 0.01}}, 5, time.Minute)
		if err == nil || !strings.Contains(err.Error(), "validation window is empty") {
			t.Fatalf("call %d: %v, want the validation window named", i, err)
		}
	}
}
