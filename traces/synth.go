package traces

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// SynthSpec describes a synthetic trace. The rate of each bucket, taken at its
// midpoint t, is
//
//	base_rate · diurnal(t) · weekly(t) · trend(t) · steps(t) · flash(t) · bursts · on_off · noise
//
// where every factor is 1 when its component is left at its zero value. The trace
// starts on a Monday at midnight. The zero value of every field means its default;
// Validate fills defaults and rejects bad values in one place. A field whose zero
// stands for a default other than 0 refuses a 0 written in YAML (yamldoc:"nozero").
type SynthSpec struct {
	// Name of the trace. Default "synthetic".
	Name string `yaml:"name"`
	// Duration of the trace, a multiple of Bucket. Default 24h.
	Duration time.Duration `yaml:"duration" yamldoc:"nozero"`
	// Bucket is the length of one rate bucket. Default 60s.
	Bucket time.Duration `yaml:"bucket" yamldoc:"nozero"`
	// BaseRate is the rate before any factor, requests per second. Default 100.
	BaseRate float64 `yaml:"base_rate" yamldoc:"nozero"`
	// Diurnal is the daily cycle.
	Diurnal Diurnal `yaml:"diurnal"`
	// WeekendDip lowers Saturday and Sunday by this fraction (0.3: 30% less), in
	// [0, 1]. Default 0.
	WeekendDip float64 `yaml:"weekend_dip"`
	// TrendPerDay is a linear trend: the factor is 1 + TrendPerDay·days (0.1: +10% a
	// day), floored at 0, in [-MaxSynthFactor, MaxSynthFactor]. Default 0.
	TrendPerDay float64 `yaml:"trend_per_day"`
	// Noise is independent noise per bucket.
	Noise Noise `yaml:"noise"`
	// Bursts are short surges arriving as a Poisson process.
	Bursts Bursts `yaml:"bursts"`
	// FlashCrowds are scheduled surges with a rise and an exponential decay.
	FlashCrowds []FlashCrowd `yaml:"flash_crowds"`
	// Steps multiply the rate from their time on; later steps compound.
	Steps []Step `yaml:"steps"`
	// OnOff modulates the rate with a two-state Markov chain (an MMPP).
	OnOff OnOff `yaml:"on_off"`
}

// Diurnal is a cosine daily cycle: 1 + Amplitude·cos(2π(hour − PeakHour)/24).
type Diurnal struct {
	// Amplitude in [0, 1]: 0.5 means the peak is 1.5× and the trough 0.5× the base.
	// Default 0 (no cycle).
	Amplitude float64 `yaml:"amplitude"`
	// PeakHour is the hour of day of the peak, in (0, 24]; 24 means midnight (a 0
	// written in YAML is refused: it would take the default). Default 14.
	PeakHour float64 `yaml:"peak_hour" yamldoc:"nozero"`
}

// Noise kinds accepted in Noise.Kind.
const (
	NoiseNone      = "none"
	NoiseLognormal = "lognormal" // factor exp(σz − σ²/2): mean 1, never negative
	NoiseGaussian  = "gaussian"  // factor max(0, 1 + σz)
)

// Noise is a random factor drawn independently for every bucket.
type Noise struct {
	// Kind is none, lognormal or gaussian. Default lognormal when Sigma > 0, else none.
	Kind string `yaml:"kind"`
	// Sigma is the standard deviation of z's scale (see the kinds), in [0,
	// MaxNoiseSigma]. Default 0.
	Sigma float64 `yaml:"sigma"`
}

// Bursts are surges starting at the times of a Poisson process, each lasting an
// exponentially distributed time; while one lasts the rate is multiplied by
// 1 + Magnitude (overlapping bursts add up). A bucket partly covered gets the
// time-weighted factor.
type Bursts struct {
	// PerDay is the mean number of bursts a day, >= 0. Default 0 (none).
	PerDay float64 `yaml:"per_day"`
	// Magnitude is the extra rate during a burst, relative to the rate without it,
	// in (0, MaxSynthFactor]. Default 1 (double).
	Magnitude float64 `yaml:"magnitude" yamldoc:"nozero"`
	// Duration is the mean length of a burst. Default 5m.
	Duration time.Duration `yaml:"duration" yamldoc:"nozero"`
}

// FlashCrowd is a surge at a known time: the factor rises linearly from 1 to Peak
// over Rise, then decays back towards 1 as exp(−t/Decay).
type FlashCrowd struct {
	// At is when the rise starts, from the start of the trace, >= 0. Required.
	At time.Duration `yaml:"at"`
	// Peak is the factor at the top, in (0, MaxSynthFactor]. Required.
	Peak float64 `yaml:"peak"`
	// Rise is the length of the linear rise, >= 0 (0: a jump). Default 0.
	Rise time.Duration `yaml:"rise"`
	// Decay is the time constant of the decay, > 0. Default 30m.
	Decay time.Duration `yaml:"decay" yamldoc:"nozero"`
}

