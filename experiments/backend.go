package experiments

import (
	"context"
	"io"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// Outcome is what the runner keeps of one simulation.
type Outcome struct {
	Summary  elasticity.Summary
	Timeline []sim.Row
	// LatencyCDF is the response-time distribution of completed requests, ascending
	// in Seconds, Fraction the share of requests no slower.
	LatencyCDF []CDFPoint
}

// CDFPoint is one point of a cumulative distribution.
type CDFPoint struct {
	Seconds, Fraction float64
}

// EvalContext is what a policy may know about the run it is built for: the simulator
// settings, the whole trace (the oracle looks ahead in it, the predictive policy
// back) and the offset of the evaluated window in it.
type EvalContext struct {
	Sim   sim.Config
	Trace *traces.Trace
	Start time.Duration
}

// TrainJob is one training run of a learned policy.
type TrainJob struct {
	Policy PolicySpec
	// Traces are the training windows of every trace of the experiment, the
	// policy's own traffic (PolicySpec.Train.Traffic, whole traces) instead when it
	// has some, or the windows then the traffic (PolicySpec.Train.Windows).
	Traces []*traces.Trace
	// Offsets[i] is where Traces[i] begins in its whole trace.
	Offsets []time.Duration
	// Sim is the simulated service (Seed set to the job's seed).
	Sim  sim.Config
	Seed uint64
	// Dir receives progress.csv (columns step, episode_return, ...), checkpoints and
	// policy.json. A Train call finding a checkpoint there resumes from it.
	Dir string
	// Log receives human-readable progress; may be io.Discard.
	Log io.Writer
	// Validation are the validation windows of every trace, each as the evaluation
	// cells of the experiment seed run it, for choosing among checkpoints (never
	// the test windows). None for a zero-shot policy (PolicySpec.ZeroShotOf), which
	// sees none of the experiment's traffic.
	Validation []EvalWindow
}

// EvalWindow is one window of a trace with the context its evaluation runs in.
type EvalWindow struct {
	Window *traces.Trace
	EvalContext
}

// Learner trains a learned policy and loads the result as an autoscaler.
type Learner interface {
	Train(ctx context.Context, job TrainJob) error
	// Autoscaler loads the policy trained in dirs[0] for a run described by ec;
	// with more than one directory, the ensemble of the policies trained in each,
	// deciding by spec.Vote (PolicySpec.EnsembleOf).
	Autoscaler(dirs []string, spec PolicySpec, ec EvalContext) (sim.Autoscaler, error)
}

// Backend is everything the runner needs from the rest of the lab. DefaultBackend
// wires the real simulator, policies and traces; tests substitute small fakes.
type Backend struct {
	// LoadTrace returns the whole trace a spec names (scaled as the spec asks).
	// A trace without a wall-clock start that the spec crops at an offset (start:)
	// should start at midnight plus the offset (train.SourceTrace), for its
	// windows' time of day.
	LoadTrace func(spec TraceSpec) (*traces.Trace, error)
	// NewRule builds a rule policy of a kind (static, threshold, hpa, kpa, predictive,
	// oracle) from its parameters.
	NewRule func(kind string, params *yaml.Node, ec EvalContext) (sim.Autoscaler, error)
	// Simulate runs one simulation.
	Simulate func(cfg sim.Config, tr *traces.Trace, a sim.Autoscaler) (Outcome, error)
	// Learners by kind (ppo, dqn).
	Learners map[string]Learner
}
