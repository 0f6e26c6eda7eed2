package reports

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/intelliscale/intelliscale/experiments"
	"github.com/intelliscale/intelliscale/internal/atomicfile"
)

// Plot is one figure of the report, saved as File.png and File.svg.
type Plot struct {
	Title, File string
	// Note says what the plot lacks that it should show ("" when nothing).
	Note string
}

var (
	demandColor = color.RGBA{R: 90, G: 90, B: 90, A: 255}
	sloColor    = color.RGBA{R: 200, G: 30, B: 30, A: 255}
)

// Plots draws every figure the results support into dir and lists them.
func (r *Results) Plots(dir string) ([]Plot, error) {
	var out []Plot
	add := func(p Plot, err error, ok bool) error {
		if err != nil {
			return err
		}
		if ok {
			out = append(out, p)
		}
		return nil
	}
	p, ok, err := r.frontierPlot(dir)
	if err := add(p, err, ok); err != nil {
		return nil, err
	}
	p, ok, err = r.rewardPlot(dir)
	if err := add(p, err, ok); err != nil {
		return nil, err
	}
	for _, tr := range r.Config.Traces {
		p, ok, err := r.replicaPlot(dir, tr.Name)
		if err := add(p, err, ok); err != nil {
			return nil, err
		}
		p, ok, err = r.latencyPlot(dir, tr.Name)
		if err := add(p, err, ok); err != nil {
			return nil, err
		}
	}
	p, ok, err = r.paretoPlot(dir)
	if err := add(p, err, ok); err != nil {
		return nil, err
	}
	p, ok, err = r.cdfPlot(dir)
	if err := add(p, err, ok); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Results) sloLatency() float64 {
	if l := r.Config.Sim.SLO.Latency; l > 0 {
		return l.Seconds()
	}
	return (500 * time.Millisecond).Seconds()
}