// Step multiplies the rate by Factor from At on.
type Step struct {
	// At is when the step happens, from the start of the trace, >= 0. Required.
	At time.Duration `yaml:"at"`
	// Factor multiplies the rate, in [0, MaxSynthFactor]. Required.
	Factor float64 `yaml:"factor"`
}

// OnOff alternates between an on and an off state with exponentially distributed
// sojourns (mean MeanOn, MeanOff), starting on; the factor is OnFactor or OffFactor,
// time-weighted within a bucket. Disabled when MeanOn and MeanOff are both zero.
type OnOff struct {
	// OnFactor multiplies the rate while on, in (0, MaxSynthFactor]. Default 1.
	OnFactor float64 `yaml:"on_factor" yamldoc:"nozero"`
	// OffFactor multiplies the rate while off, in [0, MaxSynthFactor]. Default 0
	// (silence).
	OffFactor float64 `yaml:"off_factor"`
	// MeanOn is the mean time spent on. Required with MeanOff.
	MeanOn time.Duration `yaml:"mean_on"`
	// MeanOff is the mean time spent off. Required with MeanOn.
	MeanOff time.Duration `yaml:"mean_off"`
}

// Bounds of SynthSpec fields, generous but finite, so that a typo is refused naming
// its field instead of overflowing (or, for noise, silently zeroing) the trace.
const (
	// MaxSynthFactor bounds every multiplicative parameter (steps[i].factor,
	// flash_crowds[i].peak, bursts.magnitude, on_off factors) and the magnitude of
	// trend_per_day: 1e6, MaxRate, so that one factor alone can lift a rate of 1
	// request/s to the limit. A product of factors above MaxRate is refused by
	// Synthesize.
	MaxSynthFactor = 1e6
	// MaxNoiseSigma bounds noise.sigma: 3. A lognormal factor then has a coefficient of
	// variation of about 90 (as sim.MaxCV); beyond it nearly every bucket's factor is
	// close to 0, the mean of 1 carried by rare huge ones.
	MaxNoiseSigma = 3.0
)

