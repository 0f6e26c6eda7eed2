package agents

import (
	"fmt"
	"math"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// KPAParams configure the Knative Pod Autoscaler (concurrency metric).
type KPAParams struct {
	// Target is the concurrency (requests queued or in service) wanted per replica.
	// Default 0.7 * concurrency slots: Knative's container-concurrency-target-
	// percentage 70% of the per-replica capacity.
	Target float64 `yaml:"target"`
	// StableWindow over which concurrency is averaged. Default 60s.
	StableWindow time.Duration `yaml:"stable_window"`
	// PanicWindow over which concurrency is averaged for panic decisions. Default 6s;
	// shorter than the control interval it covers the last observation only.
	PanicWindow time.Duration `yaml:"panic_window"`
	// PanicThreshold: panic when the panic-window demand is at least this multiple of
	// the Ready replicas. Default 2 (200%).
	PanicThreshold float64 `yaml:"panic_threshold"`
	// MaxScaleUpRate: at most ceil(rate * ready) replicas per decision. Default 1000.
	MaxScaleUpRate float64 `yaml:"max_scale_up_rate"`
	// MaxScaleDownRate: at least floor(ready / rate) replicas per decision. Default 2.
	MaxScaleDownRate float64 `yaml:"max_scale_down_rate"`
}

// KPA reproduces Knative Serving's autoscaler decision (pkg/autoscaler/scaling,
// autoscaler.go): stable and panic windows over observed concurrency, panic mode
// that never scales down, and scale-up/down rate limits relative to Ready replicas.
type KPA struct {
	p        KPAParams
	slots    int
	service  float64 // mean service time, seconds
	interval time.Duration
	// history holds the last observed concurrencies, a ring of len(history).
	history  []float64
	next, n  int
	panicAt  time.Duration // last time the panic condition held
	panic    bool
	maxPanic int
}

func newKPA(node *yaml.Node, ctx Context) (sim.Autoscaler, error) {
	p := KPAParams{
		Target:           0.7 * float64(ctx.Sim.Concurrency),
		StableWindow:     60 * time.Second,
		PanicWindow:      6 * time.Second,
		PanicThreshold:   2,
		MaxScaleUpRate:   1000,
		MaxScaleDownRate: 2,
	}
	if err := yamldoc.DecodeParams(node, &p); err != nil {
		return nil, err
	}
	switch {
	case !(p.Target > 0) || math.IsInf(p.Target, 0):
		return nil, yamldoc.Invalid("target", p.Target, "must be finite and > 0")
	case p.StableWindow <= 0:
		return nil, yamldoc.Invalid("stable_window", p.StableWindow, "must be > 0")
	case p.PanicWindow <= 0 || p.PanicWindow > p.StableWindow:
		return nil, yamldoc.Invalid("panic_window", p.PanicWindow, fmt.Sprintf("must be in (0, stable_window %v]", p.StableWindow))
	case !(p.PanicThreshold > 1) || math.IsInf(p.PanicThreshold, 0):
		return nil, yamldoc.Invalid("panic_threshold", p.PanicThreshold, "must be finite and > 1")
	case !(p.MaxScaleUpRate > 1) || math.IsInf(p.MaxScaleUpRate, 0):
		return nil, yamldoc.Invalid("max_scale_up_rate", p.MaxScaleUpRate, "must be finite and > 1")
	case !(p.MaxScaleDownRate > 1) || math.IsInf(p.MaxScaleDownRate, 0):
		return nil, yamldoc.Invalid("max_scale_down_rate", p.MaxScaleDownRate, "must be finite and > 1")
	}
	k := &KPA{
		p:        p,
		slots:    ctx.Sim.Concurrency,
		service:  ctx.Sim.ServiceTime.MeanSeconds(),
		interval: ctx.Sim.ControlInterval,
	}
	k.history = make([]float64, steps(p.StableWindow, k.interval))
	return k, nil
}

// Reset forgets the concurrency history and leaves panic mode.
func (k *KPA) Reset() {
	clear(k.history)
	k.next, k.n = 0, 0
	k.panic, k.panicAt, k.maxPanic = false, 0, 0
}

// Concurrency is the observed concurrency of a window: the window-average busy
// worker slots of Ready replicas plus the requests queued at its end; with no Ready
// replica, the offered load (arrival rate x mean service time) plus the queue. An
// observation without BusySlots (Slots unset) falls back to utilisation x ready x
// slots.
func (k *KPA) Concurrency(obs sim.Observation) float64 {
	if obs.Ready == 0 {
		return obs.ArrivalRate*k.service + float64(obs.Queued)
	}
	if obs.Slots > 0 {
		return obs.BusySlots + float64(obs.Queued)
	}
	return obs.Utilisation*float64(obs.Ready*k.slots) + float64(obs.Queued)
}

// mean of the last m observations.
func (k *KPA) mean(m int) float64 {
	m = min(m, k.n)
	if m == 0 {
		return 0
	}
	s := 0.0
	for i := 1; i <= m; i++ {
		s += k.history[(k.next-i+len(k.history))%len(k.history)]
	}
	return s / float64(m)
}

// InPanic reports whether the last decision was taken in panic mode.
func (k *KPA) InPanic() bool { return k.panic }

// Decide runs one autoscaler tick.
func (k *KPA) Decide(obs sim.Observation) int {
	if obs.Window <= 0 {
		return clamp(current(obs), obs) // no metric window yet (the decision at time zero)
	}
	k.history[k.next] = k.Concurrency(obs)
	k.next = (k.next + 1) % len(k.history)
	k.n = min(k.n+1, len(k.history))

	stable := k.mean(len(k.history))
	panicV := k.mean(steps(k.p.PanicWindow, k.interval))

	ready := float64(max(obs.Ready, 1))
	maxUp := int(math.Ceil(k.p.MaxScaleUpRate * ready))
	maxDown := int(math.Floor(ready / k.p.MaxScaleDownRate))

	dspc := int(math.Ceil(stable / k.p.Target))
	dppc := int(math.Ceil(panicV / k.p.Target))
	overPanic := panicV/k.p.Target/ready >= k.p.PanicThreshold
	dspc = min(max(dspc, maxDown), maxUp)
	dppc = min(max(dppc, maxDown), maxUp)

	switch {
	case overPanic:
		k.panic, k.panicAt = true, obs.Time // enter, or extend
	case k.panic && obs.Time-k.panicAt > k.p.StableWindow:
		k.panic, k.maxPanic = false, 0 // the surge is in the stable window now
	}
	want := dspc
	if k.panic {
		want = max(want, dppc)
		// Never scale down in panic mode.
		if want > k.maxPanic {
			k.maxPanic = want
		}
		want = k.maxPanic
	}
	return clamp(want, obs)
}
