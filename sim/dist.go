package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// Dist kinds accepted in Dist.Kind.
const (
	Exponential = "exponential"
	LogNormal   = "lognormal"
	Constant    = "constant"
	Empirical   = "empirical"
)

// Bounds of a Dist's parameters, checked by Dist.Validate. They are generous (a
// component's config may bound the mean further, as Config does for service_time)
// and keep every sample finite: with cv at most MaxCV a lognormal's underlying
// normal has sigma at most about 3.03, so no draw exceeds about 1e13 times the mean.
const (
	// MaxCV is the largest coefficient of variation of a lognormal Dist: 100, far
	// beyond measured service times (calibrate fits cv in [0.02, 5]). Above it cv² soon
	// overflows and nearly every draw is ~0 with a mean carried by rare huge ones.
	MaxCV = 100.0
	// MaxDistSeconds is the largest mean (exponential, lognormal, constant) or sample
	// (empirical) of a Dist, in seconds: 1e9 (about 31.7 years).
	MaxDistSeconds = 1e9
)

func (d Dist) isZero() bool {
	return d.Kind == "" && d.Mean == 0 && d.CV == 0 && len(d.Samples) == 0
}

// Validate reports the first reason d is not a usable distribution, naming field
// (the YAML path of d, for example "service_time") in the error. Means and samples
// must be finite and in [0, MaxDistSeconds] (mean > 0 unless constant), and a
// lognormal's cv in (0, MaxCV].
func (d Dist) Validate(field string) error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch d.Kind {
	case Exponential, LogNormal, Constant:
		if len(d.Samples) > 0 {
			return yamldoc.Errorf(field+".samples", "%s", fmt.Sprintf("only allowed with kind empirical, not %s", d.Kind))
		}
		if !finite(d.Mean) || d.Mean < 0 || (d.Kind != Constant && d.Mean == 0) {
			return yamldoc.Invalid(field+".mean", d.Mean, "must be finite and > 0 (>= 0 for constant)")
		}
		if d.Mean > MaxDistSeconds {
			return yamldoc.Invalid(field+".mean", d.Mean, fmt.Sprintf("must be at most %g seconds", MaxDistSeconds))
		}
		if d.Kind == LogNormal {
			if !finite(d.CV) || d.CV <= 0 || d.CV > MaxCV {
				return yamldoc.Invalid(field+".cv", d.CV, fmt.Sprintf("must be in (0, %g]", MaxCV))
			}
		} else if d.CV != 0 {
			return yamldoc.Invalid(field+".cv", d.CV, fmt.Sprintf("only allowed with kind lognormal, not %s", d.Kind))
		}
	case Empirical:
		if len(d.Samples) == 0 {
			return yamldoc.Errorf(field+".samples", "empirical needs at least one sample")
		}
		if d.Mean != 0 || d.CV != 0 {
			return yamldoc.Errorf(field, "empirical takes samples only, not mean or cv")
		}
		for i, x := range d.Samples {
			if !finite(x) || x < 0 || x > MaxDistSeconds {
				return yamldoc.Invalid(fmt.Sprintf("%s.samples[%d]", field, i), x, fmt.Sprintf("must be finite and in [0, %g]", MaxDistSeconds))
			}
		}
	case "":
		return yamldoc.Errorf(field+".kind", "missing: one of exponential, lognormal, constant, empirical")
	default:
		return yamldoc.Invalid(field+".kind", d.Kind, "must be one of exponential, lognormal, constant, empirical")
	}
	return nil
}

// MeanSeconds is the mean of d in seconds (the sample mean for empirical).
func (d Dist) MeanSeconds() float64 {
	if d.Kind == Empirical {
		m, _ := meanVar(d.Samples)
		return m
	}
	return d.Mean
}

// SCV is the squared coefficient of variation of d: 1 for exponential, 0 for
// constant, CV² for lognormal and the sample SCV (population variance over squared
// mean) for empirical; 0 when the mean is 0.
func (d Dist) SCV() float64 {
	switch d.Kind {
	case Exponential:
		return 1
	case LogNormal:
		return d.CV * d.CV
	case Empirical:
		m, v := meanVar(d.Samples)
		if m == 0 {
			return 0
		}
		return v / (m * m)
	}
	return 0
}

func meanVar(xs []float64) (mean, variance float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs))
}

// Sample draws one value of d, in seconds, from r. d must be valid.
func (d Dist) Sample(r *rand.Rand) float64 {
	s := newSampler(d)
	return s.sample(r)
}

// sampler is a Dist with its parameters precomputed, for the simulator's hot loop.
type sampler struct {
	kind      uint8
	mean      float64
	mu, sigma float64 // lognormal: parameters of the underlying normal
	samples   []float64
}

const (
	kindExp uint8 = iota
	kindLogNormal
	kindConst
	kindEmpirical
)

func newSampler(d Dist) sampler {
	switch d.Kind {
	case Exponential:
		return sampler{kind: kindExp, mean: d.Mean}
	case LogNormal:
		s2 := math.Log1p(d.CV * d.CV)
		return sampler{kind: kindLogNormal, mean: d.Mean, mu: math.Log(d.Mean) - s2/2, sigma: math.Sqrt(s2)}
	case Empirical:
		return sampler{kind: kindEmpirical, samples: d.Samples}
	}
	return sampler{kind: kindConst, mean: d.Mean}
}

func (s *sampler) sample(r *rand.Rand) float64 {
	switch s.kind {
	case kindExp:
		return r.ExpFloat64() * s.mean
	case kindLogNormal:
		return math.Exp(s.mu + s.sigma*r.NormFloat64())
	case kindEmpirical:
		return s.samples[r.IntN(len(s.samples))]
	}
	return s.mean
}

// sampleNs draws one value in integer nanoseconds, rounded to nearest.
func (s *sampler) sampleNs(r *rand.Rand) int64 {
	x := s.sample(r)*1e9 + 0.5
	if x >= math.MaxInt64/4 {
		return math.MaxInt64 / 4
	}
	return int64(x)
}
