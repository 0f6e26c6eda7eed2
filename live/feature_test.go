package live

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/sim"
)

// testPolicy is a small valid exported policy: the default features plus a request
// rate with a distinctive Fill, a random 2-layer network, random frozen statistics,
// 7 actions, trained at a 15 s control interval with 4 slots and at most 50 replicas.
func testPolicy(t *testing.T, seed uint64) *policy.Policy {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	spec := features.Default(0.5)
	spec.Features = append(spec.Features, features.Feature{
		Name: "rate_1m", Expr: `sum(rate(http_requests_total[1m]))`, Fill: 0.25, Scale: 100, Clip: 10})
	in := len(spec.Features)
	sizes := []int{in, 16, 7}
	params := make([]float64, in*16+16+16*7+7)
	for i := range params {
		params[i] = rng.NormFloat64()
	}
	z := &policy.Normaliser{Mean: make([]float64, in), Var: make([]float64, in), Count: 1000, Clip: 5}
	for i := range z.Mean {
		z.Mean[i] = 0.2 * rng.NormFloat64()
		z.Var[i] = 0.05 + rng.Float64()
	}
	p := &policy.Policy{
		Version: policy.Version, Algorithm: "ppo",
		Network:    policy.Network{Sizes: sizes, Activation: "tanh", Params: params},
		Normaliser: z, Features: spec, Actions: []int{-3, -2, -1, 0, 1, 2, 3},
		Sim: policy.SimInfo{ControlIntervalSeconds: 15, ScrapeIntervalSeconds: 15, SLOLatencySeconds: 0.5, SLOTarget: 0.95,
			MinReplicas: 1, MaxReplicas: 50, Concurrency: 4},
		Training: policy.TrainingInfo{Steps: 100, Episodes: 1, Seed: seed, ConfigHash: "sha256:00", Traces: []string{"synthetic"}},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// phaseScrapes are 15 s scrapes over 48 minutes: busy traffic with 1-5 ready
// replicas (0-20 min), no ready replica with a queue (20-30 min: divisions by zero
// give infinities), no traffic at all (30-40 min: 0/0 gives NaN), a 2-minute scrape
// gap (40-42 min: the 1-minute rates have no sample, the gauges still do), then
// traffic again.
func phaseScrapes(seed uint64) []sim.Scrape {
	rng := rand.New(rand.NewPCG(seed, 3))
	var out []sim.Scrape
	var s sim.Scrape
	for t := 15 * time.Second; t <= 48*time.Minute; t += 15 * time.Second {
		if t > 40*time.Minute && t < 42*time.Minute {
			continue
		}
		s.Time = t
		traffic := t < 30*time.Minute || t >= 42*time.Minute
		s.Ready = float64(1 + rng.IntN(5))
		s.Queued = float64(rng.IntN(30))
		if t >= 20*time.Minute && t < 30*time.Minute {
			s.Ready = 0
			s.Queued = float64(1 + rng.IntN(30))
		}
		s.Slots = 4 * s.Ready
		s.Provisioning = float64(rng.IntN(3))
		s.InFlight = s.Queued
		if traffic {
			ok := float64(50 + rng.IntN(500))
			s.RequestsOK += ok
			s.RequestsRejected += float64(rng.IntN(3) * rng.IntN(20))
			cum := 0.0
			for b := range s.DurationBuckets {
				cum += ok * rng.Float64() / float64(len(s.DurationBuckets))
				s.DurationBuckets[b] += cum
			}
			s.DurationCount += ok
			s.DurationSum += ok * 0.2
			s.BusySeconds += 15 * s.Slots * rng.Float64()
			s.InFlight += float64(rng.IntN(20))
		}
		s.Desired = s.Ready + s.Provisioning
		out = append(out, s)
	}
	return out
}

// TestFeaturePolicyMatchesSimulator runs an exported policy both ways on the same
// scrapes: in the simulator's path (env.PolicyAutoscaler, features evaluated natively)
// and through the controller (each feature's raw value answered by a fake Prometheus,
// missing when the expression has no sample). The transformed observations must be
// identical bit for bit, the decisions equal, and both equal Act on the vector the
// training-time transform gives; NaN, missing and infinite raw values all occur.
func TestFeaturePolicyMatchesSimulator(t *testing.T) {
	p := testPolicy(t, 7)
	featurePolicyMatchesSimulator(t, p)
	// An ensemble file runs the same way (its vote is inside Act).
	for _, vote := range []string{policy.VoteMedian, policy.VoteCautious} {
		e, err := policy.Ensemble([]*policy.Policy{p, testPolicy(t, 8), testPolicy(t, 9)}, vote)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("ensemble "+vote, func(t *testing.T) { featurePolicyMatchesSimulator(t, e) })
	}
}

func featurePolicyMatchesSimulator(t *testing.T, p *policy.Policy) {
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	fp, warnings, err := LoadPolicyFile(path, Settings{Interval: 15 * time.Second, SLO: 500 * time.Millisecond, Min: 1, Max: 50, Slots: 4})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("load: %v, warnings %q", err, warnings)
	}
	epoch := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	act, err := p.Actuator()
	if err != nil {
		t.Fatal(err)
	}
	simPath, err := env.NewPolicyAutoscaler(p.Features, epoch, act, p.Act)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := features.NewEvaluator(p.Features, epoch)
	if err != nil {
		t.Fatal(err)
	}
	prom := &fakeProm{}
	scaler := &fakeScaler{}
	c, _, _ := newTestController(t, ControllerConfig{Mode: Shadow, Min: 0, Max: 1000, MaxStep: 10, Interval: 15 * time.Second}, fp, prom, scaler)

	fs := p.Features.Features
	idx := map[string]int{}
	for i, f := range fs {
		idx[f.Name] = i
	}
	scrapes := phaseScrapes(11)
	var nNaN, nMissing, nInf int
	actions := map[int]bool{}
	next := 0
	for d := 6 * time.Minute; d <= 48*time.Minute; d += 15 * time.Second {
		for next < len(scrapes) && scrapes[next].Time <= d {
			simPath.Record(&scrapes[next])
			raw.Record(&scrapes[next])
			next++
		}
		cur := 3 + int(d/time.Minute)%5
		want := simPath.Decide(sim.Observation{Time: d, Window: 15 * time.Second, Desired: cur})

		prom.vals = fresh(map[string]float64{})
		vec := make([]float64, len(fs))
		for i := range fs {
			v, ok := raw.Raw(i, d)
			switch {
			case !ok:
				nMissing++
			case math.IsNaN(v):
				nNaN++
			case math.IsInf(v, 0):
				nInf++
			}
			if ok {
				prom.vals[fs[i].Expr] = v
			}
			vec[i] = fs[i].Transform(v, ok)
		}
		scaler.r = Replicas{Ready: cur}
		dec := c.Step(context.Background())
		if dec.Action == "hold" {
			t.Fatalf("at %v: held: %s", d, dec.Hold)
		}
		if dec.Proposed != want {
			t.Errorf("at %v: controller proposed %d, simulator decided %d", d, dec.Proposed, want)
		}
		a := p.Act(vec)
		if want != cur+p.Actions[a] {
			t.Errorf("at %v: decision %d, Act on the transformed vector gives %d", d, want, cur+p.Actions[a])
		}
		actions[a] = true
		live, simObs := fp.Observation(), simPath.Observation()
		for i := range vec {
			if math.Float64bits(live[i]) != math.Float64bits(simObs[i]) || math.Float64bits(live[i]) != math.Float64bits(vec[i]) {
				t.Errorf("at %v: feature %s: live %v, simulator %v, transform %v", d, fs[i].Name, live[i], simObs[i], vec[i])
			}
		}
		// The training rule by hand, where the phase fixes it.
		switch {
		case d > 41*time.Minute && d < 42*time.Minute:
			if got := live[idx["rate_1m"]]; got != 0.25 {
				t.Errorf("at %v (scrape gap): rate_1m = %v, want its fill 0.25", d, got)
			}
		case d >= 36*time.Minute && d < 40*time.Minute:
			if got := live[idx["trend_short"]]; got != 1 {
				t.Errorf("at %v (no traffic): trend_short = %v, want its fill 1 for 0/0", d, got)
			}
		case d > 21*time.Minute && d < 30*time.Minute:
			if got := live[idx["queue_per_ready"]]; got != 1000 {
				t.Errorf("at %v (queue, no ready replica): queue_per_ready = %v, want its clip 1000", d, got)
			}
		}
	}
	t.Logf("raw values: %d NaN, %d missing, %d infinite; actions chosen %v", nNaN, nMissing, nInf, actions)
	if nNaN == 0 || nMissing == 0 || nInf == 0 {
		t.Errorf("raw values seen: %d NaN, %d missing, %d infinite: want each case exercised", nNaN, nMissing, nInf)
	}
	if len(actions) < 2 {
		t.Errorf("the policy chose only actions %v: the comparison would not tell observations apart", actions)
	}
}

func TestLoadPolicyFileRefuses(t *testing.T) {
	dir := t.TempDir()
	p := testPolicy(t, 3)
	path := filepath.Join(dir, "trained.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	s := Settings{Interval: 5 * time.Second, SLO: 500 * time.Millisecond, Min: 1, Max: 5, Slots: 4}
	if _, _, err := LoadPolicyFile(path, s); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--interval 15s") {
		t.Errorf("5s live interval for a 15s policy: %v; want a refusal naming the file and the interval", err)
	}
	// Within 10%: a warning. Zero: the policy's interval, no warning about it.
	s.Interval = 14 * time.Second
	s.Slots = 8
	fp, warnings, err := LoadPolicyFile(path, s)
	if err != nil || len(warnings) != 2 || !strings.Contains(warnings[0], "control interval") || !strings.Contains(warnings[1], "4 worker slots") {
		t.Errorf("14s and 8 slots: %v, warnings %q; want two warnings", err, warnings)
	}
	s.Interval, s.Slots = 0, 4
	fp, warnings, err = LoadPolicyFile(path, s)
	if err != nil || len(warnings) != 0 || fp.Interval() != 15*time.Second {
		t.Errorf("interval 0: %v, warnings %q, interval %v; want the policy's 15s", err, warnings, fp.Interval())
	}
	if len(fp.Queries()) != len(p.Features.Features) || fp.Queries()[0] != p.Features.Features[0].Expr {
		t.Errorf("queries %q are not the features' expressions", fp.Queries())
	}
	// A corrupt file (an edited weight) is refused by its checksum, naming the file.
	b, _ := p.Marshal()
	bad := filepath.Join(dir, "edited.json")
	writeFile(t, bad, strings.Replace(string(b), `"activation": "tanh"`, `"activation": "relu"`, 1))
	if _, _, err := LoadPolicyFile(bad, s); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("edited file: %v; want a checksum error naming it", err)
	}
	if _, _, err := LoadPolicyFile(filepath.Join(dir, "none.json"), s); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing file: %v", err)
	}
}

