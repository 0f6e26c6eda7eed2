package experiments

import (
	"fmt"
	"hash/fnv"
	"path"
	"strconv"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// Cell phases, in the order they run: tuning and training cells ("prepare") come
// before the evaluation cells that depend on them.
const (
	PhaseTune  = "tune"
	PhaseTrain = "train"
	PhaseEval  = "eval"
)

// Cell is one unit of work with its own directory of results.
type Cell struct {
	Phase  string // tune, train or eval
	Policy string // policy name
	Kind   string // policy kind
	Trace  string // trace name (tune, eval)
	Seed   uint64 // experiment seed (train, eval)
	Split  string // evaluation window (eval)
	// TrainedAs is the policy whose training cells a learned evaluation cell uses
	// (PolicySpec.TrainedAs): Policy itself, or its family for a deploy-time
	// variant. Not part of the cell's name.
	TrainedAs string
	// FromFile marks a learned evaluation cell whose policy is a file
	// (PolicySpec.File), which no training cell produces. Not part of the name.
	FromFile bool
	// Ensemble marks a learned evaluation cell whose policy is the ensemble of
	// every seed's training of TrainedAs (PolicySpec.EnsembleOf). Not part of the
	// name.
	Ensemble bool
}

// Name is the cell's directory name: trace__policy__seed__split for evaluation,
// policy__seed for training, policy__trace for tuning.
func (c Cell) Name() string {
	switch c.Phase {
	case PhaseTune:
		return c.Policy + "__" + c.Trace
	case PhaseTrain:
		return c.Policy + "__" + strconv.FormatUint(c.Seed, 10)
	default:
		return c.Trace + "__" + c.Policy + "__" + strconv.FormatUint(c.Seed, 10) + "__" + c.Split
	}
}

// Dir is the cell's directory relative to the results directory.
func (c Cell) Dir() string {
	switch c.Phase {
	case PhaseTune:
		return path.Join("tune", c.Name())
	case PhaseTrain:
		return path.Join("train", c.Name())
	default:
		return path.Join("cells", c.Name())
	}
}

// Matrix lists the cells of an experiment in a fixed order that does not depend on
// how they are executed: prepare (tuning cells by policy then trace, then training
// cells by policy then seed) and eval (by trace, window, seed, policy). Policies here
// are the Variants: each configured policy followed by its sweep values.
func Matrix(cfg *Config) (prepare, eval []Cell) {
	var pols []PolicySpec
	for _, v := range Variants(cfg) {
		pols = append(pols, v.Spec)
	}
	for _, p := range pols {
		if p.Kind == KindHPATuned {
			for _, t := range cfg.Traces {
				prepare = append(prepare, Cell{Phase: PhaseTune, Policy: p.Name, Kind: p.Kind, Trace: t.Name})
			}
		}
	}
	for _, p := range pols {
		if Learned(p.Kind) && p.TrainedAs() == p.Name && p.File == "" {
			for _, s := range cfg.Seeds {
				prepare = append(prepare, Cell{Phase: PhaseTrain, Policy: p.Name, Kind: p.Kind, Seed: s})
			}
		}
	}
	for _, t := range cfg.Traces {
		for _, split := range cfg.Eval {
			for _, s := range cfg.Seeds {
				for _, p := range pols {
					c := Cell{Phase: PhaseEval, Policy: p.Name, Kind: p.Kind, Trace: t.Name, Seed: s, Split: split}
					if Learned(p.Kind) {
						c.TrainedAs, c.FromFile, c.Ensemble = p.TrainedAs(), p.File != "", p.EnsembleOf != ""
					}
					eval = append(eval, c)
				}
			}
		}
	}
	return prepare, eval
}

// dependencies are the prepare cells an evaluation cell needs, for an experiment
// of the given seeds.
func dependencies(c Cell, seeds []uint64) []Cell {
	switch {
	case c.Phase != PhaseEval:
		return nil
	case c.Kind == KindHPATuned:
		return []Cell{{Phase: PhaseTune, Policy: c.Policy, Kind: c.Kind, Trace: c.Trace}}
	case Learned(c.Kind) && c.FromFile:
		return nil
	case Learned(c.Kind):
		trained := c.TrainedAs
		if trained == "" {
			trained = c.Policy
		}
		if !c.Ensemble {
			return []Cell{{Phase: PhaseTrain, Policy: trained, Kind: c.Kind, Seed: c.Seed}}
		}
		deps := make([]Cell, len(seeds))
		for i, s := range seeds {
			deps[i] = Cell{Phase: PhaseTrain, Policy: trained, Kind: c.Kind, Seed: s}
		}
		return deps
	}
	return nil
}

// Shard selects a slice of the matrix: cell i of each phase's list belongs to shard
// i % Count. The zero value means the whole matrix.
type Shard struct {
	Index, Count int
}

// ParseShard parses "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.Index, &sh.Count); err != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N, for example 0/4: %w", s, err)
	}
	if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
		return Shard{}, fmt.Errorf("shard %q: need 0 <= I < N", s)
	}
	if fmt.Sprintf("%d/%d", sh.Index, sh.Count) != s {
		return Shard{}, fmt.Errorf("shard %q: want I/N, for example 0/4", s)
	}
	return sh, nil
}