// Validate fills the defaults into s and reports the first bad field.
func (s *SynthSpec) Validate() error {
	if s.Name == "" {
		s.Name = "synthetic"
	}
	if s.Duration == 0 {
		s.Duration = 24 * time.Hour
	}
	if s.Bucket == 0 {
		s.Bucket = time.Minute
	}
	if s.BaseRate == 0 {
		s.BaseRate = 100
	}
	if s.Diurnal.PeakHour == 0 {
		s.Diurnal.PeakHour = 14
	}
	if s.Noise.Kind == "" {
		s.Noise.Kind = NoiseNone
		if s.Noise.Sigma > 0 {
			s.Noise.Kind = NoiseLognormal
		}
	}
	if s.Bursts.Magnitude == 0 {
		s.Bursts.Magnitude = 1
	}
	if s.Bursts.Duration == 0 {
		s.Bursts.Duration = 5 * time.Minute
	}
	for i := range s.FlashCrowds {
		if s.FlashCrowds[i].Decay == 0 {
			s.FlashCrowds[i].Decay = 30 * time.Minute
		}
	}
	if s.OnOff.OnFactor == 0 {
		s.OnOff.OnFactor = 1
	}

	bad := func(field string, v any, want string) error {
		return yamldoc.Invalid(field, v, want)
	}
	// factor reports whether x is in [lo, MaxSynthFactor] (lo excluded when open);
	// NaN and infinities are not.
	factor := func(x, lo float64, open bool) bool {
		return x <= MaxSynthFactor && (x > lo || !open && x == lo)
	}
	fr := func(lo float64, open bool) string {
		op := ">="
		if open {
			op = ">"
		}
		return fmt.Sprintf("must be finite and %s %g, at most %g (traces.MaxSynthFactor)", op, lo, MaxSynthFactor)
	}
	switch {
	case s.Bucket < 0:
		return bad("bucket", s.Bucket, "must be > 0")
	case s.Duration < 0 || s.Duration%s.Bucket != 0:
		return bad("duration", s.Duration, fmt.Sprintf("must be a positive multiple of the bucket %v", s.Bucket))
	case s.Duration/s.Bucket > DefaultMaxBuckets:
		return bad("duration", s.Duration, fmt.Sprintf("more than %d buckets of %v", DefaultMaxBuckets, s.Bucket))
	case !(s.BaseRate >= 0 && s.BaseRate <= MaxRate):
		return bad("base_rate", s.BaseRate, fmt.Sprintf("must be in [0, %g] (traces.MaxRate)", MaxRate))
	case !(s.Diurnal.Amplitude >= 0 && s.Diurnal.Amplitude <= 1):
		return bad("diurnal.amplitude", s.Diurnal.Amplitude, "must be in [0, 1]")
	case !(s.Diurnal.PeakHour > 0 && s.Diurnal.PeakHour <= 24):
		return bad("diurnal.peak_hour", s.Diurnal.PeakHour, "must be in (0, 24]")
	case !(s.WeekendDip >= 0 && s.WeekendDip <= 1):
		return bad("weekend_dip", s.WeekendDip, "must be in [0, 1]")
	case !factor(s.TrendPerDay, -MaxSynthFactor, false):
		return bad("trend_per_day", s.TrendPerDay, fr(-MaxSynthFactor, false))
	case s.Noise.Kind != NoiseNone && s.Noise.Kind != NoiseLognormal && s.Noise.Kind != NoiseGaussian:
		return bad("noise.kind", s.Noise.Kind, "want none, lognormal or gaussian")
	case !(s.Noise.Sigma >= 0 && s.Noise.Sigma <= MaxNoiseSigma):
		return bad("noise.sigma", s.Noise.Sigma, fmt.Sprintf("must be in [0, %g] (traces.MaxNoiseSigma)", MaxNoiseSigma))
	case !(s.Bursts.PerDay >= 0) || math.IsInf(s.Bursts.PerDay, 0):
		return bad("bursts.per_day", s.Bursts.PerDay, "must be finite and >= 0")
	case !factor(s.Bursts.Magnitude, 0, true):
		return bad("bursts.magnitude", s.Bursts.Magnitude, fr(0, true))
	case s.Bursts.Duration < 0:
		return bad("bursts.duration", s.Bursts.Duration, "must be > 0")
	case !factor(s.OnOff.OnFactor, 0, true):
		return bad("on_off.on_factor", s.OnOff.OnFactor, fr(0, true))
	case !factor(s.OnOff.OffFactor, 0, false):
		return bad("on_off.off_factor", s.OnOff.OffFactor, fr(0, false))
	case s.OnOff.MeanOn < 0 || s.OnOff.MeanOff < 0 || (s.OnOff.MeanOn == 0) != (s.OnOff.MeanOff == 0):
		return bad("on_off", fmt.Sprintf("mean_on %v, mean_off %v", s.OnOff.MeanOn, s.OnOff.MeanOff), "both must be > 0, or both 0 to disable")
	}
	// Bound the work of the random processes: at most one event per bucket on average.
	nb := float64(s.Duration / s.Bucket)
	if s.Bursts.PerDay*s.Duration.Hours()/24 > nb {
		return bad("bursts.per_day", s.Bursts.PerDay, "more than one burst per bucket on average")
	}
	if s.OnOff.MeanOn > 0 && (s.OnOff.MeanOn < s.Bucket/1000 || s.OnOff.MeanOff < s.Bucket/1000) {
		return bad("on_off", fmt.Sprintf("mean_on %v, mean_off %v", s.OnOff.MeanOn, s.OnOff.MeanOff), "must each be at least 1/1000 of the bucket")
	}
	for i, f := range s.FlashCrowds {
		field := fmt.Sprintf("flash_crowds[%d]", i)
		switch {
		case f.At < 0:
			return bad(field+".at", f.At, "must be >= 0")
		case !factor(f.Peak, 0, true):
			return bad(field+".peak", f.Peak, fr(0, true))
		case f.Rise < 0:
			return bad(field+".rise", f.Rise, "must be >= 0")
		case f.Decay < 0:
			return bad(field+".decay", f.Decay, "must be > 0")
		}
	}
	for i, st := range s.Steps {
		field := fmt.Sprintf("steps[%d]", i)
		switch {
		case st.At < 0:
			return bad(field+".at", st.At, "must be >= 0")
		case !factor(st.Factor, 0, false):
			return bad(field+".factor", st.Factor, fr(0, false))
		}
	}
	return nil
}

// DecodeSynthSpec reads a SynthSpec from YAML, strictly: unknown keys are errors.
// name is used in error messages, which name the line and field. The spec is
// validated, defaults filled.
func DecodeSynthSpec(r io.Reader, name string) (SynthSpec, error) {
	data, err := io.ReadAll(io.LimitReader(r, yamldoc.MaxBytes+1))
	if err != nil {
		return SynthSpec{}, &ParseError{Name: name, Err: err}
	}
	return decodeSynthSpec(data, name)
}

func decodeSynthSpec(data []byte, name string) (SynthSpec, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return SynthSpec{}, &ParseError{Name: name, Err: fmt.Errorf("empty spec: %w", ErrEmpty)}
	}
	var s SynthSpec
	if _, err := yamldoc.Load(data, name, &s); err != nil {
		return SynthSpec{}, err
	}
	return s, nil
}

// Random streams, one per component, so that adding a component to a spec does not
// change the random draws of the others.
const (
	streamBursts = 1 + iota
	streamOnOff
	streamNoise
)

