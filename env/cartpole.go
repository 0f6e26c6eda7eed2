package env

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
)

// CartPole constants, as in Gymnasium's classic_control/cartpole.py (CartPole-v1).
const (
	cartPoleGravity   = 9.8
	cartPoleMassCart  = 1.0
	cartPoleMassPole  = 0.1
	cartPoleTotalMass = cartPoleMassPole + cartPoleMassCart
	cartPoleLength    = 0.5 // half the pole's length
	cartPolePoleMassL = cartPoleMassPole * cartPoleLength
	cartPoleForceMag  = 10.0
	cartPoleTau       = 0.02 // seconds between state updates

	// CartPoleThetaThreshold is the pole angle (radians, 12 degrees) beyond which an
	// episode terminates.
	CartPoleThetaThreshold = 12 * 2 * math.Pi / 360
	// CartPoleXThreshold is the cart position beyond which an episode terminates.
	CartPoleXThreshold = 2.4
	// CartPoleMaxSteps is CartPole-v1's time limit (max_episode_steps).
	CartPoleMaxSteps = 500

	// cartPoleStream is the PCG stream constant paired with the reset seed.
	cartPoleStream = 0x63617274706f6c65 // "cartpole"
)

// CartPole is Gymnasium's CartPole-v1 without its time limit: a pole on a cart pushed
// left (action 0) or right (action 1) by a force of 10 N, integrated with Euler steps of
// 0.02 s. The observation is (x, x_dot, theta, theta_dot); the reward is 1 on every
// step, the terminating one included. Use NewCartPoleV1 for the 500-step limit.
type CartPole struct {
	// State is (x, x_dot, theta, theta_dot).
	State [4]float64
	// StepsBeyondTerminated counts steps taken after termination (-1 while running),
	// which earn no reward, as in Gymnasium.
	StepsBeyondTerminated int

	pcg *rand.PCG
	rng *rand.Rand
	obs []float64
}

// NewCartPole returns a CartPole with no time limit; call Reset before Step.
func NewCartPole() *CartPole {
	pcg := rand.NewPCG(0, cartPoleStream)
	return &CartPole{pcg: pcg, rng: rand.New(pcg), obs: make([]float64, 4), StepsBeyondTerminated: -1}
}

// NewCartPoleV1 returns CartPole-v1: a CartPole truncated after 500 steps.
func NewCartPoleV1() *TimeLimit { return NewTimeLimit(NewCartPole(), CartPoleMaxSteps) }

// ObservationSpace is Gymnasium's: twice the termination thresholds for x and theta,
// unbounded velocities.
func (c *CartPole) ObservationSpace() Box {
	inf := math.Inf(1)
	h := []float64{2 * CartPoleXThreshold, inf, 2 * CartPoleThetaThreshold, inf}
	return Box{Low: []float64{-h[0], -inf, -h[2], -inf}, High: h}
}

// ActionSpace is {0: push left, 1: push right}.
func (c *CartPole) ActionSpace() Discrete { return Discrete{N: 2} }

// Reset reseeds the environment's generator and draws each state variable from
// U(-0.05, 0.05).
func (c *CartPole) Reset(seed uint64) ([]float64, Info) {
	c.pcg.Seed(seed, cartPoleStream)
	for i := range c.State {
		c.State[i] = -0.05 + 0.1*c.rng.Float64()
	}
	c.StepsBeyondTerminated = -1
	return c.observe(), Info{}
}

// Step pushes the cart and advances the state by one Euler step. Any action other than
// 1 pushes left.
func (c *CartPole) Step(action int) ([]float64, float64, bool, bool, Info) {
	x, xDot, theta, thetaDot := c.State[0], c.State[1], c.State[2], c.State[3]
	force := -cartPoleForceMag
	if action == 1 {
		force = cartPoleForceMag
	}
	cosT, sinT := math.Cos(theta), math.Sin(theta)
	temp := (force + cartPolePoleMassL*thetaDot*thetaDot*sinT) / cartPoleTotalMass
	thetaAcc := (cartPoleGravity*sinT - cosT*temp) /
		(cartPoleLength * (4.0/3.0 - cartPoleMassPole*cosT*cosT/cartPoleTotalMass))
	xAcc := temp - cartPolePoleMassL*thetaAcc*cosT/cartPoleTotalMass

	x += cartPoleTau * xDot
	xDot += cartPoleTau * xAcc
	theta += cartPoleTau * thetaDot
	thetaDot += cartPoleTau * thetaAcc
	c.State = [4]float64{x, xDot, theta, thetaDot}

	terminated := x < -CartPoleXThreshold || x > CartPoleXThreshold ||
		theta < -CartPoleThetaThreshold || theta > CartPoleThetaThreshold
	reward := 1.0
	switch {
	case !terminated:
	case c.StepsBeyondTerminated < 0:
		c.StepsBeyondTerminated = 0
	default:
		// Stepping a finished episode: Gymnasium warns and gives no reward.
		c.StepsBeyondTerminated++
		reward = 0
	}
	return c.observe(), reward, terminated, false, Info{}
}

func (c *CartPole) observe() []float64 {
	copy(c.obs, c.State[:])
	return c.obs
}

// MarshalBinary encodes the state and the generator, so a run can resume mid-episode.
func (c *CartPole) MarshalBinary() ([]byte, error) {
	r, err := c.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("cartpole: %w", err)
	}
	b := make([]byte, 0, 40+len(r))
	for _, v := range c.State {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(int64(c.StepsBeyondTerminated)))
	return append(b, r...), nil
}

// UnmarshalBinary restores what MarshalBinary encoded.
func (c *CartPole) UnmarshalBinary(b []byte) error {
	if len(b) < 40 {
		return fmt.Errorf("cartpole: state of %d bytes, want at least 40", len(b))
	}
	for i := range c.State {
		c.State[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	c.StepsBeyondTerminated = int(int64(binary.LittleEndian.Uint64(b[32:])))
	if err := c.pcg.UnmarshalBinary(b[40:]); err != nil {
		return fmt.Errorf("cartpole: generator: %w", err)
	}
	return nil
}
