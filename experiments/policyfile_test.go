package experiments

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trainedConf trains a small PPO in target mode on the fluid model and sweeps its
// deploy-time knob; fileConf evaluates the file that training exported, under
// another name, with the same sweep.
const (
	pfHead = `name: pf
seeds: [1]
sim: {max_replicas: 20}
traces:
  - name: wave
    synth: {duration: 3h, bucket: 1m, base_rate: 30, diurnal: {amplitude: 0.5, peak_hour: 1}}
policies:
`
	trainedConf = pfHead + `  - name: ppo
    kind: ppo
` + tinyPPOTrain + `    sweep: {param: headroom_scale, values: [0.5]}
`
	fileConf = pfHead + `  - name: frozen
    kind: ppo
    file: FILE
    sweep: {param: headroom_scale, values: [0.5]}
`
)

// trainedPolicyFile runs trainedConf with the real backend and returns its
// results directory and the policy file its one training cell exported.
func trainedPolicyFile(t *testing.T) (out, file string) {
	t.Helper()
	cfg, err := Parse([]byte(trainedConf), "pf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	if _, err := (&Runner{Config: cfg, Out: out, Backend: DefaultBackend(), Workers: 2}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out, filepath.Join(out, "train", "ppo__1", "policy.json")
}

// TestPolicyFileEvaluatesAsTrained: a policy file (file:) runs no training, and
// every one of its evaluation cells, its sweep's included, has the figures of the
// trained policy it was exported from on the same window and seed.
func TestPolicyFileEvaluatesAsTrained(t *testing.T) {
	trained, file := trainedPolicyFile(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "frozen.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "pf.yaml")
	// A relative path is taken from the config file's directory.
	if err := os.WriteFile(conf, []byte(strings.Replace(fileConf, "FILE", "frozen.json", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	prepare, eval := Matrix(cfg)
	if len(prepare) != 0 {
		t.Fatalf("a policy file has no training cells, got %v", prepare)
	}
	out := t.TempDir()
	st, err := (&Runner{Config: cfg, Out: out, Backend: DefaultBackend(), Workers: 2}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Ran != len(eval) || len(eval) != 2*len(cfg.Eval) {
		t.Fatalf("ran %d cells of %d, want the 2 variants on %d windows", st.Ran, len(eval), len(cfg.Eval))
	}
	if _, err := os.Stat(filepath.Join(out, "train")); !os.IsNotExist(err) {
		t.Fatalf("train directory: %v, want none", err)
	}
	kept, err := os.ReadFile(filepath.Join(out, "policies", "frozen", "policy.json"))
	if err != nil || !bytes.Equal(kept, data) {
		t.Fatalf("the run's copy of the file: %v, equal %v", err, bytes.Equal(kept, data))
	}
	for _, c := range eval {
		orig := c
		orig.Policy = strings.Replace(c.Policy, "frozen", "ppo", 1)
		want := cellMetricsJSON(t, filepath.Join(trained, orig.Dir()))
		got := cellMetricsJSON(t, filepath.Join(out, c.Dir()))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: figures differ from %s's\n got %s\nwant %s", c.Name(), orig.Name(), got, want)
		}
	}

	// The file changed after cells were produced from it: refused, and the run's
	// copy is left as it was.
	if err := os.WriteFile(src, append(data, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = (&Runner{Config: cfg, Out: out, Backend: DefaultBackend()}).Run(context.Background())
	if want := fmt.Sprintf("differs from the copy %d cells were produced with", len(eval)); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("changed file: got %v", err)
	}
	if kept2, _ := os.ReadFile(filepath.Join(out, "policies", "frozen", "policy.json")); !bytes.Equal(kept2, data) {
		t.Fatal("the copy was overwritten")
	}
}

// cellMetricsJSON returns a cell's metrics.json with the fields naming the cell
// (its name and policy) removed, so that cells of two policies compare.
func cellMetricsJSON(t *testing.T, dir string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, `"cell"`) || strings.HasPrefix(l, `"policy"`) {
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n"))
}

// TestPolicyFileErrors: what is wrong with a policy file, or with what is set
// beside it, is named by file, line and field before any work.
func TestPolicyFileErrors(t *testing.T) {
	_, file := trainedPolicyFile(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, extra, want string
	}{
		{"missing file", "  - {name: f, kind: ppo, file: nowhere.json}\n",
			"chk.yaml line 14: policies[1].file: open " + filepath.Join(dir, "nowhere.json") + ": no such file or directory"},
		{"a directory", "  - {name: f, kind: ppo, file: .}\n",
			"chk.yaml line 14: policies[1].file: " + dir + ": is a directory"},
		{"not a policy", "  - {name: f, kind: ppo, file: chk.yaml}\n",
			"chk.yaml line 14: policies[1].file: "},
		{"other algorithm", "  - {name: f, kind: dqn, file: FILE}\n",
			`chk.yaml line 14: policies[1].kind: "dqn": ` + file + " holds a ppo policy"},
		{"other control interval", "  - {name: f, kind: ppo, file: FILE}\n",
			"chk.yaml line 14: policies[1].file: " + file + ": policy trained at a control interval of 15s, simulator runs 30s"},
		{"bad deploy param", "  - {name: f, kind: ppo, file: FILE, params: {headroom_scale: -1}}\n",
			"chk.yaml line 14: policies[1].params.headroom_scale: "},
		{"bad sweep value", "  - {name: f, kind: ppo, file: FILE, sweep: {param: headroom_scale, values: [1, 0]}}\n",
			"chk.yaml line 14: policies[1].sweep.values[1].params.headroom_scale: 0: must be > 0"},
		{"training knob swept", "  - {name: f, kind: ppo, file: FILE, sweep: {param: env.slo_weight, values: [1]}}\n",
			`chk.yaml line 14: policies[1].sweep.param: "env.slo_weight": a policy file is not trained here`},
		{"file and train", "  - {name: f, kind: ppo, file: FILE, train: {steps: 10}}\n",
			"chk.yaml line 14: policies[1].train: set beside file"},
		{"file on a rule", "  - {name: f, kind: hpa, file: FILE}\n",
			"chk.yaml line 14: policies[1].file: only valid for the learned kinds"},
		{"file as a zero-shot policy", "  - {name: p, kind: ppo, train: {steps: 64}}\n  - {name: f, kind: ppo, file: FILE, zero_shot_of: p}\n",
			"chk.yaml line 15: policies[2].zero_shot_of: the policy is a file"},
		{"zero-shot of a file", "  - {name: f, kind: ppo, file: FILE}\n  - {name: z, kind: ppo, zero_shot_of: f, train: {steps: 64, traffic: {random: {count: 1, seed: 1}}}}\n",
			`chk.yaml line 15: policies[2].zero_shot_of: "f": a policy file`},
		{"neither file nor train", "  - {name: f, kind: ppo}\n",
			"chk.yaml line 14: policies[1].train.steps: ppo needs train.steps > 0 (or file: an exported policy, or ensemble_of: another policy's seeds)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := checkBase + strings.ReplaceAll(tc.extra, "FILE", file)
			if tc.name == "other control interval" {
				src = strings.Replace(src, "  max_replicas: 20\n", "  max_replicas: 20\n  control_interval: 30s\n  scrape_interval: 15s\n", 1)
				tc.want = strings.Replace(tc.want, "line 14", "line 16", 1)
			}
			if err := loadAndCheck(t, dir, src); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestShardsMergePolicyFiles: shards of an experiment with a policy file merge to
// what one run writes, the run's copy of the file included; shards that evaluated
// different files do not merge.
func TestShardsMergePolicyFiles(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fixed.json")
	writeFake := func(perReplica string) {
		if err := os.WriteFile(file, []byte(`{"per_replica": `+perReplica+`}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFake("4.5")
	cfg, err := Parse([]byte(tinyConfig+"  - {name: fixed, kind: dqn, file: "+file+", sweep: {param: headroom_scale, values: [0.8]}}\n"), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := func(out string, sh Shard) {
		t.Helper()
		if _, err := (&Runner{Config: cfg, Out: out, Backend: (&fakeBackend{}).backend(), Workers: 1, Shard: sh}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	single := t.TempDir()
	run(single, Shard{})
	shards := []string{t.TempDir(), t.TempDir()}
	for i, d := range shards {
		run(d, Shard{i, 2})
	}
	merged := t.TempDir()
	if _, err := Merge(merged, shards); err != nil {
		t.Fatal(err)
	}
	sameTrees(t, tree(t, single), tree(t, merged), "merged shards vs single run")

	writeFake("5.5")
	other := t.TempDir()
	run(other, Shard{1, 2})
	_, err = Merge(t.TempDir(), []string{shards[0], other})
	if err == nil || !strings.Contains(err.Error(), `policy "fixed": `) || !strings.Contains(err.Error(), "evaluated different files") {
		t.Fatalf("shards with different files: got %v", err)
	}
}
