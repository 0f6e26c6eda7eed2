package agents

import (
	"math"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// HPAParams configure the Kubernetes Horizontal Pod Autoscaler (autoscaling/v2) with
// a CPU utilisation target. Defaults are Kubernetes' defaults except the target.
type HPAParams struct {
	// TargetUtilization is the desired mean utilisation of Ready replicas, 0..1.
	// Default 0.6 (Kubernetes has no default; its examples use 0.5 to 0.8).
	TargetUtilization float64 `yaml:"target_utilization"`
	// Tolerance: no change while |utilisation/target - 1| <= tolerance. Default 0.1
	// (kube-controller-manager --horizontal-pod-autoscaler-tolerance).
	Tolerance float64 `yaml:"tolerance"`
	// ScaleUpStabilization: scale up to the lowest recommendation within this window.
	// Default 0s.
	ScaleUpStabilization time.Duration `yaml:"scale_up_stabilization"`
	// ScaleDownStabilization: scale down only to the highest recommendation within
	// this window. Default 300s.
	ScaleDownStabilization time.Duration `yaml:"scale_down_stabilization"`
	// ScaleUpPods and ScaleUpPercent are the two default scale-up policies: at most
	// this many pods, or this percent of the replicas, added per ScaleUpPeriod; the
	// larger of the two applies (selectPolicy Max). Defaults 4 and 100.
	ScaleUpPods    int     `yaml:"scale_up_pods"`
	ScaleUpPercent float64 `yaml:"scale_up_percent"`
	// ScaleUpPeriod of the scale-up policies. Default 15s.
	ScaleUpPeriod time.Duration `yaml:"scale_up_period"`
	// ScaleDownPercent: at most this percent of the replicas removed per
	// ScaleDownPeriod. Default 100 (no limit).
	ScaleDownPercent float64 `yaml:"scale_down_percent"`
	// ScaleDownPeriod of the scale-down policy. Default 15s.
	ScaleDownPeriod time.Duration `yaml:"scale_down_period"`
}

// DefaultHPAParams returns the HPA defaults.
func DefaultHPAParams() HPAParams {
	return HPAParams{
		TargetUtilization:      0.6,
		Tolerance:              0.1,
		ScaleDownStabilization: 300 * time.Second,
		ScaleUpPods:            4,
		ScaleUpPercent:         100,
		ScaleUpPeriod:          15 * time.Second,
		ScaleDownPercent:       100,
		ScaleDownPeriod:        15 * time.Second,
	}
}

func (p HPAParams) validate() error {
	switch {
	case !(p.TargetUtilization > 0 && p.TargetUtilization <= 1):
		return yamldoc.Invalid("target_utilization", p.TargetUtilization, "must be in (0, 1]")
	case !(p.Tolerance >= 0 && p.Tolerance < 1):
		return yamldoc.Invalid("tolerance", p.Tolerance, "must be in [0, 1)")
	case p.ScaleUpStabilization < 0:
		return yamldoc.Invalid("scale_up_stabilization", p.ScaleUpStabilization, "must be >= 0")
	case p.ScaleDownStabilization < 0:
		return yamldoc.Invalid("scale_down_stabilization", p.ScaleDownStabilization, "must be >= 0")
	case p.ScaleUpPods < 0:
		return yamldoc.Invalid("scale_up_pods", p.ScaleUpPods, "must be >= 0")
	case !(p.ScaleUpPercent >= 0) || math.IsInf(p.ScaleUpPercent, 0):
		return yamldoc.Invalid("scale_up_percent", p.ScaleUpPercent, "must be finite and >= 0")
	case p.ScaleUpPods == 0 && p.ScaleUpPercent == 0:
		return yamldoc.Errorf("scale_up_percent", "scale_up_pods and scale_up_percent both 0: the HPA could never scale up")
	case p.ScaleUpPeriod <= 0:
		return yamldoc.Invalid("scale_up_period", p.ScaleUpPeriod, "must be > 0")
	case !(p.ScaleDownPercent > 0 && p.ScaleDownPercent <= 100):
		return yamldoc.Invalid("scale_down_percent", p.ScaleDownPercent, "must be in (0, 100]")
	case p.ScaleDownPeriod <= 0:
		return yamldoc.Invalid("scale_down_period", p.ScaleDownPeriod, "must be > 0")
	}
	return nil
}

type timedCount struct {
	at time.Duration
	n  int
}

// HPA reproduces the Kubernetes HPA controller's replica calculation
// (pkg/controller/podautoscaler: replica_calculator.go, horizontal.go): one Decide is
// one sync period.
type HPA struct {
	p HPAParams
	// recs are the raw recommendations of past syncs; events the replica changes made.
	recs   []timedCount
	events []timedCount
}

func newHPA(node *yaml.Node, ctx Context) (sim.Autoscaler, error) {
	p := DefaultHPAParams()
	if err := yamldoc.DecodeParams(node, &p); err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return NewHPA(p), nil
}

// NewHPA returns an HPA with validated parameters p.
func NewHPA(p HPAParams) *HPA { return &HPA{p: p} }

// Reset forgets recommendations and scale events.
func (h *HPA) Reset() { h.recs, h.events = h.recs[:0], h.events[:0] }

// Decide runs one sync of the controller.
func (h *HPA) Decide(obs sim.Observation) int {
	cur := current(obs)
	if obs.Window <= 0 {
		return clamp(cur, obs) // no metric window yet (the decision at time zero)
	}
	rec := h.recommend(obs, cur)
	rec = clamp(rec, obs) // the controller clamps the metric proposal to [min, max]
	want := h.stabilize(obs.Time, cur, rec)
	want = h.rateLimit(obs.Time, cur, want)
	want = clamp(want, obs)
	// Forget events older than both policy periods.
	cut := obs.Time - max(h.p.ScaleUpPeriod, h.p.ScaleDownPeriod)
	keep := h.events[:0]
	for _, e := range h.events {
		if e.at > cut {
			keep = append(keep, e)
		}
	}
	h.events = keep
	if want != cur {
		h.events = append(h.events, timedCount{obs.Time, want - cur})
	}
	return want
}

// recommend is the replica calculator for a resource-utilisation target. Ready
// replicas report their utilisation; Provisioning ones are not yet ready: on a
// scale-up they count as 0% (Kubernetes' conservative rule), on a scale-down they
// are left out. With no Ready replica there is no metric and the count holds.
//
// The utilisation is that of the replicas Ready now, as Kubernetes averages the
// metrics of the pods ready at the sync: a replica that became Ready at the end of
// the window has served nothing and counts with its (near) zero utilisation. Scaling
// the window's utilisation, measured on the replicas Ready during it, by the count
// Ready at its end would overshoot after every scale-up.
func (h *HPA) recommend(obs sim.Observation, cur int) int {
	ready := obs.Ready
	if ready == 0 {
		return cur
	}
	util := obs.Utilisation
	if obs.Slots > 0 {
		util = obs.BusySlots / float64(ready*obs.Slots)
	}
	// As the upstream controller (metrics.GetResourceUtilizationRatio), the
	// utilisation is read as a whole percent, truncated, against the target in
	// percent, and the tolerance test is its Tolerances.isWithin, bounds included.
	target := h.p.TargetUtilization * 100
	ratio := wholePercent(util) / target
	if obs.Provisioning == 0 || ratio <= 1 {
		if h.within(ratio) {
			return cur
		}
		return int(math.Ceil(ratio * float64(ready)))
	}
	// Scale-up with unready pods: recompute with them at 0% utilisation.
	all := ready + obs.Provisioning
	newRatio := wholePercent(util*float64(ready)/float64(all)) / target
	if h.within(newRatio) || newRatio < 1 {
		return cur // within tolerance, or the direction would reverse
	}
	n := int(math.Ceil(newRatio * float64(all)))
	if n < cur {
		return cur
	}
	return n
}

// within is the upstream tolerance test: 1 - tolerance <= ratio <= 1 + tolerance.
func (h *HPA) within(ratio float64) bool {
	return 1-h.p.Tolerance <= ratio && ratio <= 1+h.p.Tolerance
}

// wholePercent is a utilisation (0..1) as the whole percent the upstream controller
// reads: int32(total * 100 / requests), truncated. The nudge keeps a utilisation
// that is a whole percent in decimal (0.6) from truncating to the one below when its
// binary product is a hair under it.
func wholePercent(util float64) float64 {
	return math.Floor(util*100 + 1e-9)
}

// stabilize applies the stabilisation windows: the result lies between the lowest
// recommendation of the scale-up window and the highest of the scale-down window,
// as close to cur as that allows. rec itself is recorded for later syncs.
func (h *HPA) stabilize(now time.Duration, cur, rec int) int {
	up, down := rec, rec
	upCut, downCut := now-h.p.ScaleUpStabilization, now-h.p.ScaleDownStabilization
	keep := h.recs[:0]
	for _, r := range h.recs {
		if r.at > upCut {
			up = min(up, r.n)
		}
		if r.at > downCut {
			down = max(down, r.n)
		}
		if r.at > upCut || r.at > downCut {
			keep = append(keep, r)
		}
	}
	h.recs = append(keep, timedCount{now, rec})
	out := cur
	if out < up {
		out = up
	}
	if out > down {
		out = down
	}
	return out
}

// rateLimit applies the scaling policies, counting the changes made within each
// policy's period (Kubernetes' periodStartReplicas).
func (h *HPA) rateLimit(now time.Duration, cur, want int) int {
	added, removed := h.changesSince(now - h.p.ScaleUpPeriod)
	if want > cur {
		start := cur - added + removed
		limit := math.MinInt
		if h.p.ScaleUpPods > 0 {
			limit = max(limit, start+h.p.ScaleUpPods)
		}
		if h.p.ScaleUpPercent > 0 {
			limit = max(limit, int(math.Ceil(float64(start)*(1+h.p.ScaleUpPercent/100))))
		}
		limit = max(limit, cur)
		return min(want, limit)
	}
	if want < cur {
		added, removed = h.changesSince(now - h.p.ScaleDownPeriod)
		start := cur - added + removed
		limit := int(float64(start) * (1 - h.p.ScaleDownPercent/100))
		limit = min(limit, cur)
		return max(want, limit)
	}
	return want
}

// changesSince sums the replicas added and removed by events after cut.
func (h *HPA) changesSince(cut time.Duration) (added, removed int) {
	for _, e := range h.events {
		if e.at > cut {
			if e.n > 0 {
				added += e.n
			} else {
				removed -= e.n
			}
		}
	}
	return added, removed
}
