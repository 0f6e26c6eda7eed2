package env

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"sync"
)

// vectorStream is the PCG stream constant of the generators drawing auto-reset seeds.
const vectorStream = 0x766563746f72 // "vector"

// Vector runs N environments in lockstep and resets each automatically when its
// episode ends, handing back that episode's last observation in Info.FinalObs (the
// returned observation is then the next episode's first). Each copy's next-episode
// seed comes from its own generator, so running the copies on a worker pool gives the
// same results, bit for bit, as running them one by one.
//
// The slices Reset and Step return belong to the Vector and stay valid only until its
// next Reset or Step. A parallel Vector holds goroutines: Close it when done.
type Vector struct {
	Envs []Env
	// SeedGens draw each copy's next-episode seed on auto-reset; Reset(seed) seeds
	// copy i's with seed+i.
	SeedGens []*rand.PCG

	obsDim   int
	obs      []float64
	rewards  []float64
	term     []bool
	trunc    []bool
	infos    []Info
	finalObs [][]float64
	// finalExtra keep each copy's last-step Info.Extra across an auto-reset (an
	// environment may reuse one map and refill it in Reset).
	finalExtra []map[string]float64
	actions    []int

	// worker pool (parallel only): worker w owns copies w, w+W, w+2W, ...
	cmds []chan vectorCmd
	wg   sync.WaitGroup
}

type vectorCmd struct {
	reset bool
	seed  uint64
}

// NewVector runs envs, which must share observation and action spaces. With parallel
// set, steps run on min(len(envs), GOMAXPROCS) goroutines started here.
func NewVector(envs []Env, parallel bool) (*Vector, error) {
	if len(envs) == 0 {
		return nil, fmt.Errorf("vector env: no environments")
	}
	os, as := envs[0].ObservationSpace(), envs[0].ActionSpace()
	for i, e := range envs[1:] {
		if e.ObservationSpace().Dim() != os.Dim() || e.ActionSpace() != as {
			return nil, fmt.Errorf("vector env: env %d: spaces differ from env 0", i+1)
		}
	}
	n, d := len(envs), os.Dim()
	v := &Vector{
		Envs: envs, obsDim: d,
		obs: make([]float64, n*d), rewards: make([]float64, n),
		term: make([]bool, n), trunc: make([]bool, n), infos: make([]Info, n),
		finalObs: make([][]float64, n), SeedGens: make([]*rand.PCG, n),
		finalExtra: make([]map[string]float64, n),
	}
	for i := range envs {
		v.finalObs[i] = make([]float64, d)
		v.SeedGens[i] = rand.NewPCG(uint64(i), vectorStream)
	}
	if parallel && n > 1 {
		w := min(n, runtime.GOMAXPROCS(0))
		v.cmds = make([]chan vectorCmd, w)
		for k := range w {
			v.cmds[k] = make(chan vectorCmd)
			go v.work(k, w, v.cmds[k])
		}
	}
	return v, nil
}

// NumEnvs is the number of copies.
func (v *Vector) NumEnvs() int { return len(v.Envs) }

// ObservationSpace is one copy's observation space.
func (v *Vector) ObservationSpace() Box { return v.Envs[0].ObservationSpace() }

// ActionSpace is one copy's action space.
func (v *Vector) ActionSpace() Discrete { return v.Envs[0].ActionSpace() }

// Close stops the worker goroutines; the Vector can still be used, sequentially.
func (v *Vector) Close() {
	for _, c := range v.cmds {
		close(c)
	}
	v.cmds = nil
}

func (v *Vector) work(k, w int, cmds <-chan vectorCmd) {
	for c := range cmds {
		for i := k; i < len(v.Envs); i += w {
			if c.reset {
				v.resetOne(i, c.seed)
			} else {
				v.stepOne(i)
			}
		}
		v.wg.Done()
	}
}

func (v *Vector) run(c vectorCmd) {
	if v.cmds == nil {
		for i := range v.Envs {
			if c.reset {
				v.resetOne(i, c.seed)
			} else {
				v.stepOne(i)
			}
		}
		return
	}
	v.wg.Add(len(v.cmds))
	for _, ch := range v.cmds {
		ch <- c
	}
	v.wg.Wait()
}

