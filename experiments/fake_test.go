package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// fakeBackend is a small deterministic stand-in for the simulator, policies and
// learners, so that the runner's own properties can be tested quickly. It counts
// simulations and training runs.
type fakeBackend struct {
	sims, trains atomic.Int64
}

func (f *fakeBackend) backend() Backend {
	return Backend{
		LoadTrace: func(spec TraceSpec) (*traces.Trace, error) {
			h := fnv.New32a()
			h.Write([]byte(spec.Name))
			phase := float64(h.Sum32()%100) / 10
			tr := &traces.Trace{Name: spec.Name, Bucket: time.Minute, Rates: make([]float64, 50)}
			for i := range tr.Rates {
				tr.Rates[i] = 20 + 10*math.Sin(float64(i)/4+phase)
			}
			return tr, nil
		},
		NewRule: func(kind string, params *yaml.Node, ec EvalContext) (sim.Autoscaler, error) {
			var p struct {
				PerReplica        float64 `yaml:"per_replica"`
				TargetUtilization float64 `yaml:"target_utilization"`
			}
			p.PerReplica, p.TargetUtilization = 5, 1
			if params != nil {
				if err := yamldoc.DecodeNode(params, &p); err != nil {
					return nil, err
				}
			}
			if kind == KindOracle {
				p.PerReplica = 4
			}
			cap := p.PerReplica * p.TargetUtilization
			return sim.AutoscalerFunc(func(o sim.Observation) int { return int(math.Ceil(o.ArrivalRate / cap)) }), nil
		},
		Simulate: func(cfg sim.Config, tr *traces.Trace, a sim.Autoscaler) (Outcome, error) {
			f.sims.Add(1)
			rng := rand.New(rand.NewPCG(cfg.Seed, 7))
			var o Outcome
			obs := sim.Observation{}
			var cost float64
			var under, actions, last int
			for i, r := range tr.Rates {
				rate := r * (0.8 + 0.4*rng.Float64())
				d := a.Decide(obs)
				if i > 0 && d != last {
					actions++
				}
				last = d
				demand := int(math.Ceil(rate / 5))
				if d < demand {
					under++
				}
				cost += float64(d) * tr.Bucket.Hours()
				o.Timeline = append(o.Timeline, sim.Row{Time: time.Duration(i+1) * tr.Bucket, ArrivalRate: rate, Ready: d, Desired: d, Demand: demand, P95: 0.1 * float64(demand) / float64(max(d, 1)), Cost: float64(d) * tr.Bucket.Hours()})
				obs = sim.Observation{ArrivalRate: rate}
			}
			n := float64(len(tr.Rates))
			o.Summary = elasticity.Summary{Cost: cost, SLOViolations: 100 * float64(under) / n, ScalingActions: actions, Accuracy: 100 - 100*float64(under)/n, P95: 0.2, TimeToMeetDemand: math.NaN()}
			o.LatencyCDF = []CDFPoint{{0.1, 0.5}, {0.2, 0.95}, {0.4, 1}}
			return o, nil
		},
		Learners: map[string]Learner{kindPPO: fakeLearner{f}, kindDQN: fakeLearner{f}},
	}
}

// fakeLearner "trains" a capacity per replica from the seed and writes the files a
// real learner writes.
type fakeLearner struct{ f *fakeBackend }

func (l fakeLearner) Train(ctx context.Context, job TrainJob) error {
	l.f.trains.Add(1)
	rng := rand.New(rand.NewPCG(job.Seed, 1))
	prog := "step,episode_return\n"
	for s := 1; s <= 5; s++ {
		prog += fmt.Sprintf("%d,%g\n", s*job.Policy.Train.Steps/5, -10/float64(s)+rng.Float64())
	}
	if err := os.WriteFile(filepath.Join(job.Dir, "progress.csv"), []byte(prog), 0o644); err != nil {
		return err
	}
	js, _ := json.Marshal(map[string]float64{"per_replica": 4 + rng.Float64()*2, "windows": float64(len(job.Traces))})
	return os.WriteFile(filepath.Join(job.Dir, "policy.json"), js, 0o644)
}

func (l fakeLearner) Autoscaler(dirs []string, spec PolicySpec, ec EvalContext) (sim.Autoscaler, error) {
	caps := make([]float64, len(dirs))
	for i, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "policy.json"))
		if err != nil {
			return nil, err
		}
		var p map[string]float64
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, err
		}
		caps[i] = p["per_replica"]
	}
	// An ensemble votes as a policy file's does: cautious asks for the most
	// replicas (the lowest capacity), median for the median count.
	slices.Sort(caps)
	c := caps[len(caps)/2]
	if len(caps) > 1 && spec.Vote == policy.VoteCautious {
		c = caps[0]
	}
	// The deploy-time target scale works on the fake as on a policy file: a
	// hotter target serves more per replica.
	d, err := policy.DecodeDeploy(nodeOrNil(&spec.Params))
	if err != nil {
		return nil, err
	}
	if d.HeadroomScale != nil {
		c *= *d.HeadroomScale
	}
	return sim.AutoscalerFunc(func(o sim.Observation) int { return int(math.Ceil(o.ArrivalRate / c)) }), nil
}

const tinyConfig = `name: tiny
seeds: [1, 2, 3]
traces:
  - {name: alpha, builtin: bursty}
  - {name: beta, builtin: step, split: {train: 0.5, validation: 0.25, test: 0.25}}
policies:
  - {name: threshold, kind: threshold}
  - {name: hpa-tuned, kind: hpa-tuned, tune: {grid: [0.5, 0.7, 0.9]}}
  - {name: oracle, kind: oracle}
  - {name: ppo, kind: ppo, train: {steps: 100}}
`

func tinyCfg(t interface{ Fatal(...any) }) *Config {
	cfg, err := Parse([]byte(tinyConfig), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type (
	simConfig  = sim.Config
	traceT     = traces.Trace
	autoscaler = sim.Autoscaler
)
