package dqn

import (
	"math/rand/v2"

	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
)

// Agent acts with a Q-network: greedily, or epsilon-greedily while training.
type Agent struct {
	Q          *nn.MLP    // maps an observation to one value per action
	Rng        *rand.Rand // draws exploratory actions
	NumActions int
}

// Greedy returns the action with the largest Q-value (the first on ties).
func (a *Agent) Greedy(obs []float64) int {
	return nn.Argmax(a.Q.Forward(obs, 1))
}

// Act returns a uniformly random action with probability epsilon, else the greedy one,
// as CleanRL does.
func (a *Agent) Act(obs []float64, epsilon float64) int {
	if a.Rng.Float64() < epsilon {
		return a.Rng.IntN(a.NumActions)
	}
	return a.Greedy(obs)
}

// Evaluate runs episodes greedy episodes, the i-th reset with seed+i, and returns their
// mean undiscounted return. e must end every episode (terminate or truncate), and
// should be an instance not used for training.
func Evaluate(e env.Env, agent *Agent, episodes int, seed uint64) (meanReturn float64) {
	if episodes < 1 {
		return 0
	}
	var total float64
	for i := 0; i < episodes; i++ {
		obs, _ := e.Reset(seed + uint64(i))
		for {
			var r float64
			var term, trunc bool
			obs, r, term, trunc, _ = e.Step(agent.Greedy(obs))
			total += r
			if term || trunc {
				break
			}
		}
	}
	return total / float64(episodes)
}
