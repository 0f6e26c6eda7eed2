package ppo

// GAE computes generalised advantage estimates and returns (advantage + value) as
// CleanRL's ppo.py does, over a rollout stored step-major: index t*numEnvs+i is copy i at
// step t. done[t*numEnvs+i] says the episode ended at that step (terminated, or
// truncated after the truncation bootstrap was added to its reward), so nothing is
// bootstrapped past it; nextValue[i] is the value of the observation after the last step.
//
//	δ_t = r_t + γ·V_{t+1}·(1-done_t) − V_t
//	A_t = δ_t + γ·λ·(1-done_t)·A_{t+1}
func GAE(adv, ret, rewards, values []float64, done []bool, nextValue []float64, numEnvs int, gamma, lambda float64) {
	numSteps := len(rewards) / numEnvs
	for i := range numEnvs {
		last := 0.0
		for t := numSteps - 1; t >= 0; t-- {
			k := t*numEnvs + i
			next := nextValue[i]
			if t < numSteps-1 {
				next = values[k+numEnvs]
			}
			nonTerminal := 1.0
			if done[k] {
				nonTerminal = 0
			}
			delta := rewards[k] + gamma*next*nonTerminal - values[k]
			last = delta + gamma*lambda*nonTerminal*last
			adv[k] = last
			ret[k] = last + values[k]
		}
	}
}