// Has reports whether cell i of a phase list belongs to the shard.
func (s Shard) Has(i int) bool { return s.Count <= 1 || i%s.Count == s.Index }

// deriveSeed mixes an experiment seed with a label (a cell or window name) into a
// run seed. It depends on nothing else, so a cell gets the same seed whatever the
// order or machine it runs on.
func deriveSeed(seed uint64, label string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(label))
	z := seed ^ h.Sum64()
	// splitmix64 finaliser: nearby seeds give unrelated streams.
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// bucketRange is a window of a trace in buckets: [From, To).
type bucketRange struct {
	From, To int
}

// windowBounds returns the train, validation and test windows of a trace of n buckets
// of length bucket according to spec.
func windowBounds(spec TraceSpec, n int, bucket time.Duration) (map[string]bucketRange, error) {
	out := map[string]bucketRange{}
	// Windows are checked in time order so that an error names the same one every time.
	order := []string{SplitTrain, SplitValidation, SplitTest}
	if spec.Windows != nil {
		for i, w := range []Window{spec.Windows.Train, spec.Windows.Validation, spec.Windows.Test} {
			name := order[i]
			from := int(w.Start / bucket)
			to := int((w.End + bucket - 1) / bucket)
			if to > n {
				return nil, fmt.Errorf("trace %q: %s window ends at %v, after the trace (%v)", spec.Name, name, w.End, time.Duration(n)*bucket)
			}
			out[name] = bucketRange{from, to}
		}
	} else {
		a := int(float64(n)*spec.Split.Train + 0.5)
		b := int(float64(n)*(spec.Split.Train+spec.Split.Validation) + 0.5)
		out[SplitTrain] = bucketRange{0, a}
		out[SplitValidation] = bucketRange{a, b}
		out[SplitTest] = bucketRange{b, n}
	}
	for _, name := range order {
		if b := out[name]; b.To <= b.From {
			return nil, fmt.Errorf("trace %q: %s window is empty (%d buckets in the trace)", spec.Name, name, n)
		}
	}
	return out, nil
}

// sliceTrace returns buckets [b.From, b.To) of tr as a trace of its own, time measured
// from the window's start.
func sliceTrace(tr *traces.Trace, b bucketRange) *traces.Trace {
	off := time.Duration(b.From) * tr.Bucket
	end := time.Duration(b.To) * tr.Bucket
	out := &traces.Trace{Name: tr.Name, Bucket: tr.Bucket, Rates: append([]float64(nil), tr.Rates[b.From:b.To]...)}
	if !tr.Start.IsZero() {
		out.Start = tr.Start.Add(off)
	}
	if tr.Arrivals != nil {
		out.Arrivals = []time.Duration{}
		for _, a := range tr.Arrivals {
			if a >= off && a < end {
				out.Arrivals = append(out.Arrivals, a-off)
			}
		}
	}
	return out
}