// Synthesize builds the trace spec describes. The same spec and seed give the same
// trace, bit for bit.
func Synthesize(spec SynthSpec, seed uint64) (*Trace, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	n := int(spec.Duration / spec.Bucket)
	bsec := spec.Bucket.Seconds()
	rates := make([]float64, n)
	for i := range rates {
		t := (float64(i) + 0.5) * bsec // midpoint, seconds
		day := t / 86400
		f := spec.BaseRate
		if a := spec.Diurnal.Amplitude; a > 0 {
			h := math.Mod(t/3600, 24)
			f *= 1 + a*math.Cos(2*math.Pi*(h-spec.Diurnal.PeakHour)/24)
		}
		if wd := int(day) % 7; spec.WeekendDip > 0 && wd >= 5 {
			f *= 1 - spec.WeekendDip
		}
		if spec.TrendPerDay != 0 {
			f *= max(0, 1+spec.TrendPerDay*day)
		}
		for _, st := range spec.Steps {
			if t >= st.At.Seconds() {
				f *= st.Factor
			}
		}
		for _, fc := range spec.FlashCrowds {
			f *= flashFactor(fc, t)
		}
		rates[i] = f
	}

	if spec.Bursts.PerDay > 0 {
		rng := rand.New(rand.NewPCG(seed, streamBursts))
		cover := make([]float64, n)
		end := spec.Duration.Seconds()
		meanGap := 86400 / spec.Bursts.PerDay
		for t := rng.ExpFloat64() * meanGap; t < end; t += rng.ExpFloat64() * meanGap {
			addCover(cover, t, t+rng.ExpFloat64()*spec.Bursts.Duration.Seconds(), bsec)
		}
		for i := range rates {
			rates[i] *= 1 + spec.Bursts.Magnitude*cover[i]
		}
	}
	if spec.OnOff.MeanOn > 0 {
		rng := rand.New(rand.NewPCG(seed, streamOnOff))
		on := make([]float64, n)
		end := spec.Duration.Seconds()
		for t := 0.0; t < end; {
			d := rng.ExpFloat64() * spec.OnOff.MeanOn.Seconds()
			addCover(on, t, t+d, bsec)
			t += d + rng.ExpFloat64()*spec.OnOff.MeanOff.Seconds()
		}
		for i := range rates {
			rates[i] *= on[i]*spec.OnOff.OnFactor + (1-on[i])*spec.OnOff.OffFactor
		}
	}
	if spec.Noise.Kind != NoiseNone && spec.Noise.Sigma > 0 {
		rng := rand.New(rand.NewPCG(seed, streamNoise))
		s := spec.Noise.Sigma
		for i := range rates {
			z := rng.NormFloat64()
			if spec.Noise.Kind == NoiseLognormal {
				rates[i] *= math.Exp(s*z - s*s/2)
			} else {
				rates[i] *= max(0, 1+s*z)
			}
		}
	}
	// Each factor is bounded, but their product is not: many steps or flash crowds
	// compound, and can overflow.
	for i, r := range rates {
		if !(r <= MaxRate) {
			what := fmt.Sprintf("rate %.4g requests/s, above the limit of %g (traces.MaxRate)", r, MaxRate)
			if math.IsNaN(r) { // an overflowed product times a factor 0
				what = "rate overflows"
			}
			return nil, fmt.Errorf("synth spec %q: bucket %d (at %s): %s: base_rate (%g) times the spec's factors (diurnal, trend_per_day, steps, flash_crowds, bursts, on_off, noise) is too large",
				spec.Name, i, yamldoc.Duration(time.Duration(i)*spec.Bucket), what, spec.BaseRate)
		}
	}
	t := &Trace{Name: spec.Name, Bucket: spec.Bucket, Rates: rates}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("synth spec %q: %w", spec.Name, err)
	}
	return t, nil
}

// flashFactor is the factor of flash crowd fc at t seconds.
func flashFactor(fc FlashCrowd, t float64) float64 {
	at, rise := fc.At.Seconds(), fc.Rise.Seconds()
	switch {
	case t < at:
		return 1
	case t < at+rise:
		return 1 + (fc.Peak-1)*(t-at)/rise
	}
	return 1 + (fc.Peak-1)*math.Exp(-(t-at-rise)/fc.Decay.Seconds())
}

// addCover adds to cover[i] the fraction of bucket i (of bsec seconds) inside [a, b).
func addCover(cover []float64, a, b, bsec float64) {
	if b <= a {
		return
	}
	first := int(a / bsec)
	for i := first; i < len(cover); i++ {
		lo, hi := float64(i)*bsec, float64(i+1)*bsec
		if lo >= b {
			break
		}
		cover[i] += (min(hi, b) - max(lo, a)) / bsec
	}
}
