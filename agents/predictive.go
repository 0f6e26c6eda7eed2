package agents

import (
	"fmt"
	"math"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// PredictiveParams configure the predictive policy.
type PredictiveParams struct {
	// Season is the period of the additive Holt-Winters seasonality, a multiple of
	// the control interval. Unset: one day when the trace is at least two days long,
	// else none (Holt's linear method). 0: none.
	Season *time.Duration `yaml:"season"`
	// Alpha, Beta, Gamma smooth the level, trend and season, each in (0, 1) ((0, 1]
	// for alpha). Defaults 0.5, 0.1, 0.1.
	Alpha float64 `yaml:"alpha"`
	Beta  float64 `yaml:"beta"`
	Gamma float64 `yaml:"gamma"`
	// Headroom: provision for forecast * (1 + headroom). Default 0.1.
	Headroom float64 `yaml:"headroom"`
}

// Predictive forecasts the arrival rate one start-up delay ahead with Holt-Winters
// and asks for the demand (elasticity.Demand) of that rate plus headroom, never less
// than the demand of the rate just observed.
type Predictive struct {
	p       PredictiveParams
	q       elasticity.Queue
	horizon int // steps ahead: ceil(mean start-up delay / control interval) + 1
	hw      HoltWinters
	warn    []string
}

func newPredictive(node *yaml.Node, ctx Context) (sim.Autoscaler, error) {
	p := PredictiveParams{Alpha: 0.5, Beta: 0.1, Gamma: 0.1, Headroom: 0.1}
	if err := yamldoc.DecodeParams(node, &p); err != nil {
		return nil, err
	}
	interval := ctx.Sim.ControlInterval
	var season time.Duration
	switch {
	case p.Season != nil:
		season = *p.Season
	case ctx.Trace != nil && ctx.Trace.Duration()-ctx.Start >= 48*time.Hour:
		season = 24 * time.Hour
	}
	switch {
	case season < 0 || season%interval != 0:
		return nil, yamldoc.Invalid("season", season, fmt.Sprintf("must be >= 0 and a multiple of control_interval %v", interval))
	case !(p.Alpha > 0 && p.Alpha <= 1):
		return nil, yamldoc.Invalid("alpha", p.Alpha, "must be in (0, 1]")
	case !(p.Beta >= 0 && p.Beta < 1):
		return nil, yamldoc.Invalid("beta", p.Beta, "must be in [0, 1)")
	case !(p.Gamma >= 0 && p.Gamma < 1):
		return nil, yamldoc.Invalid("gamma", p.Gamma, "must be in [0, 1)")
	case !(p.Headroom >= 0) || math.IsInf(p.Headroom, 0):
		return nil, yamldoc.Invalid("headroom", p.Headroom, "must be finite and >= 0")
	}
	delay := time.Duration(ctx.Sim.StartupDelay.MeanSeconds() * float64(time.Second))
	pr := &Predictive{
		p:       p,
		q:       ctx.Sim.QueueModel(),
		horizon: int((delay+interval-1)/interval) + 1,
		hw:      NewHoltWinters(p.Alpha, p.Beta, p.Gamma, int(season/interval)),
	}
	if ctx.Trace != nil {
		pr.warn = seasonWarnings(season, ctx.Trace.Duration()-ctx.Start)
	}
	return pr, nil
}

// seasonWarnings says when a season is too long for a run of length run:
// Holt-Winters learns the seasonal terms over the first season and uses them only
// after it.
func seasonWarnings(season, run time.Duration) []string {
	switch {
	case season <= 0 || run <= 0 || 2*season <= run:
		return nil
	case season >= run:
		return []string{fmt.Sprintf("season %s is not shorter than the run (%s): Holt-Winters learns the seasonal terms over the first season and uses them only after it, so the whole run is forecast by Holt's linear method, as with season 0s",
			yamldoc.Duration(season), yamldoc.Duration(run))}
	}
	return []string{fmt.Sprintf("season %s is longer than half the run (%s): Holt-Winters learns the seasonal terms over the first season and uses them only after it, in the last %s of the run",
		yamldoc.Duration(season), yamldoc.Duration(run), yamldoc.Duration(run-season))}
}

// Warnings says when the season is too long for the run to learn it (Warner).
func (pr *Predictive) Warnings() []string { return pr.warn }

// Reset forgets the forecaster's state.
func (pr *Predictive) Reset() { pr.hw.Reset() }

// Horizon is the number of control intervals the policy forecasts ahead.
func (pr *Predictive) Horizon() int { return pr.horizon }

// Decide updates the forecaster with the observed rate and provisions for the forecast.
func (pr *Predictive) Decide(obs sim.Observation) int {
	if obs.Window <= 0 {
		return clamp(current(obs), obs) // no rate observed yet (the decision at time zero)
	}
	pr.hw.Update(obs.ArrivalRate)
	f := max(pr.hw.Forecast(pr.horizon), 0)
	want := max(elasticity.Demand(pr.q, f*(1+pr.p.Headroom)), elasticity.Demand(pr.q, obs.ArrivalRate))
	return clamp(want, obs)
}

// HoltWinters is additive Holt-Winters exponential smoothing; with period 0 it is
// Holt's linear (level and trend) method. The level starts at the first value, the
// trend at the first difference, and the seasonal terms at 0 (so the first season
// is forecast as Holt's method while the seasonal terms are learnt).
type HoltWinters struct {
	alpha, beta, gamma float64
	level, trend       float64
	season             []float64 // season[i] for time index i mod period
	t                  int       // values seen
}

// NewHoltWinters returns a forecaster with smoothing factors alpha (level), beta
// (trend) and gamma (season), and a season of period steps (0: none).
func NewHoltWinters(alpha, beta, gamma float64, period int) HoltWinters {
	hw := HoltWinters{alpha: alpha, beta: beta, gamma: gamma}
	if period > 0 {
		hw.season = make([]float64, period)
	}
	return hw
}

// Reset forgets every value seen.
func (hw *HoltWinters) Reset() {
	hw.level, hw.trend, hw.t = 0, 0, 0
	clear(hw.season)
}

func (hw *HoltWinters) seasonal(i int) float64 {
	if len(hw.season) == 0 {
		return 0
	}
	return hw.season[i%len(hw.season)]
}

// Update feeds the next value y.
func (hw *HoltWinters) Update(y float64) {
	switch hw.t {
	case 0:
		hw.level = y
	case 1:
		hw.trend = y - hw.level
		hw.level = y
	default:
		s := hw.seasonal(hw.t)
		prev := hw.level
		hw.level = hw.alpha*(y-s) + (1-hw.alpha)*(hw.level+hw.trend)
		hw.trend = hw.beta*(hw.level-prev) + (1-hw.beta)*hw.trend
		if len(hw.season) > 0 {
			hw.season[hw.t%len(hw.season)] = hw.gamma*(y-hw.level) + (1-hw.gamma)*s
		}
	}
	hw.t++
}

// Forecast returns the value expected h >= 1 steps after the last one fed (0 before
// any value).
func (hw *HoltWinters) Forecast(h int) float64 {
	if hw.t == 0 {
		return 0
	}
	return hw.level + float64(h)*hw.trend + hw.seasonal(hw.t-1+h)
}
