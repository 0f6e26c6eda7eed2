package ppo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/intelliscale/intelliscale/agents/nn"
)

// Policy is a trained actor with the observation statistics it was trained on.
type Policy struct {
	Actor *nn.MLP
	// ObsMean and ObsVar standardise observations as in training ((x-mean)/sqrt(var+1e-8),
	// clipped to ±ObsClip when ObsClip > 0); both nil when training used raw observations.
	ObsMean, ObsVar []float64
	ObsClip         float64

	x []float64
}

// Policy returns a snapshot of the current actor and observation statistics.
func (t *Trainer) Policy() *Policy {
	p := &Policy{Actor: t.Actor.Clone()}
	if t.ObsRMS != nil {
		r := t.ObsRMS.Clone()
		p.ObsMean, p.ObsVar, p.ObsClip = r.Mean, r.Var, t.Config.ObsClip
	}
	return p
}

// Validate checks the policy's shapes against each other.
func (p *Policy) Validate() error {
	if p.Actor == nil {
		return fmt.Errorf("ppo policy: no actor")
	}
	if err := nn.ValidateShape(p.Actor.Sizes, len(p.Actor.Params)); err != nil {
		return fmt.Errorf("ppo policy: actor: %w", err)
	}
	if (p.ObsMean == nil) != (p.ObsVar == nil) {
		return fmt.Errorf("ppo policy: obs_mean and obs_var must be both set or both absent")
	}
	if p.ObsMean != nil && (len(p.ObsMean) != p.Actor.In() || len(p.ObsVar) != p.Actor.In()) {
		return fmt.Errorf("ppo policy: observation statistics of length %d/%d for an actor of input %d",
			len(p.ObsMean), len(p.ObsVar), p.Actor.In())
	}
	return nil
}

// Logits returns the action logits for one raw observation (a workspace of the actor,
// valid until its next call).
func (p *Policy) Logits(obs []float64) ([]float64, error) {
	if len(obs) != p.Actor.In() {
		return nil, fmt.Errorf("ppo policy: observation of length %d, want %d", len(obs), p.Actor.In())
	}
	x := obs
	if p.ObsMean != nil {
		if len(p.ObsMean) != len(obs) || len(p.ObsVar) != len(obs) {
			return nil, fmt.Errorf("ppo policy: observation statistics of length %d/%d, want %d", len(p.ObsMean), len(p.ObsVar), len(obs))
		}
		if len(p.x) != len(obs) {
			p.x = make([]float64, len(obs))
		}
		for j, v := range obs {
			z := (v - p.ObsMean[j]) / math.Sqrt(p.ObsVar[j]+1e-8)
			if p.ObsClip > 0 {
				z = max(-p.ObsClip, min(p.ObsClip, z))
			}
			p.x[j] = z
		}
		x = p.x
	}
	return p.Actor.Forward(x, 1), nil
}

// Act returns the most probable action (greedy, for evaluation and deployment), or -1
// for an observation of the wrong length (an action no caller will accept).
func (p *Policy) Act(obs []float64) int {
	l, err := p.Logits(obs)
	if err != nil {
		return -1
	}
	return nn.Argmax(l)
}

// Sample draws an action from the policy's distribution, or returns -1 for an
// observation of the wrong length.
func (p *Policy) Sample(obs []float64, rng *rand.Rand) int {
	l, err := p.Logits(obs)
	if err != nil {
		return -1
	}
	return nn.SampleCategorical(l, rng)
}