// Reset resets copy i with seed+i and returns the N x obsDim observations.
func (v *Vector) Reset(seed uint64) ([]float64, []Info) {
	v.run(vectorCmd{reset: true, seed: seed})
	return v.obs, v.infos
}

func (v *Vector) resetOne(i int, seed uint64) {
	s := seed + uint64(i)
	v.SeedGens[i].Seed(s, vectorStream)
	obs, info := v.Envs[i].Reset(s)
	copy(v.obs[i*v.obsDim:(i+1)*v.obsDim], obs)
	v.infos[i] = info
	v.term[i], v.trunc[i], v.rewards[i] = false, false, 0
}

// Step applies actions[i] to copy i and returns the N x obsDim observations, rewards,
// terminated and truncated flags, and per-copy Info (FinalObs set on auto-reset; Extra
// is then a copy of the last step's, which the reset cannot overwrite).
func (v *Vector) Step(actions []int) (obs, rewards []float64, terminated, truncated []bool, infos []Info, err error) {
	if len(actions) != len(v.Envs) {
		return nil, nil, nil, nil, nil, fmt.Errorf("vector env: %d actions for %d environments", len(actions), len(v.Envs))
	}
	v.actions = actions
	v.run(vectorCmd{})
	v.actions = nil
	return v.obs, v.rewards, v.term, v.trunc, v.infos, nil
}

func (v *Vector) stepOne(i int) {
	e := v.Envs[i]
	obs, r, term, trunc, info := e.Step(v.actions[i])
	if term || trunc {
		copy(v.finalObs[i], obs)
		info.FinalObs = v.finalObs[i]
		if info.Extra != nil {
			if v.finalExtra[i] == nil {
				v.finalExtra[i] = make(map[string]float64, len(info.Extra))
			}
			clear(v.finalExtra[i])
			maps.Copy(v.finalExtra[i], info.Extra)
			info.Extra = v.finalExtra[i]
		}
		obs, _ = e.Reset(v.SeedGens[i].Uint64())
	}
	copy(v.obs[i*v.obsDim:(i+1)*v.obsDim], obs)
	v.rewards[i], v.term[i], v.trunc[i], v.infos[i] = r, term, trunc, info
}

// MarshalBinary encodes the seed generators and every copy that is itself a
// BinaryMarshaler (its episode in progress), for resuming at the same point.
func (v *Vector) MarshalBinary() ([]byte, error) {
	var b []byte
	for i, e := range v.Envs {
		g, err := v.SeedGens[i].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("vector env %d: %w", i, err)
		}
		var es []byte
		if m, ok := e.(encoding.BinaryMarshaler); ok {
			if es, err = m.MarshalBinary(); err != nil {
				return nil, fmt.Errorf("vector env %d: %w", i, err)
			}
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(len(g)))
		b = append(b, g...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(es)))
		b = append(b, es...)
	}
	return b, nil
}

// UnmarshalBinary restores what MarshalBinary encoded into a Vector of the same copies.
func (v *Vector) UnmarshalBinary(b []byte) error {
	next := func(i int) ([]byte, error) {
		if len(b) < 4 {
			return nil, fmt.Errorf("vector env %d: state truncated", i)
		}
		n := int(binary.LittleEndian.Uint32(b))
		if len(b) < 4+n {
			return nil, fmt.Errorf("vector env %d: state truncated", i)
		}
		p := b[4 : 4+n]
		b = b[4+n:]
		return p, nil
	}
	for i, e := range v.Envs {
		g, err := next(i)
		if err != nil {
			return err
		}
		if err := v.SeedGens[i].UnmarshalBinary(g); err != nil {
			return fmt.Errorf("vector env %d: seed generator: %w", i, err)
		}
		es, err := next(i)
		if err != nil {
			return err
		}
		if u, ok := e.(encoding.BinaryUnmarshaler); ok && len(es) > 0 {
			if err := u.UnmarshalBinary(es); err != nil {
				return fmt.Errorf("vector env %d: %w", i, err)
			}
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("vector env: %d trailing bytes of state", len(b))
	}
	return nil
}