// TestFeaturePolicyRefusedWhenPrometheusLacksAMetric: CheckPolicy, run by the command
// at start, refuses an exported policy whose features read a metric Prometheus lacks.
func TestFeaturePolicyRefusedWhenPrometheusLacksAMetric(t *testing.T) {
	fp, err := newFeaturePolicy(testPolicy(t, 5))
	if err != nil {
		t.Fatal(err)
	}
	have := []string{"http_requests_total", "http_request_duration_seconds_bucket", "app_worker_busy_seconds_total",
		"app_worker_slots", "http_requests_queued"}
	if err := CheckPolicy(context.Background(), fp, &fakeProm{names: have}); err != nil {
		t.Errorf("every metric present: %v", err)
	}
	err = CheckPolicy(context.Background(), fp, &fakeProm{names: have[1:]})
	if err == nil || !strings.Contains(err.Error(), "http_requests_total (query [1 2 3") {
		t.Errorf("http_requests_total absent: %v", err)
	}
}

// TestLoadPolicyFileDeploy: deploy-time params reach the live decision path (the
// policy's actuator) and bad ones are refused naming the file and the field.
func TestLoadPolicyFileDeploy(t *testing.T) {
	dir := t.TempDir()
	s := Settings{SLO: 500 * time.Millisecond, Min: 1, Max: 50, Slots: 4}
	delta := filepath.Join(dir, "delta.json")
	if err := testPolicy(t, 3).Save(delta); err != nil {
		t.Fatal(err)
	}
	node, err := ParseParams("{headroom_scale: 1.2}")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadPolicyFileDeploy(delta, s, node); err == nil || !strings.Contains(err.Error(), delta) || !strings.Contains(err.Error(), "params: headroom_scale: 1.2: only for action_mode target") {
		t.Errorf("headroom_scale on a delta policy: %v", err)
	}
	p := testPolicy(t, 3)
	p.ActionMode = env.ActionTarget
	p.Actions = []int{40, 50, 60, 70, 80, 90, 95}
	target := filepath.Join(dir, "target.json")
	if err := p.Save(target); err != nil {
		t.Fatal(err)
	}
	fp, _, err := LoadPolicyFileDeploy(target, s, node)
	if err != nil {
		t.Fatal(err)
	}
	if fp.act.HeadroomScale != 1.2 || fp.Policy.HeadroomScale != 1.2 {
		t.Errorf("actuator target scale %v, policy %v; want 1.2", fp.act.HeadroomScale, fp.Policy.HeadroomScale)
	}
	bad, _ := ParseParams("{headroom_scael: 1.2}")
	if _, _, err := LoadPolicyFileDeploy(target, s, bad); err == nil || !strings.Contains(err.Error(), `unknown key "headroom_scael"`) {
		t.Errorf("misspelt deploy parameter: %v", err)
	}
}

