package dqn

import (
	"os"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env"
)

const (
	proofBudget    = 100_000 // environment steps
	proofTarget    = 450.0   // mean greedy return to reach
	proofEvalEvery = 5_000   // steps between evaluations
	proofEvalEps   = 10      // greedy episodes per evaluation
)

// solveCartPole trains on CartPole-v1 with the seed, evaluating every proofEvalEvery
// steps, and stops at the first evaluation reaching proofTarget. It returns the step
// count then (0 if never) and the best evaluation.
func solveCartPole(t testing.TB, cfg Config) (solvedAt int, best float64) {
	cfg.TotalSteps = proofBudget
	tr, err := NewTrainer(env.NewCartPoleV1(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	eval := env.NewCartPoleV1()
	for tr.GlobalStep < proofBudget {
		tr.Run(proofEvalEvery, nil)
		// Evaluation seeds far from the training ones.
		ret := Evaluate(eval, tr.Agent(), proofEvalEps, 1_000_000+uint64(tr.GlobalStep))
		best = max(best, ret)
		if ret >= proofTarget {
			return tr.GlobalStep, best
		}
	}
	return 0, best
}

// TestCartPoleProof is the acceptance test: DQN reaches a greedy evaluation return of
// 450 on CartPole-v1 within 100000 steps for at least 4 of seeds 1..5. CI runs seeds
// 1 and 2 and requires both; INTELLISCALE_FULL=1 runs all five.
func TestCartPoleProof(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for up to 100000 steps per seed; skipped with -short")
	}
	seeds := []uint64{1, 2}
	need := 2
	if os.Getenv("INTELLISCALE_FULL") == "1" {
		seeds, need = []uint64{1, 2, 3, 4, 5}, 4
	}
	solved := 0
	for _, seed := range seeds {
		cfg := CartPoleConfig()
		cfg.Seed = seed
		start := time.Now() // reporting only, never asserted
		at, best := solveCartPole(t, cfg)
		if at > 0 {
			solved++
		}
		t.Logf("seed %d: solved at step %d (0 = not within %d), best evaluation %.1f, %.1fs",
			seed, at, proofBudget, best, time.Since(start).Seconds())
	}
	if solved < need {
		t.Errorf("%d of %d seeds reached %v within %d steps, want at least %d", solved, len(seeds), proofTarget, proofBudget, need)
	}
}
