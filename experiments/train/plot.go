package train

import (
	"bufio"
	"bytes"
	"fmt"
	"image/color"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/intelliscale/intelliscale/agents/policy"
)

// readCurve reads (step, episode_return) from progress.csv, skipping rows without a
// return.
func readCurve(path string) (plotter.XYs, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var xys plotter.XYs
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			continue
		}
		fs := strings.Split(sc.Text(), ",")
		if len(fs) < 2 || fs[1] == "" {
			continue
		}
		x, err1 := strconv.ParseFloat(fs[0], 64)
		y, err2 := strconv.ParseFloat(fs[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s line %d: bad step or return", path, line)
		}
		xys = append(xys, plotter.XY{X: x, Y: y})
	}
	return xys, sc.Err()
}

// plotRewardCurve draws the mean episode return against environment steps, raw and
// smoothed over a trailing window of 10 points, into a PNG at out.
func plotRewardCurve(progressCSV, out, title string) error {
	xys, err := readCurve(progressCSV)
	if err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "environment steps"
	p.Y.Label.Text = "mean episode return"
	p.Add(plotter.NewGrid())
	if len(xys) > 0 {
		raw, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		raw.Color = color.RGBA{R: 160, G: 190, B: 230, A: 255}
		smooth := make(plotter.XYs, len(xys))
		sum := 0.0
		for i := range xys {
			sum += xys[i].Y
			if i >= 10 {
				sum -= xys[i-10].Y
			}
			smooth[i] = plotter.XY{X: xys[i].X, Y: sum / float64(min(i+1, 10))}
		}
		sm, err := plotter.NewLine(smooth)
		if err != nil {
			return err
		}
		sm.Color = color.RGBA{R: 20, G: 60, B: 160, A: 255}
		sm.Width = vg.Points(2)
		p.Add(raw, sm)
		p.Legend.Add("per update / episode", raw)
		p.Legend.Add("mean of last 10", sm)
		p.Legend.Top = true
		p.Legend.Left = false
	}
	w, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return err
	}
	return policy.WriteFileAtomic(out, buf.Bytes())
}