// A policy file whose network overflows on an observation its load-time probes
// did not reach makes Decide fail, holding the count, with an error saying why,
// rather than scaling on an action chosen from non-finite scores.
func TestFeaturePolicyNonFiniteScoresHold(t *testing.T) {
	spec := features.Default(0.5)
	in, out := len(spec.Features), 2
	ready := slices.Index(spec.Names(), "ready")
	params := make([]float64, in*out+out)
	params[1*in+ready] = 1e308 // action 1 scores 1e308 x ready/10: +Inf from 20 ready
	p := &policy.Policy{
		Version: policy.Version, Algorithm: "ppo",
		Network:  policy.Network{Sizes: []int{in, out}, Activation: "identity", Params: params},
		Features: spec, Actions: []int{0, 1},
		Sim: policy.SimInfo{ControlIntervalSeconds: 15, ScrapeIntervalSeconds: 15, SLOLatencySeconds: 0.5, SLOTarget: 0.95,
			MinReplicas: 1, MaxReplicas: 50, Concurrency: 4},
		Training: policy.TrainingInfo{Steps: 1, Episodes: 1, ConfigHash: "sha256:00"},
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	fp, _, err := LoadPolicyFile(path, Settings{Interval: 15 * time.Second, SLO: 500 * time.Millisecond, Min: 1, Max: 50, Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]float64, in)
	raw[ready] = 1
	if _, err := fp.Decide(time.Unix(0, 0), raw, Replicas{Ready: 1}); err != nil {
		t.Fatalf("one replica ready: %v", err)
	}
	raw[ready] = 20
	n, err := fp.Decide(time.Unix(15, 0), raw, Replicas{Ready: 20})
	if err == nil || !strings.Contains(err.Error(), "not all finite") || n != 20 {
		t.Fatalf("20 ready: %d, %v; want the count held and the reason", n, err)
	}
}
