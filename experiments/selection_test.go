package experiments

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/experiments/train"
)

// recordingLearner is fakeLearner keeping every training job it was given.
type recordingLearner struct {
	fakeLearner
	mu   sync.Mutex
	jobs map[string]TrainJob
}

func (l *recordingLearner) Train(ctx context.Context, job TrainJob) error {
	l.mu.Lock()
	l.jobs[job.Dir] = job
	l.mu.Unlock()
	return l.fakeLearner.Train(ctx, job)
}

// TestTrainJobGetsValidationWindows: a training job holds, for every trace, the
// validation window exactly as the policy's validation cell of the same seed is
// simulated (window bounds, simulator seed, initial replicas), and not the test one.
func TestTrainJobGetsValidationWindows(t *testing.T) {
	f := &fakeBackend{}
	b := f.backend()
	rec := &recordingLearner{fakeLearner: fakeLearner{f}, jobs: map[string]TrainJob{}}
	b.Learners[kindPPO] = rec
	cfg := tinyCfg(t)
	out := t.TempDir()
	if _, err := (&Runner{Config: cfg, Out: out, Backend: b, Workers: 2}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, eval := Matrix(cfg)
	checked := map[string]int{}
	for _, c := range eval {
		if c.Policy != "ppo" {
			continue
		}
		job, ok := rec.jobs[filepath.Join(out, dependencies(c, nil)[0].Dir())]
		if !ok {
			t.Fatalf("%s: no training job recorded", c.Name())
		}
		if len(job.Validation) != len(cfg.Traces) {
			t.Fatalf("%s: %d validation windows, want one per trace (%d)", c.Name(), len(job.Validation), len(cfg.Traces))
		}
		i := slices.IndexFunc(cfg.Traces, func(s TraceSpec) bool { return s.Name == c.Trace })
		w := job.Validation[i]
		m, err := readCellMetrics(filepath.Join(out, c.Dir(), "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		same := w.Sim.Seed == m.SimSeed && w.Start.Seconds() == m.WindowStart &&
			(w.Start+w.Window.Duration()).Seconds() == m.WindowEnd && w.Window.Name == c.Trace && w.Trace.Name == c.Trace
		if same != (c.Split == SplitValidation) {
			t.Fatalf("%s (%s window %v-%vs, sim seed %d): the job's window %s at %v for %v with seed %d, same %t",
				c.Name(), c.Split, m.WindowStart, m.WindowEnd, m.SimSeed, w.Window.Name, w.Start, w.Window.Duration(), w.Sim.Seed, same)
		}
		if w.Sim.InitialReplicas == 0 || w.Sim.Interrupt == nil {
			t.Fatalf("%s: validation simulator without warm start or interrupt: %+v", c.Name(), w.Sim)
		}
		checked[c.Split]++
	}
	if checked[SplitValidation] == 0 || checked[SplitTest] == 0 {
		t.Fatalf("checked %v", checked)
	}
}

// TestSelectionInExperiment trains a small PPO policy with checkpoint selection in
// an experiment on the real backend: the chosen candidate's figures in
// selection.csv are, window by window, those of the policy's validation cells
// (selection simulates exactly as evaluation does), and no test window is in it.
func TestSelectionInExperiment(t *testing.T) {
	const conf = `name: select-small
seeds: [1]
sim: {max_replicas: 20}
traces:
  - name: wave
    synth: {duration: 3h, bucket: 1m, base_rate: 30, diurnal: {amplitude: 0.5, peak_hour: 1}}
  - name: ramp
    synth: {duration: 3h, bucket: 1m, base_rate: 20, diurnal: {amplitude: 0.8, peak_hour: 2}}
policies:
  - name: ppo
    kind: ppo
    train:
      steps: 768
      params:
        env: {episode_length: 30m, warmup: 5m}
        selection: {every: 256, max_actions_vs_oracle: -1}
        ppo: {num_envs: 2, num_steps: 128, num_minibatches: 4, update_epochs: 2, hidden: [16, 16]}
`
	cfg, err := Parse([]byte(conf), "select-small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := (&Runner{Config: cfg, Out: out, Backend: DefaultBackend(), Workers: 1}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "train", "ppo__1", "selection.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 1+3*2 {
		t.Fatalf("selection.csv: %d lines, want a header and 3 candidates x 2 windows:\n%s", len(lines), data)
	}
	chosen := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if f[len(f)-1] == "true" {
			chosen[f[1]] = f
		}
	}
	for _, tr := range []string{"wave", "ramp"} {
		f, ok := chosen[tr]
		if !ok {
			t.Fatalf("selection.csv: no chosen row on window %q:\n%s", tr, data)
		}
		for _, split := range []string{SplitValidation, SplitTest} {
			m, err := readCellMetrics(filepath.Join(out, "cells", tr+"__ppo__1__"+split, "metrics.json"))
			if err != nil {
				t.Fatal(err)
			}
			viol, _ := strconv.ParseFloat(f[2], 64)
			cost, _ := strconv.ParseFloat(f[3], 64)
			actions, _ := strconv.Atoi(f[4])
			same := viol == float64(m.Metrics["slo_violations"]) && cost == float64(m.Metrics["cost"]) &&
				actions == int(m.Metrics["scaling_actions"])
			if same != (split == SplitValidation) {
				t.Fatalf("%s %s cell: violations %v, cost %v, actions %v; selection.csv's chosen row %v (same %t)",
					tr, split, m.Metrics["slo_violations"], m.Metrics["cost"], m.Metrics["scaling_actions"], f, same)
			}
		}
	}
}

// BenchmarkSelectionCandidate is the cost of one checkpoint-selection candidate: a
// PPO policy (trained for 2,048 steps with the config's settings) run on every
// validation window of default.yaml and real.yaml (skipped without the real traces),
// as selection runs it, request by request and on the fluid model.
//
//	go test -run '^$' -bench SelectionCandidate -benchtime 3x ./experiments/
func BenchmarkSelectionCandidate(b *testing.B) {
	for _, name := range []string{"default", "real"} {
		cfg, err := Load("configs/" + name + ".yaml")
		if err != nil {
			b.Fatal(err)
		}
		c, err := check(cfg, DefaultBackend())
		if err != nil {
			b.Logf("%s.yaml: %v", name, err)
			continue
		}
		x := &run{cfg: cfg, traces: c.traces}
		var ppo *PolicySpec
		for i := range cfg.Policies {
			if cfg.Policies[i].Name == "ppo" {
				ppo = &cfg.Policies[i]
			}
		}
		job := TrainJob{Policy: *ppo, Sim: cfg.Sim, Seed: 1, Dir: b.TempDir()}
		job.Policy.Train = &TrainBudget{Steps: 2048, Params: ppo.Train.Params}
		job.Traces, job.Offsets = x.trainTraffic(&job.Policy)
		for _, spec := range cfg.Traces {
			job.Validation = append(job.Validation, x.evalWindow(context.Background(), spec.Name, SplitValidation, 1))
		}
		if err := (trainer{kindPPO}).Train(context.Background(), job); err != nil {
			b.Fatal(err)
		}
		p, err := policy.Load(filepath.Join(job.Dir, "policy.json"))
		if err != nil {
			b.Fatal(err)
		}
		wins := validationWindows(job.Validation)
		for _, fid := range []string{"request", "fluid"} {
			b.Run(name+"/"+fid, func(b *testing.B) {
				for range b.N {
					for _, w := range wins {
						if _, err := train.Evaluate(context.Background(), p, w, fid); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// TestSelectionWeighsInProgress: a training cell with selection weighs its
// candidates' validation runs more in the progress estimate: (ceil(steps/every) + 1)
// times the validation windows' requests.
func TestSelectionWeighsInProgress(t *testing.T) {
	f := &fakeBackend{}
	cfg := tinyCfg(t)
	c, err := check(cfg, f.backend())
	if err != nil {
		t.Fatal(err)
	}
	x := &run{cfg: cfg, traces: c.traces, policies: map[string]*PolicySpec{}}
	var pol PolicySpec
	for _, p := range cfg.Policies {
		if p.Name == "ppo" {
			pol = p
		}
	}
	x.policies["ppo"] = &pol
	cell := Cell{Phase: PhaseTrain, Policy: "ppo", Kind: kindPPO, Seed: 1}
	off := x.cellWork(cell)
	with := pol
	with.Train = &TrainBudget{Steps: pol.Train.Steps}
	if err := yaml.Unmarshal([]byte("selection: {every: 30}"), &with.Train.Params); err != nil {
		t.Fatal(err)
	}
	x.policies["ppo"] = &with
	on := x.cellWork(cell)
	val := 0.0
	for _, spec := range cfg.Traces {
		val += x.cellWork(Cell{Phase: PhaseEval, Trace: spec.Name, Split: SplitValidation})
	}
	// 100 steps, a candidate every 30: at 30, 60, 90 and 100, and the oracle.
	if want := off + 5*val; math.Abs(on-want) > 1e-9*want || val <= 0 {
		t.Fatalf("training cell weighs %v with selection, %v without; want %v (validation %v)", on, off, want, val)
	}
}
