package experiments

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/repo"
)

// zeroShotBase is checkBase with a learned policy trained on the experiment's
// windows and one trained on a synthetic distribution only, its zero-shot
// counterpart.
const zeroShotBase = checkBase + `  - name: ppo
    kind: ppo
    train: {steps: 1024}
  - name: ppo-zs
    kind: ppo
    zero_shot_of: ppo
    train:
      steps: 1024
      traffic:
        random: {count: 3, seed: 11, duration: 2h}
`

// TestZeroShotOfRejectedNamingTheField: a zero_shot_of that does not name another
// learned policy trained on the experiment's windows is an error at its line.
func TestZeroShotOfRejectedNamingTheField(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"no such policy", "zero_shot_of: ppo\n", "zero_shot_of: pop\n", `chk.yaml line 19: policies[2].zero_shot_of: "pop": no such policy`},
		{"itself", "zero_shot_of: ppo\n", "zero_shot_of: ppo-zs\n", `chk.yaml line 19: policies[2].zero_shot_of: "ppo-zs": names the policy itself`},
		{"a rule policy", "zero_shot_of: ppo\n", "zero_shot_of: thr\n", `chk.yaml line 19: policies[2].zero_shot_of: "thr": a policy of kind threshold: must name a learned policy`},
		{"no own traffic", "      traffic:\n        random: {count: 3, seed: 11, duration: 2h}\n", "", "chk.yaml line 19: policies[2].zero_shot_of: a zero-shot policy trains on its own traffic: set train.traffic"},
		{"on a rule policy", "  - {name: thr, kind: threshold}\n", "  - {name: thr, kind: threshold, zero_shot_of: ppo}\n", "chk.yaml line 13: policies[0].zero_shot_of: only valid for the learned kinds"},
		{"of a zero-shot policy", "    train: {steps: 1024}\n", "    train: {steps: 1024, traffic: {random: {count: 1}}}\n", `chk.yaml line 19: policies[2].zero_shot_of: "ppo": trains on its own traffic: must name a policy trained on the experiment's training windows`},
		{"empty traffic", "      traffic:\n        random: {count: 3, seed: 11, duration: 2h}\n", "      traffic: {}\n", "chk.yaml line 22: policies[2].train.traffic: empty: set random"},
		{"bad count", "random: {count: 3,", "random: {count: -3,", "chk.yaml line 23: policies[2].train.traffic.random.count: -3: must be at least 1"},
		{"selection on the experiment's windows", "      steps: 1024\n      traffic:", "      steps: 1024\n      params: {selection: {every: 512}}\n      traffic:",
			"chk.yaml line 22: policies[2].train.params.selection: a zero-shot policy sees none of the experiment's traffic"},
		{"traffic typo", "random: {count: 3,", "random: {cuont: 3,", `chk.yaml line 23: policies[2].train.traffic.random.cuont: unknown key "cuont"`},
		{"windows for a zero-shot policy", "      steps: 1024\n      traffic:", "      steps: 1024\n      windows: true\n      traffic:",
			`chk.yaml line 19: policies[2].zero_shot_of: "ppo": the policy trains on the experiment's training windows (train.windows): a zero-shot policy must not see them`},
		{"windows without traffic", "    train: {steps: 1024}\n", "    train: {steps: 1024, windows: true}\n",
			"chk.yaml line 16: policies[1].train.windows: set without train.traffic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(zeroShotBase, tc.old, tc.new, 1)
			if src == zeroShotBase {
				t.Fatalf("case does not change the config")
			}
			p := filepath.Join(dir, "chk.yaml")
			if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestZeroShotCheck: a valid zero-shot entry passes the whole check with the real
// learners (its training configuration validated on its own traffic, without
// training), and traffic that cannot be loaded is reported at its field.
func TestZeroShotCheck(t *testing.T) {
	dir := t.TempDir()
	if err := loadAndCheck(t, dir, zeroShotBase); err != nil {
		t.Fatalf("valid zero-shot config refused: %v", err)
	}
	cfg, err := Parse([]byte(zeroShotBase), "chk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ZeroShotPairs(); len(got) != 1 || got[0] != [2]string{"ppo-zs", "ppo"} {
		t.Errorf("pairs %v", got)
	}
	// The resolved config, the distribution's defaults filled, reads back to itself.
	if data := string(resolvedFixedPoint(t, cfg)); !strings.Contains(data, "zero_shot_of: ppo") || !strings.Contains(data, "buckets:") {
		t.Errorf("resolved config without the pairing or the distribution's defaults:\n%s", data)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"missing file", "        random: {count: 3, seed: 11, duration: 2h}\n", "        traces: [{file: nowhere.csv}]\n",
			"chk.yaml line 23: policies[2].train.traffic.traces[0].file: stat "},
		// The experiment's training windows are 6h long, the traffic's traces 2h: the
		// training configuration is checked on the traffic.
		{"params on its traffic", "      steps: 1024\n", "      steps: 1024\n      params: {env: {warmup: 3h}}\n",
			`policies[2].train.params.env.traces[0]: "random0": 2h long, shorter than warmup 3h`},
		// With train.windows the traffic follows the experiment's one 6h window.
		{"params on the windows and its traffic", "zero_shot_of: ppo\n    train:\n      steps: 1024\n", "train:\n      steps: 1024\n      windows: true\n      params: {env: {warmup: 3h}}\n",
			`policies[2].train.params.env.traces[1]: "random0": 2h long, shorter than warmup 3h`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := loadAndCheck(t, dir, strings.Replace(zeroShotBase, tc.old, tc.new, 1)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestZeroShotTrainsOnItsOwnTraffic: the zero-shot policy's training sees only its
// distribution's whole traces (the same for every seed), the other learned policy
// the experiment's training windows; both are evaluated on every eval window.
func TestZeroShotTrainsOnItsOwnTraffic(t *testing.T) {
	cfg, err := Parse([]byte(tinyConfig+`  - name: ppo-zs
    kind: ppo
    zero_shot_of: ppo
    train:
      steps: 100
      traffic:
        random: {count: 3, seed: 11, duration: 2h}
        traces: [{builtin: onoff}]
  - name: ppo-mix
    kind: ppo
    train:
      steps: 100
      windows: true
      traffic:
        random: {count: 2, seed: 11, duration: 2h}
`), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBackend{}
	b := f.backend()
	rec := &recordingLearner{fakeLearner: fakeLearner{f}, jobs: map[string]TrainJob{}}
	b.Learners[kindPPO] = rec
	fake := b.LoadTrace
	b.LoadTrace = func(spec TraceSpec) (*traceT, error) {
		if spec.Synth != nil || spec.Builtin == "onoff" {
			return loadTrace(spec) // the traffic, as synthesized
		}
		return fake(spec)
	}
	out := t.TempDir()
	if _, err := (&Runner{Config: cfg, Out: out, Backend: b, Workers: 2}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	job := func(cell string) TrainJob { return rec.jobs[filepath.Join(out, "train", cell)] }
	names := func(job TrainJob) []string {
		var out []string
		for _, tr := range job.Traces {
			out = append(out, tr.Name)
		}
		return out
	}
	for _, s := range []string{"1", "2", "3"} {
		zs, ok := rec.jobs[filepath.Join(out, "train", "ppo-zs__"+s)]
		if !ok {
			t.Fatalf("no training of ppo-zs seed %s", s)
		}
		if got, want := names(zs), []string{"random0", "random1", "random2", "onoff"}; !slices.Equal(got, want) {
			t.Errorf("ppo-zs seed %s trained on %v, want %v", s, got, want)
		}
		for i, tr := range zs.Traces {
			if zs.Offsets[i] != 0 {
				t.Errorf("ppo-zs: trace %s at offset %v, want 0 (whole)", tr.Name, zs.Offsets[i])
			}
			if i < 3 && tr.Duration() != 2*time.Hour {
				t.Errorf("ppo-zs: trace %s is %v long, want the whole 2h", tr.Name, tr.Duration())
			}
		}
		if first := job("ppo-zs__1"); !slices.Equal(first.Traces[0].Rates, zs.Traces[0].Rates) {
			t.Errorf("seed %s trained on other traffic than seed 1", s)
		}
		if got := names(job("ppo__" + s)); !slices.Equal(got, []string{"alpha", "beta"}) {
			t.Errorf("ppo seed %s trained on %v, want the experiment's windows", s, got)
		}
		// Nor does it see the experiment's validation windows (ppo does).
		if n, m := len(zs.Validation), len(job("ppo__"+s).Validation); n != 0 || m != 2 {
			t.Errorf("seed %s: validation windows: ppo-zs %d, want 0; ppo %d, want 2", s, n, m)
		}
		// ppo-mix (train.windows) trains on ppo's windows, at their offsets, then on
		// its own traffic, whole; it chooses among checkpoints on the validation
		// windows as ppo does.
		mix, own := job("ppo-mix__"+s), job("ppo__"+s)
		if got, want := names(mix), []string{"alpha", "beta", "random0", "random1"}; !slices.Equal(got, want) {
			t.Fatalf("ppo-mix seed %s trained on %v, want %v", s, got, want)
		}
		for i := range own.Traces {
			if !slices.Equal(mix.Traces[i].Rates, own.Traces[i].Rates) || mix.Offsets[i] != own.Offsets[i] {
				t.Errorf("ppo-mix seed %s: window %s differs from ppo's (offset %v, want %v)", s, mix.Traces[i].Name, mix.Offsets[i], own.Offsets[i])
			}
		}
		if n := len(mix.Traces[1].Rates); n != 25 {
			t.Errorf("beta: %d buckets, want its training window's 25 of 50", n)
		}
		for i := 2; i < 4; i++ {
			if mix.Offsets[i] != 0 || mix.Traces[i].Duration() != 2*time.Hour {
				t.Errorf("ppo-mix: traffic %s at offset %v, %v long, want whole (0, 2h)", mix.Traces[i].Name, mix.Offsets[i], mix.Traces[i].Duration())
			}
		}
		if len(mix.Validation) != 2 {
			t.Errorf("ppo-mix seed %s: %d validation windows, want 2", s, len(mix.Validation))
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// 2 traces x 2 windows x 3 seeds for each policy.
	if n := strings.Count(string(data), ",ppo-zs,"); n != 12 {
		t.Errorf("ppo-zs has %d summary rows, want 12", n)
	}
}

// TestRealConfigZeroShot: real.yaml's and default.yaml's ppo-zero-shot have ppo's
// settings (only the rate scale added) and train on a synthetic distribution; with the
// real traces present, the whole real experiment passes the check before any work.
func TestRealConfigZeroShot(t *testing.T) {
	cfg, err := Load("configs/real.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkZeroShotSettings(t, cfg)
	def, err := Load("configs/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkZeroShotSettings(t, def)
	if _, err := repo.SharedTraces("."); err != nil {
		t.Skipf("the whole-experiment check needs the real traces: %v", err)
	}
	if err := Check(cfg, DefaultBackend()); err != nil {
		t.Fatal(err)
	}
}

// checkZeroShotSettings fails unless cfg's ppo-zero-shot is ppo trained on a synthetic
// distribution, with env.rate_scale added and ppo's selection left out.
func checkZeroShotSettings(t *testing.T, cfg *Config) {
	t.Helper()
	var zs, ppo *PolicySpec
	for i, p := range cfg.Policies {
		switch p.Name {
		case "ppo-zero-shot":
			zs = &cfg.Policies[i]
		case "ppo":
			ppo = &cfg.Policies[i]
		}
	}
	if zs == nil || ppo == nil || zs.ZeroShotOf != "ppo" || zs.Train.Traffic == nil || zs.Train.Traffic.Random == nil {
		t.Fatalf("%s: no ppo-zero-shot with zero_shot_of ppo on a synthetic distribution", cfg.Name)
	}
	var a, b map[string]any
	if err := zs.Train.Params.Decode(&a); err != nil {
		t.Fatal(err)
	}
	if err := ppo.Train.Params.Decode(&b); err != nil {
		t.Fatal(err)
	}
	env, _ := a["env"].(map[string]any)
	if env["rate_scale"] == nil {
		t.Error("ppo-zero-shot: no env.rate_scale")
	}
	delete(env, "rate_scale")
	// ppo's checkpoint is selected on these traces' validation windows; the zero-shot
	// policy sees none of their traffic, so it has no selection.
	if a["selection"] != nil || b["selection"] == nil {
		t.Errorf("selection: ppo-zero-shot %v (want none), ppo %v", a["selection"], b["selection"])
	}
	delete(b, "selection")
	if !reflect.DeepEqual(a, b) || zs.Train.Steps != ppo.Train.Steps {
		t.Errorf("%s: ppo-zero-shot's settings differ from ppo's beyond env.rate_scale:\n%v\n%v", cfg.Name, a, b)
	}
}
