package traces

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// SynthDistribution is a randomised distribution of synthetic traffic: Count traces
// whose shape, burstiness, scale and bucket length are drawn from Seed, for training
// a policy meant to work on traffic it never saw. Trace i (named Name followed by i)
// is a SynthSpec drawn as follows, each component independently:
//
//   - bucket: Buckets[i mod len(Buckets)], so that every bucket length is used;
//   - base rate: log-uniform in BaseRate;
//   - daily cycle: amplitude uniform in [0, 0.6], peak hour uniform in the day;
//   - noise: lognormal, sigma uniform in [0.05, 0.3];
//   - bursts: 0, 2, 4 or 8 a day, magnitude uniform in [1.3, 3], mean length 5, 10
//     or 30 min;
//   - a flash crowd with probability 1/2: at a uniform time, peak uniform in [2, 5],
//     rise 1, 5 or 15 min, decay 20 min or 1 h;
//   - a step with probability 1/2: at a uniform time in the middle 80%, factor 0.5,
//     0.7, 1.5 or 2.5;
//   - on/off modulation with probability 1/4: on factor uniform in [1.3, 1.8], off
//     factor uniform in [0.2, 0.6], mean on 20 min or 1 h, mean off 30 min or 2 h;
//   - its synthesis seed.
//
// Trace i depends only on Seed and i, so a larger Count adds traces and keeps the
// first ones. The same distribution gives the same traces, bit for bit.
type SynthDistribution struct {
	// Count is the number of traces, in [1, MaxDistributionCount]. Required.
	Count int `yaml:"count"`
	// Seed draws every trace's parameters and synthesis seed. Default DefaultSeed.
	Seed uint64 `yaml:"seed,omitempty" yamldoc:"nozero"`
	// Name prefixes the traces' names ("random" gives random0, random1, ...); letters,
	// digits, '-', '_' and '.'. Default "random".
	Name string `yaml:"name,omitempty"`
	// Duration of every trace, a multiple of each bucket, at most 31 days. Default 24h.
	Duration time.Duration `yaml:"duration,omitempty" yamldoc:"nozero"`
	// Buckets are the bucket lengths, taken in turn, each in [1s, 1h]. Default [1s,
	// 10s, 1m, 5m].
	Buckets []time.Duration `yaml:"buckets,omitempty"`
	// BaseRate is the range the base rate is drawn from, requests per second, with
	// 0 < low <= high <= 10000. Default [50, 400].
	BaseRate [2]float64 `yaml:"base_rate,omitempty"`
}

// Bounds of SynthDistribution fields.
const (
	MaxDistributionCount = 1000
	maxDistributionRate  = 10_000
	maxDistributionSpan  = 31 * 24 * time.Hour
)

// Validate fills defaults and rejects values out of bounds, as *yamldoc.FieldError
// with paths relative to the distribution ("count").
func (d *SynthDistribution) Validate() error {
	if d.Seed == 0 {
		d.Seed = DefaultSeed
	}
	if d.Name == "" {
		d.Name = "random"
	}
	if d.Duration == 0 {
		d.Duration = 24 * time.Hour
	}
	if len(d.Buckets) == 0 {
		d.Buckets = []time.Duration{time.Second, 10 * time.Second, time.Minute, 5 * time.Minute}
	}
	if d.BaseRate == [2]float64{} {
		d.BaseRate = [2]float64{50, 400}
	}
	var errs []error
	if d.Count == 0 {
		errs = append(errs, yamldoc.Errorf("count", "required: the number of traces, in [1, %d]", MaxDistributionCount))
	} else {
		errs = append(errs, yamldoc.InRange("count", d.Count, 1, MaxDistributionCount))
	}
	if !validTraceName(d.Name) {
		errs = append(errs, yamldoc.Invalid("name", d.Name, "must contain only letters, digits, '-', '_' and '.'"))
	}
	errs = append(errs, yamldoc.InRange("duration", d.Duration, time.Second, maxDistributionSpan))
	for i, b := range d.Buckets {
		at := fmt.Sprintf("buckets[%d]", i)
		if err := yamldoc.InRange(at, b, time.Second, time.Hour); err != nil {
			errs = append(errs, err)
		} else if d.Duration > 0 && d.Duration%b != 0 {
			errs = append(errs, yamldoc.Invalid(at, b, fmt.Sprintf("must divide the duration %s", yamldoc.Duration(d.Duration))))
		}
	}
	lo, hi := d.BaseRate[0], d.BaseRate[1]
	if !(lo > 0 && lo <= hi && hi <= maxDistributionRate) {
		errs = append(errs, yamldoc.Invalid("base_rate", d.BaseRate, fmt.Sprintf("want 0 < low <= high <= %d", maxDistributionRate)))
	}
	return errors.Join(errs...)
}

