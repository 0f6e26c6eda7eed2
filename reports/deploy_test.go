package reports

import (
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/experiments"
)

// The deploy line must be a command the live controller runs: it refuses --min 0
// (the live stack cannot scale to zero) and, for a rule, an --slo that is not a
// bound of the response-time histogram's buckets. The line then gives the nearest
// command it runs and says how it differs from what the experiment evaluated; a
// policy file takes any SLO latency and keeps the experiment's.
func TestDeployLineRunsOnTheLiveController(t *testing.T) {
	cfg, err := experiments.Parse([]byte(`name: d
sim: {min_replicas: 0, max_replicas: 40, slo: {latency: 400ms}}
traces: [{name: a, builtin: bursty}]
policies:
  - {name: kpa, kind: kpa}
  - {name: ppo, kind: ppo, train: {steps: 1}}
`), "d.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := NewResults("res", cfg, nil)
	rule := r.deployLine(Choice{Recs: []Recommendation{{Family: "kpa", Variant: "kpa"}}, Best: 0})
	for _, want := range []string{"--policy kpa --min 1 --max 40 --max-step 40 --slo 250ms ", "sim.min_replicas: 0", "400ms (sim.slo.latency)", "--slo 250ms, the largest bound below it"} {
		if !strings.Contains(rule, want) {
			t.Errorf("rule's deploy line lacks %q:\n%s", want, rule)
		}
	}
	if strings.Contains(rule, "--min 0") || strings.Contains(rule, "--slo 400ms") {
		t.Errorf("rule's deploy line gives a flag the live controller refuses:\n%s", rule)
	}
	learned := r.deployLine(Choice{Recs: []Recommendation{{Family: "ppo", Variant: "ppo"}}, Best: 0})
	if !strings.Contains(learned, "--policy-file ppo.policy.json --min 1 --max 40 --max-step 40 --slo 400ms ") || !strings.Contains(learned, "sim.min_replicas: 0") || strings.Contains(learned, "sim.slo.latency") {
		t.Errorf("policy file's deploy line:\n%s", learned)
	}

	// Below every bound, the smallest; on a bound, no caveat at all.
	if got := liveSLO(2_000_000, true); got != 5_000_000 {
		t.Errorf("liveSLO(2ms) = %v, want 5ms", got)
	}
	cfg.Sim.SLO.Latency = 250_000_000
	one := 1
	cfg.Sim.MinReplicas = &one
	if got := r.liveCaveats(true); got != "" {
		t.Errorf("caveats of a config the controller runs as it is: %q", got)
	}
}
