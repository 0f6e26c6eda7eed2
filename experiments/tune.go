package experiments

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// sloBudget is the SLO-violation share allowed, in percent: 100 * (1 - target), with
// the simulator's default target of 0.95 when unset.
func sloBudget(cfg *Config) float64 {
	t := cfg.Sim.SLO.Target
	if t == 0 {
		t = 0.95
	}
	return 100 * (1 - t)
}

// gridPoint is the mean outcome of one grid value over the experiment's seeds.
type gridPoint struct {
	Value, SLOViolations, Cost float64
}

// chooseGrid picks the grid point with the lowest cost among those whose SLO
// violations are at most budget (qualified=true), else the one with the fewest SLO
// violations. Ties go to the earlier point.
func chooseGrid(points []gridPoint, budget float64) (best gridPoint, qualified bool) {
	bi := -1
	for i, p := range points {
		if p.SLOViolations <= budget && (bi < 0 || p.Cost < points[bi].Cost) {
			bi = i
		}
	}
	if bi >= 0 {
		return points[bi], true
	}
	for i, p := range points {
		if bi < 0 || p.SLOViolations < points[bi].SLOViolations {
			bi = i
		}
	}
	return points[bi], false
}

// tune grid-searches an hpa-tuned policy on one trace's training window, over all
// seeds, and writes grid.csv and chosen.json.
func (x *run) tune(ctx context.Context, c Cell) error {
	lt := x.traces[c.Trace]
	b := lt.bounds[SplitTrain]
	window := sliceTrace(lt.full, b)
	pol := x.policies[c.Policy]
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"param", "value", "seed", "slo_violations", "cost", "p95_seconds", "scaling_actions"})
	var points []gridPoint
	for _, v := range pol.Tune.Grid {
		gp := gridPoint{Value: v}
		for _, seed := range x.cfg.Seeds {
			simCfg := x.cfg.windowSim(x.simConfig(ctx), window, deriveSeed(seed, c.Trace+"/"+SplitTrain))
			ec := EvalContext{Sim: simCfg, Trace: lt.full, Start: time.Duration(b.From) * lt.full.Bucket}
			a, err := x.Backend.NewRule(kindHPA, withParam(&pol.Params, pol.Tune.Param, v), ec)
			if err != nil {
				return fmt.Errorf("policy %q %s=%v: %w", c.Policy, pol.Tune.Param, v, err)
			}
			o, err := x.Backend.Simulate(simCfg, window, a)
			if err != nil {
				return err
			}
			s := o.Summary
			gp.SLOViolations += s.SLOViolations / float64(len(x.cfg.Seeds))
			gp.Cost += s.Cost / float64(len(x.cfg.Seeds))
			cw.Write([]string{pol.Tune.Param, FormatFloat(v), strconv.FormatUint(seed, 10), FormatFloat(s.SLOViolations), FormatFloat(s.Cost), FormatFloat(s.P95), strconv.Itoa(s.ScalingActions)})
		}
		points = append(points, gp)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	best, ok := chooseGrid(points, sloBudget(x.cfg))
	js, err := marshalJSON(TunedValue{Param: pol.Tune.Param, Value: Num(best.Value), Qualified: ok})
	if err != nil {
		return err
	}
	return writeCell(filepath.Join(x.Out, c.Dir()), []namedFile{{"grid.csv", buf.Bytes()}, {"chosen.json", js}})
}

func readTuned(dir string) (*TunedValue, error) {
	data, err := os.ReadFile(filepath.Join(dir, "chosen.json"))
	if err != nil {
		return nil, fmt.Errorf("tuning result: %w", err)
	}
	var tv TunedValue
	if err := json.Unmarshal(data, &tv); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "chosen.json"), err)
	}
	if math.IsNaN(float64(tv.Value)) {
		return nil, fmt.Errorf("%s: no value", filepath.Join(dir, "chosen.json"))
	}
	return &tv, nil
}