// saveTiles draws a grid of plots (nil cells left empty) to base.png and base.svg.
func saveTiles(grid [][]*plot.Plot, w, h vg.Length, base string) error {
	for _, ext := range []string{"png", "svg"} {
		c, err := draw.NewFormattedCanvas(w, h, ext)
		if err != nil {
			return err
		}
		dc := draw.New(c)
		t := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Millimeter * 3, PadY: vg.Millimeter * 3, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
		cs := plot.Align(grid, t, dc)
		for i := range grid {
			for j, p := range grid[i] {
				if p != nil {
					p.Draw(cs[i][j])
				}
			}
		}
		if err := atomicfile.WriteFunc(base+"."+ext, func(w io.Writer) error {
			_, err := c.WriteTo(w)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

func saveOne(p *plot.Plot, w, h vg.Length, base string) error {
	return saveTiles([][]*plot.Plot{{p}}, w, h, base)
}

func (r *Results) cellFile(trace, policy string, seed uint64, split, name string) string {
	c := experiments.Cell{Phase: experiments.PhaseEval, Policy: policy, Trace: trace, Seed: seed, Split: split}
	return filepath.Join(r.Dir, c.Dir(), name)
}

// rewardPlot: training curves of the learned policies, mean and range over seeds.
func (r *Results) rewardPlot(dir string) (Plot, bool, error) {
	p := plot.New()
	p.Title.Text = "Training reward (mean over seeds, band: range over seeds)"
	p.X.Label.Text = "environment steps"
	p.Y.Label.Text = "episode return"
	p.Legend.Top = false
	p.Legend.Left = false
	any := false
	for i, pol := range r.Config.Policies {
		if !experiments.Learned(pol.Kind) {
			continue
		}
		var runs [][2][]float64
		maxStep := 0.0
		for _, s := range r.Config.Seeds {
			c := experiments.Cell{Phase: experiments.PhaseTrain, Policy: pol.Name, Seed: s}
			t, err := experiments.ReadTable(filepath.Join(r.Dir, c.Dir(), "progress.csv"))
			if err != nil || t.Columns["step"] == nil || t.Columns["episode_return"] == nil {
				continue
			}
			xs, ys := t.Columns["step"], t.Columns["episode_return"]
			runs = append(runs, [2][]float64{xs, ys})
			for _, x := range xs {
				maxStep = math.Max(maxStep, x)
			}
		}
		if len(runs) == 0 || maxStep <= 0 {
			continue
		}
		const bins = 40
		var mean, lo, hi plotter.XYs
		for b := range bins {
			a, z := maxStep*float64(b)/bins, maxStep*float64(b+1)/bins
			var perSeed []float64
			for _, run := range runs {
				var vals []float64
				for k, x := range run[0] {
					if x > a && x <= z || b == 0 && x == 0 {
						vals = append(vals, run[1][k])
					}
				}
				if m := meanFinite(vals); !math.IsNaN(m) {
					perSeed = append(perSeed, m)
				}
			}
			if len(perSeed) == 0 {
				continue
			}
			x := (a + z) / 2
			mn, mx := perSeed[0], perSeed[0]
			for _, v := range perSeed {
				mn, mx = math.Min(mn, v), math.Max(mx, v)
			}
			mean = append(mean, plotter.XY{X: x, Y: meanFinite(perSeed)})
			lo = append(lo, plotter.XY{X: x, Y: mn})
			hi = append(hi, plotter.XY{X: x, Y: mx})
		}
		if len(mean) == 0 {
			continue
		}
		col := plotutil.Color(i)
		band := append(plotter.XYs{}, lo...)
		for k := len(hi) - 1; k >= 0; k-- {
			band = append(band, hi[k])
		}
		if poly, err := plotter.NewPolygon(band); err == nil && len(mean) > 1 {
			r, g, b, _ := col.RGBA()
			poly.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 70}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		l, err := plotter.NewLine(mean)
		if err != nil {
			return Plot{}, false, err
		}
		l.Color = col
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%s)", pol.Name, plural(len(runs), "seed")), l)
		any = true
	}
	if !any {
		return Plot{}, false, nil
	}
	p.Add(plotter.NewGrid())
	base := filepath.Join(dir, "reward_curves")
	return Plot{Title: "Training reward curves", File: "reward_curves"}, true, saveOne(p, 16*vg.Centimeter, 10*vg.Centimeter, base)
}

// replicaPlot: ready replicas (supply) against demand over the test window, one row of panels
// per policy and one column per seed, so that no seed is hidden.
func (r *Results) replicaPlot(dir, trace string) (Plot, bool, error) {
	pols := r.Config.Policies
	seeds := r.Config.Seeds
	grid := seedGrid(len(pols), len(seeds))
	any := false
	var missing []string
	for i, pol := range pols {
		for j, seed := range seeds {
			t, err := experiments.ReadTable(r.cellFile(trace, pol.Name, seed, experiments.SplitTest, "timeline.csv"))
			var ready []float64
			if err == nil {
				ready = supplyColumn(t)
			}
			if err != nil || t.Columns["time_s"] == nil || ready == nil || t.Columns["demand"] == nil {
				missing = append(missing, fmt.Sprintf("%s seed %d", pol.Name, seed))
				continue
			}
			ts, demand := t.Columns["time_s"], t.Columns["demand"]
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s, seed %d", pol.Name, seed)
			p.X.Label.Text = "time in test window (h)"
			p.Y.Label.Text = "replicas"
			d, s := make(plotter.XYs, len(ts)), make(plotter.XYs, len(ts))
			ymax := 0.0
			for k := range ts {
				d[k] = plotter.XY{X: ts[k] / 3600, Y: demand[k]}
				s[k] = plotter.XY{X: ts[k] / 3600, Y: ready[k]}
				ymax = math.Max(ymax, math.Max(demand[k], ready[k]))
			}
			ld, _ := plotter.NewLine(d)
			ld.Color = demandColor
			ld.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
			ls, _ := plotter.NewLine(s)
			ls.Color = plotutil.Color(i)
			ls.Width = vg.Points(1.2)
			p.Add(plotter.NewGrid(), ld, ls)
			if i == 0 && j == 0 {
				p.Legend.Add("demand (needed)", ld)
				p.Legend.Add("ready replicas (supply)", ls)
				p.Legend.Top = true
			}
			p.Y.Min, p.Y.Max = 0, math.Ceil(ymax*1.3+1)
			grid[i][j] = p
			any = true
		}
	}
	if !any {
		return Plot{}, false, nil
	}
	name := "replicas_" + trace
	return Plot{Title: fmt.Sprintf("Replicas against demand, trace %s, test window, every seed", trace), File: name, Note: missingPanels(missing)}, true,
		saveTiles(grid, vg.Length(len(seeds))*9*vg.Centimeter, vg.Length(len(pols))*5*vg.Centimeter, filepath.Join(dir, name))
}

// supplyColumn is the replica count a replica plot draws against demand: supply,
// the interval's time-weighted Ready count that the elasticity figures compare with
// demand, or ready, the count at the interval's end, in a timeline written before
// supply was; nil when neither is there.
func supplyColumn(t *experiments.Table) []float64 {
	if s := t.Columns["supply"]; s != nil {
		return s
	}
	return t.Columns["ready"]
}

// missingPanels says which panels of a plot of every seed are empty because their
// cell's timeline.csv is missing or unreadable ("" when none is).
func missingPanels(missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("Empty panels: %s (the test cell's timeline.csv is missing or unreadable; run the experiment again to recompute a cell that was removed).", strings.Join(missing, ", "))
}

// seedGrid is an empty grid of rows x cols panels.
func seedGrid(rows, cols int) [][]*plot.Plot {
	g := make([][]*plot.Plot, rows)
	for i := range g {
		g[i] = make([]*plot.Plot, cols)
	}
	return g
}

// latencyPlot: p95 response time per control interval against the SLO, one row of
// panels per policy and one column per seed.
func (r *Results) latencyPlot(dir, trace string) (Plot, bool, error) {
	pols := r.Config.Policies
	seeds := r.Config.Seeds
	slo := r.sloLatency()
	grid := seedGrid(len(pols), len(seeds))
	any := false
	ymin, ymax := math.Inf(1), slo
	var missing []string
	for i, pol := range pols {
		for j, seed := range seeds {
			t, err := experiments.ReadTable(r.cellFile(trace, pol.Name, seed, experiments.SplitTest, "timeline.csv"))
			if err != nil || t.Columns["time_s"] == nil || t.Columns["p95_s"] == nil {
				missing = append(missing, fmt.Sprintf("%s seed %d", pol.Name, seed))
				continue
			}
			ts, p95 := t.Columns["time_s"], t.Columns["p95_s"]
			var xy plotter.XYs
			for k := range ts {
				if p95[k] > 0 && !math.IsNaN(p95[k]) {
					xy = append(xy, plotter.XY{X: ts[k] / 3600, Y: p95[k]})
					ymin, ymax = math.Min(ymin, p95[k]), math.Max(ymax, p95[k])
				}
			}
			if len(xy) == 0 {
				continue
			}
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s, seed %d", pol.Name, seed)
			p.X.Label.Text = "time in test window (h)"
			p.Y.Label.Text = "p95 latency (s, log)"
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = decadeTicks{}
			l, _ := plotter.NewLine(xy)
			l.Color = plotutil.Color(i)
			sl, _ := plotter.NewLine(plotter.XYs{{X: xy[0].X, Y: slo}, {X: xy[len(xy)-1].X, Y: slo}})
			sl.Color = sloColor
			sl.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
			p.Add(plotter.NewGrid(), l, sl)
			if i == 0 && j == 0 {
				p.Legend.Add("p95 per interval", l)
				p.Legend.Add(fmt.Sprintf("SLO %.3g s", slo), sl)
				p.Legend.Top = true
			}
			grid[i][j] = p
			any = true
		}
	}
	if !any {
		return Plot{}, false, nil
	}
	for _, row := range grid {
		for _, p := range row {
			if p != nil {
				p.Y.Min, p.Y.Max = ymin/1.5, ymax*4
			}
		}
	}
	name := "p95_" + trace
	return Plot{Title: fmt.Sprintf("p95 latency against the SLO, trace %s, test window, every seed", trace), File: name, Note: missingPanels(missing)}, true,
		saveTiles(grid, vg.Length(len(seeds))*9*vg.Centimeter, vg.Length(len(pols))*5*vg.Centimeter, filepath.Join(dir, name))
}

// frontierPlot: every family's cost against SLO violations on the test windows, each
// variant at its mean over seeds (of the mean over traces), the family's points joined
// along its envelope, and the matched SLO levels as vertical lines.
func (r *Results) frontierPlot(dir string) (Plot, bool, error) {
	p := plot.New()
	p.Title.Text = "Cost-against-SLO frontiers, test windows (mean over seeds)"
	p.X.Label.Text = "SLO violations (% of requests, log)"
	p.Y.Label.Text = "cost (" + r.costUnit() + ", mean over traces)"
	const floor = 0.01 // percent: where 0 violations are drawn on the log axis
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	any := false
	for i, fam := range r.Families() {
		var pts []FrontierPoint
		for _, v := range fam {
			c := r.Figure(v.Spec.Name, experiments.SplitTest, "cost").Mean
			vi := r.Figure(v.Spec.Name, experiments.SplitTest, "slo_violations").Mean
			if math.IsNaN(c) || math.IsNaN(vi) {
				continue
			}
			pts = append(pts, FrontierPoint{Variant: v.Spec.Name, Violations: math.Max(vi, floor), Cost: c})
		}
		if len(pts) == 0 {
			continue
		}
		any = true
		var xy, exy plotter.XYs
		for _, pt := range pts {
			xy = append(xy, plotter.XY{X: pt.Violations, Y: pt.Cost})
			xmin, xmax = math.Min(xmin, pt.Violations), math.Max(xmax, pt.Violations)
			ymin, ymax = math.Min(ymin, pt.Cost), math.Max(ymax, pt.Cost)
		}
		for _, pt := range Envelope(pts) {
			exy = append(exy, plotter.XY{X: pt.Violations, Y: pt.Cost})
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return Plot{}, false, err
		}
		sc.GlyphStyle.Color = plotutil.Color(i)
		sc.GlyphStyle.Shape = plotutil.Shape(i)
		sc.GlyphStyle.Radius = vg.Points(3)
		p.Add(sc)
		if len(exy) > 1 {
			l, _ := plotter.NewLine(exy)
			l.Color = plotutil.Color(i)
			p.Add(l)
			p.Legend.Add(fam[0].Family, l, sc)
		} else {
			p.Legend.Add(fam[0].Family, sc)
		}
	}
	if !any {
		return Plot{}, false, nil
	}
	xlo, xhi := math.Min(xmin, 0.5)/1.5, math.Max(xmax, 5)*1.5
	for _, L := range r.SLOLevels() {
		l, _ := plotter.NewLine(plotter.XYs{{X: L, Y: ymin * 0.95}, {X: L, Y: ymax * 1.05}})
		l.Color = sloColor
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
	}
	p.Add(plotter.NewGrid())
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = decadeTicks{}
	p.X.Min, p.X.Max = xlo, xhi
	p.Y.Min, p.Y.Max = ymin*0.95, ymax*1.05
	p.Legend.Top = true
	return Plot{Title: "Cost-against-SLO frontiers (dashed: the matched SLO levels)", File: "frontier"}, true,
		saveOne(p, 20*vg.Centimeter, 14*vg.Centimeter, filepath.Join(dir, "frontier"))
}

type labelledXYs struct {
	plotter.XYs
	labels []string
}

func (l labelledXYs) Label(i int) string { return l.labels[i] }

type errXYs struct {
	plotter.XYs
	xe, ye [][2]float64 // (low, high) distances
}

func (e errXYs) XError(i int) (float64, float64) { return e.xe[i][0], e.xe[i][1] }
func (e errXYs) YError(i int) (float64, float64) { return e.ye[i][0], e.ye[i][1] }

// paretoPlot: mean cost against mean SLO violations on the test windows per policy.
// The axes span the means (SLO violations on a log scale); confidence intervals
// reaching beyond them are cut at the edge. A policy without violations, which a log
// scale cannot place, is drawn at the bottom of the axis and labelled "(0%)".
func (r *Results) paretoPlot(dir string) (Plot, bool, error) {
	p := plot.New()
	p.Title.Text = "Cost against SLO violations, test windows (mean ± 95% CI)"
	p.X.Label.Text = "cost (" + r.costUnit() + ", mean over traces)"
	p.Y.Label.Text = "SLO violations (% of requests, log)"
	budget := 100 * (1 - sloTarget(r.Config))
	type point struct {
		name string
		i    int
		c, v Stat
		y    float64 // where the point is drawn
	}
	var pts []point
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	if budget > 0 {
		ymin, ymax = budget, budget
	}
	for i, pol := range r.Config.Policies {
		c := r.Figure(pol.Name, experiments.SplitTest, "cost")
		v := r.Figure(pol.Name, experiments.SplitTest, "slo_violations")
		if math.IsNaN(c.Mean) || !(v.Mean >= 0) {
			continue
		}
		pts = append(pts, point{pol.Name, i, c, v, v.Mean})
		xmin, xmax = math.Min(xmin, c.Mean), math.Max(xmax, c.Mean)
		if v.Mean > 0 {
			ymin, ymax = math.Min(ymin, v.Mean), math.Max(ymax, v.Mean)
		}
	}
	if len(pts) == 0 {
		return Plot{}, false, nil
	}
	if math.IsInf(ymin, 0) { // no violations anywhere and no budget
		ymin, ymax = 1, 1
	}
	pad := 0.15 * (xmax - xmin)
	if pad == 0 {
		pad = 0.1*math.Abs(xmax) + 1
	}
	xlo, xhi := xmin-pad, xmax+2*pad
	ylo, yhi := ymin/2, ymax*2
	var all errXYs
	var names []string
	for _, pt := range pts {
		name := pt.name
		if pt.y == 0 {
			pt.y = ylo * 1.3
			name += " (0%)"
		}
		xy := plotter.XYs{{X: pt.c.Mean, Y: pt.y}}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return Plot{}, false, err
		}
		sc.GlyphStyle.Color = plotutil.Color(pt.i)
		sc.GlyphStyle.Shape = plotutil.Shape(pt.i)
		sc.GlyphStyle.Radius = vg.Points(4)
		p.Add(sc) // labelled in place: no legend entry
		cx, cy := zeroNaN(pt.c.CI), zeroNaN(pt.v.CI)
		all.XYs = append(all.XYs, xy[0])
		all.xe = append(all.xe, [2]float64{math.Min(cx, pt.c.Mean-xlo), math.Min(cx, xhi-pt.c.Mean)})
		all.ye = append(all.ye, [2]float64{math.Max(0, math.Min(cy, pt.y-ylo*1.001)), math.Min(cy, yhi-pt.y)})
		names = append(names, name)
	}
	xe, _ := plotter.NewXErrorBars(all)
	ye, _ := plotter.NewYErrorBars(all)
	lab, _ := plotter.NewLabels(labelledXYs{all.XYs, names})
	for i := range lab.TextStyle {
		lab.TextStyle[i].Font.Size = vg.Points(8)
	}
	lab.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(3)}
	p.Add(plotter.NewGrid(), xe, ye, lab)
	if budget > 0 {
		bl, _ := plotter.NewLine(plotter.XYs{{X: xlo, Y: budget}, {X: xhi, Y: budget}})
		bl.Color = sloColor
		bl.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(bl)
		p.Legend.Add(fmt.Sprintf("SLO budget %.3g%%", budget), bl)
	}
	p.Legend.Top = true
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = decadeTicks{}
	p.X.Min, p.X.Max = xlo, xhi
	p.Y.Min, p.Y.Max = ylo, yhi
	return Plot{Title: "Cost against SLO violations (Pareto view)", File: "pareto"}, true,
		saveOne(p, 18*vg.Centimeter, 12*vg.Centimeter, filepath.Join(dir, "pareto"))
}

func zeroNaN(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

func sloTarget(cfg *experiments.Config) float64 {
	if t := cfg.Sim.SLO.Target; t > 0 {
		return t
	}
	return 0.95
}

// cdfPlot: response-time CDF per policy on the first trace's test window, first seed.
func (r *Results) cdfPlot(dir string) (Plot, bool, error) {
	trace := r.Config.Traces[0].Name
	seed := r.Config.Seeds[0]
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Response-time CDF, trace %s, test window, seed %d", trace, seed)
	p.X.Label.Text = "response time (s, log)"
	p.Y.Label.Text = "share of completed requests"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = decadeTicks{}
	p.Legend.Left = false
	p.Legend.Top = false
	xmin, xmax := math.Inf(1), r.sloLatency()
	any := false
	for i, pol := range r.Config.Policies {
		t, err := experiments.ReadTable(r.cellFile(trace, pol.Name, seed, experiments.SplitTest, "latency_cdf.csv"))
		if err != nil || t.Len == 0 {
			continue
		}
		var xy plotter.XYs
		for k, x := range t.Columns["seconds"] {
			if x > 0 && t.Columns["fraction"][k] >= 0.001 {
				xy = append(xy, plotter.XY{X: x, Y: t.Columns["fraction"][k]})
				xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			}
		}
		sort.Slice(xy, func(a, b int) bool { return xy[a].X < xy[b].X })
		if len(xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return Plot{}, false, err
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i % 3)
		l.Width = vg.Points(1.3)
		p.Add(l)
		p.Legend.Add(pol.Name, l)
		any = true
	}
	if !any {
		return Plot{}, false, nil
	}
	slo := r.sloLatency()
	sl, _ := plotter.NewLine(plotter.XYs{{X: slo, Y: 0}, {X: slo, Y: 1}})
	sl.Color = sloColor
	sl.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	p.Add(sl, plotter.NewGrid())
	p.Legend.Add(fmt.Sprintf("SLO %.3g s", slo), sl)
	p.X.Min, p.X.Max = xmin/1.2, xmax*1.2
	p.Y.Min, p.Y.Max = 0, 1.02
	return Plot{Title: "Latency CDF", File: "latency_cdf"}, true, saveOne(p, 18*vg.Centimeter, 11*vg.Centimeter, filepath.Join(dir, "latency_cdf"))
}

// decadeTicks labels powers of ten (and marks 2x and 5x) on a log axis.
type decadeTicks struct{}

// Ticks implements plot.Ticker.
func (decadeTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	few := max/min < 200 // label 2x and 5x too when the axis spans few decades
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		d := math.Pow(10, e)
		for _, m := range []float64{1, 2, 5} {
			v := m * d
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || few {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			out = append(out, t)
		}
	}
	return out
}
