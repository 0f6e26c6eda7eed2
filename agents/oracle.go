package agents

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// OracleParams configure the oracle.
type OracleParams struct {
	// Headroom: provision for the future rate * (1 + headroom). Default 0: the
	// demand of the trace's own rates.
	Headroom float64 `yaml:"headroom"`
}

// Oracle knows the future trace. Replicas requested at a decision at time t are
// Ready at t + D (D the mean start-up delay), and the next decision is at t + I (I
// the control interval); a replica released at t is gone at once and, asked for
// again at t + I at the earliest, is back only at t + I + D. So the decision at t
// must cover the demand of every control interval that overlaps [t, t + D + I):
//
//	desired(t) = max { d_k : interval k = [kI, (k+1)I) overlaps [t, t + D + I) }
//
// With a constant delay this keeps supply >= demand in every interval after the
// first D (when the trace's rate is the interval's rate), scales up exactly D before
// a step up, and scales down only once the lower demand covers the whole window.
// d_k is elasticity.Demand of the interval's rate: its exact arrival count over I
// when the trace carries arrival times, else its mean rate from the trace buckets.
type Oracle struct {
	p        OracleParams
	q        elasticity.Queue
	tr       *traces.Trace
	start    time.Duration
	delay    time.Duration
	interval time.Duration
}

func newOracle(node *yaml.Node, ctx Context) (sim.Autoscaler, error) {
	var p OracleParams
	if err := yamldoc.DecodeParams(node, &p); err != nil {
		return nil, err
	}
	if !(p.Headroom >= 0) || math.IsInf(p.Headroom, 0) {
		return nil, yamldoc.Invalid("headroom", p.Headroom, "must be finite and >= 0")
	}
	if ctx.Trace == nil {
		return nil, errors.New("needs the trace being run (Context.Trace is nil)")
	}
	if err := ctx.Trace.Validate(); err != nil {
		return nil, err
	}
	if ctx.Start < 0 {
		return nil, fmt.Errorf("context start %v: must be >= 0", ctx.Start)
	}
	return &Oracle{
		p:        p,
		q:        ctx.Sim.QueueModel(),
		tr:       ctx.Trace,
		start:    ctx.Start,
		delay:    time.Duration(ctx.Sim.StartupDelay.MeanSeconds() * float64(time.Second)),
		interval: ctx.Sim.ControlInterval,
	}, nil
}

// Decide returns the largest demand of the intervals the decision must cover.
func (o *Oracle) Decide(obs sim.Observation) int {
	first := int(obs.Time / o.interval)
	end := obs.Time + o.delay + o.interval
	want := 0
	// The last interval may be partial: its rate is over the part the trace covers,
	// as the simulator measures it.
	last := o.tr.Duration()
	for k := first; time.Duration(k)*o.interval < end; k++ {
		a := time.Duration(k) * o.interval
		r := o.rate(o.start+a, min(o.start+a+o.interval, last))
		want = max(want, elasticity.Demand(o.q, r*(1+o.p.Headroom)))
	}
	return clamp(want, obs)
}

// rate is the trace's arrival rate over [a, b) in requests per second.
func (o *Oracle) rate(a, b time.Duration) float64 {
	sec := (b - a).Seconds()
	if sec <= 0 {
		return 0
	}
	if o.tr.Arrivals != nil {
		arr := o.tr.Arrivals
		i := sort.Search(len(arr), func(i int) bool { return arr[i] >= a })
		j := sort.Search(len(arr), func(i int) bool { return arr[i] >= b })
		return float64(j-i) / sec
	}
	return MeanRate(o.tr, a, b)
}

// MeanRate is the mean arrival rate of tr over [a, b), rate 0 outside the trace.
func MeanRate(tr *traces.Trace, a, b time.Duration) float64 {
	if b <= a || tr.Bucket <= 0 {
		return 0
	}
	total := 0.0 // requests
	for t := max(a, 0); t < b; {
		i := int(t / tr.Bucket)
		if i >= len(tr.Rates) {
			break
		}
		next := min(time.Duration(i+1)*tr.Bucket, b)
		total += tr.Rates[i] * (next - t).Seconds()
		t = next
	}
	return total / (b - a).Seconds()
}
