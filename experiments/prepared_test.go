package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// prepareTiny runs the prepare phase of the tiny experiment into a fresh directory.
func prepareTiny(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	runTiny(t, &fakeBackend{}, dir, func(r *Runner) { r.Phase = RunPrepare })
	return dir
}

// evaluateWith runs the evaluate phase of config text, reusing prepared, into a
// fresh directory, and returns the directory, the backend's counts and the error.
func evaluateWith(t *testing.T, text, prepared string) (string, *fakeBackend, error) {
	t.Helper()
	cfg, err := Parse([]byte(text), "edited.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	f := &fakeBackend{}
	_, err = (&Runner{Config: cfg, Out: out, Backend: f.backend(), Workers: 1, Phase: RunEvaluate, Prepared: prepared}).Run(context.Background())
	return out, f, err
}

// TestPreparedCellsOfOtherSettingsRefused: a prepared directory whose tuning or
// training cells were produced with settings other than the config's (the
// policy's train block, its tuning grid, the sim section, a trace's split, the
// seeds a tuning averages over) is refused before any work, naming the
// directory, the cell and the setting; nothing is written.
func TestPreparedCellsOfOtherSettingsRefused(t *testing.T) {
	prepared := prepareTiny(t)
	for _, c := range []struct {
		name, old, new string
		want           []string
	}{
		{"train steps", "train: {steps: 100}", "train: {steps: 200}",
			[]string{"cell train/ppo__1 ", "policies[ppo].train.steps is 100 there, 200 here"}},
		{"train params", "train: {steps: 100}", "train: {steps: 100, params: {ppo: {hidden: [16]}}}",
			[]string{"cell train/ppo__1 ", "policies[ppo].train.params is absent there, {ppo: {hidden: [16]}} here"}},
		{"tuning grid", "grid: [0.5, 0.7, 0.9]", "grid: [0.5, 0.7, 0.8]",
			[]string{"cell tune/hpa-tuned__alpha ", "policies[hpa-tuned].tune.grid[2] is 0.9 there, 0.8 here"}},
		{"sim section", "seeds: [1, 2, 3]", "seeds: [1, 2, 3]\nsim: {max_replicas: 40}",
			[]string{"cell tune/hpa-tuned__alpha ", "sim.max_replicas is 50 there, 40 here"}},
		{"trace split", "split: {train: 0.5, validation: 0.25, test: 0.25}", "split: {train: 0.6, validation: 0.2, test: 0.2}",
			[]string{"cell tune/hpa-tuned__beta ", "traces[beta].split.train is 0.5 there, 0.6 here"}},
		{"seeds of a tuning", "seeds: [1, 2, 3]", "seeds: [1, 2]",
			[]string{"cell tune/hpa-tuned__alpha ", "seeds has 3 entries there, 2 here"}},
	} {
		text := strings.Replace(tinyConfig, c.old, c.new, 1)
		if text == tinyConfig {
			t.Fatalf("%s: %q not in the tiny config", c.name, c.old)
		}
		out, f, err := evaluateWith(t, text, prepared)
		if err == nil {
			t.Errorf("%s: reused prepared cells of other settings", c.name)
			continue
		}
		for _, w := range append([]string{"--prepared " + prepared + ": ", "produced with other settings than this config's"}, c.want...) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, w)
			}
		}
		if n := f.sims.Load() + f.trains.Load(); n != 0 {
			t.Errorf("%s: %d simulations and training runs before the refusal; want none", c.name, n)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: %s written before the refusal (%v)", c.name, out, err)
		}
	}
}

// TestPreparedCellsOfSameSettingsReused: cells produced with the same settings are
// copied, not recomputed, including when the config differs only where the cells
// do not depend on it (its name, another policy, a learned policy's deploy-time
// params) or says the same (a sim default written out).
func TestPreparedCellsOfSameSettingsReused(t *testing.T) {
	prepared := prepareTiny(t)
	for _, c := range []struct{ name, old, new string }{
		{"same config", "", ""},
		{"other name", "name: tiny", "name: tiny-2"},
		{"a sim default written out", "seeds: [1, 2, 3]", "seeds: [1, 2, 3]\nsim: {max_replicas: 50}"},
		{"another policy", "  - {name: oracle, kind: oracle}", "  - {name: oracle, kind: oracle}\n  - {name: hpa, kind: hpa}"},
		{"deploy-time params", "train: {steps: 100}", "train: {steps: 100}, params: {headroom_scale: 0.9}"},
	} {
		text := strings.Replace(tinyConfig, c.old, c.new, 1)
		if c.old != "" && text == tinyConfig {
			t.Fatalf("%s: %q not in the tiny config", c.name, c.old)
		}
		out, f, err := evaluateWith(t, text, prepared)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if n := f.trains.Load(); n != 0 {
			t.Errorf("%s: trained %d times; want 0 (prepared)", c.name, n)
		}
		cfg, _ := Parse([]byte(text), "edited.yaml")
		prep, eval := Matrix(cfg)
		// Only the evaluation cells simulate: no tuning grid was rerun.
		if got, want := f.sims.Load(), int64(len(eval)); got != want {
			t.Errorf("%s: %d simulations; want %d, one per evaluation cell", c.name, got, want)
		}
		for _, p := range prep {
			for _, file := range []string{"policy.json", "chosen.json"} {
				want, err := os.ReadFile(filepath.Join(prepared, p.Dir(), file))
				if err != nil {
					continue
				}
				if got, err := os.ReadFile(filepath.Join(out, p.Dir(), file)); err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: %s/%s is not the prepared copy (%v)", c.name, p.Dir(), file, err)
				}
			}
		}
	}
}

// TestPreparedNotAResultsDirectory: --prepared naming nothing, a file, or a
// directory without config.yaml is an error naming the flag and the path, before
// any work.
func TestPreparedNotAResultsDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "--prepared " + filepath.Join(dir, "missing") + ": no such directory"},
		{file, "--prepared " + file + ": not a directory"},
		{empty, "--prepared " + empty + ": not a results directory"},
	} {
		out, f, err := evaluateWith(t, tinyConfig, c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--prepared %s: got %v, want an error containing %q", c.path, err, c.want)
		}
		if n := f.sims.Load() + f.trains.Load(); n != 0 {
			t.Errorf("--prepared %s: %d simulations and training runs; want none", c.path, n)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("--prepared %s: %s written (%v)", c.path, out, err)
		}
	}
}

// TestPreparedSettingsSurviveConfigYAML: every cell of the shipped configs has the
// same settings read back from the config.yaml a run writes as from the config
// itself, so that a directory prepared with a config is never refused by it.
func TestPreparedSettingsSurviveConfigYAML(t *testing.T) {
	var paths []string
	for _, name := range []string{"default", "real", "small", "unseen"} {
		paths = append(paths, filepath.Join("configs", name+".yaml"))
	}
	for _, path := range append(paths, "") {
		var cfg *Config
		var err error
		if path == "" {
			cfg, path = tinyCfg(t), "tiny"
		} else if cfg, err = Load(path); err != nil {
			t.Fatal(err)
		}
		data, err := marshalConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(data, "config.yaml")
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		prep, _ := Matrix(cfg)
		for _, c := range prep {
			if err := checkPrepared("prep", back, cfg, c); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
	}
}