// validTraceName accepts what cell and file names can hold.
func validTraceName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return s != "" && filepath.Base(s) == s
}

// Sources validates the distribution and draws its traces, as synthetic sources
// (each a SynthSpec with its seed) in index order.
func (d SynthDistribution) Sources() ([]Source, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	out := make([]Source, d.Count)
	for i := range out {
		spec, seed := d.draw(i)
		out[i] = Source{Synth: &spec, Seed: seed}
	}
	return out, nil
}

// Traces synthesizes the distribution's traces in index order.
func (d SynthDistribution) Traces() ([]*Trace, error) {
	srcs, err := d.Sources()
	if err != nil {
		return nil, err
	}
	out := make([]*Trace, len(srcs))
	for i, s := range srcs {
		if out[i], err = s.Trace(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name(), err)
		}
	}
	return out, nil
}

// draw is trace i's spec and synthesis seed (d validated).
func (d SynthDistribution) draw(i int) (SynthSpec, uint64) {
	rng := rand.New(rand.NewPCG(d.Seed, 0x5eed_0000+uint64(i)))
	unif := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	pick := func(xs ...time.Duration) time.Duration { return xs[rng.IntN(len(xs))] }
	// at is a uniform instant in [lo, hi) of the duration, to the second.
	at := func(lo, hi float64) time.Duration {
		return time.Duration(unif(lo, hi)*d.Duration.Seconds()) * time.Second
	}
	lo, hi := math.Log(d.BaseRate[0]), math.Log(d.BaseRate[1])
	s := SynthSpec{
		Name:     fmt.Sprintf("%s%d", d.Name, i),
		Duration: d.Duration,
		Bucket:   d.Buckets[i%len(d.Buckets)],
		BaseRate: round3(math.Exp(unif(lo, hi))),
		Diurnal:  Diurnal{Amplitude: round3(unif(0, 0.6)), PeakHour: max(0.001, round3(24-unif(0, 24)))},
		Noise:    Noise{Kind: NoiseLognormal, Sigma: round3(unif(0.05, 0.3))},
		Bursts: Bursts{
			PerDay:    []float64{0, 2, 4, 8}[rng.IntN(4)],
			Magnitude: round3(unif(1.3, 3)),
			Duration:  pick(5*time.Minute, 10*time.Minute, 30*time.Minute),
		},
	}
	if rng.IntN(2) == 0 {
		s.FlashCrowds = []FlashCrowd{{At: at(0, 1), Peak: round3(unif(2, 5)),
			Rise: pick(time.Minute, 5*time.Minute, 15*time.Minute), Decay: pick(20*time.Minute, time.Hour)}}
	}
	if rng.IntN(2) == 0 {
		s.Steps = []Step{{At: at(0.1, 0.9), Factor: []float64{0.5, 0.7, 1.5, 2.5}[rng.IntN(4)]}}
	}
	if rng.IntN(4) == 0 {
		s.OnOff = OnOff{OnFactor: round3(unif(1.3, 1.8)), OffFactor: round3(unif(0.2, 0.6)),
			MeanOn: pick(20*time.Minute, time.Hour), MeanOff: pick(30*time.Minute, 2*time.Hour)}
	}
	// Few enough bursts for a short trace of long buckets (Validate's bound).
	if nb := float64(d.Duration / s.Bucket); s.Bursts.PerDay*d.Duration.Hours()/24 > nb {
		s.Bursts.PerDay = 0
	}
	seed := rng.Uint64() | 1 // never 0, which would mean DefaultSeed
	return s, seed
}

// round3 rounds to three decimals, so that a drawn spec reads as it is written.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
