package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/experiments"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// fakeBackend is a tiny deterministic stand-in for simulator, rules and learners that
// produces every file a report reads.
func fakeBackend() experiments.Backend {
	capOf := func(c float64) sim.Autoscaler {
		return sim.AutoscalerFunc(func(o sim.Observation) int { return int(math.Ceil(o.ArrivalRate / c)) })
	}
	return experiments.Backend{
		LoadTrace: func(spec experiments.TraceSpec) (*traces.Trace, error) {
			tr := &traces.Trace{Name: spec.Name, Bucket: time60, Rates: make([]float64, 40)}
			for i := range tr.Rates {
				tr.Rates[i] = 20 + 10*math.Sin(float64(i)/3+float64(len(spec.Name)))
			}
			return tr, nil
		},
		NewRule: func(kind string, params *yaml.Node, ec experiments.EvalContext) (sim.Autoscaler, error) {
			c := map[string]float64{"threshold": 3, "hpa": 4, "oracle": 5}[kind]
			var p struct {
				T float64 `yaml:"target_utilization"`
			}
			if params != nil {
				params.Decode(&p)
				c *= p.T
			}
			return capOf(c), nil
		},
		Simulate: func(cfg sim.Config, tr *traces.Trace, a sim.Autoscaler) (experiments.Outcome, error) {
			rng := rand.New(rand.NewPCG(cfg.Seed, 3))
			var o experiments.Outcome
			var obs sim.Observation
			var cost float64
			var under int
			for i, r := range tr.Rates {
				rate := r * (0.9 + 0.2*rng.Float64())
				d := a.Decide(obs)
				dem := int(math.Ceil(rate / 5))
				if d < dem {
					under++
				}
				cost += float64(d) / 60
				o.Timeline = append(o.Timeline, sim.Row{Time: time60 * timeD(i+1), ArrivalRate: rate, Ready: d, Desired: d, Demand: dem, P95: 0.05 * float64(dem+1) / float64(max(d, 1)), Cost: float64(d) / 60})
				obs = sim.Observation{ArrivalRate: rate}
			}
			n := float64(len(tr.Rates))
			o.Summary = elasticity.Summary{Cost: cost, SLOViolations: 10 * float64(under) / n, UnderProvisionSeconds: 60 * float64(under), ThetaO: cost, Accuracy: 100 - 100*float64(under)/n, P95: 0.2, P99: 0.3}
			o.LatencyCDF = []experiments.CDFPoint{{Seconds: 0.01, Fraction: 0.1}, {Seconds: 0.1, Fraction: 0.6}, {Seconds: 0.5, Fraction: 0.97}, {Seconds: 2, Fraction: 1}}
			return o, nil
		},
		Learners: map[string]experiments.Learner{"ppo": fakeLearner{}, "dqn": fakeLearner{}},
	}
}

type fakeLearner struct{}

func (fakeLearner) Train(ctx context.Context, job experiments.TrainJob) error {
	rng := rand.New(rand.NewPCG(job.Seed, 1))
	prog := "step,episode_return\n"
	for s := 1; s <= 20; s++ {
		prog += fmt.Sprintf("%d,%g\n", s*50, -20/math.Sqrt(float64(s))+rng.Float64())
	}
	if err := os.WriteFile(filepath.Join(job.Dir, "progress.csv"), []byte(prog), 0o644); err != nil {
		return err
	}
	js, _ := json.Marshal(map[string]float64{"c": 4 + rng.Float64()})
	return os.WriteFile(filepath.Join(job.Dir, "policy.json"), js, 0o644)
}

func (fakeLearner) Autoscaler(dirs []string, spec experiments.PolicySpec, ec experiments.EvalContext) (sim.Autoscaler, error) {
	// An ensemble of several seeds serves as its least capable member.
	c := math.Inf(1)
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "policy.json"))
		if err != nil {
			return nil, err
		}
		var p map[string]float64
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, err
		}
		c = math.Min(c, p["c"])
	}
	return sim.AutoscalerFunc(func(o sim.Observation) int { return int(math.Ceil(o.ArrivalRate / c)) }), nil
}
