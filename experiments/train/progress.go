package train

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// columns are progress.csv's columns: step, episode_return and episode_length (the
// means over the episodes that ended since the previous row, empty when none did),
// the algorithm's own columns (learner.Algorithm.Columns), with lagrangian.enabled
// slo_violation_share (the rollout's share of requests violating the SLO) and
// lagrange_multiplier (the SLO weight the next rollout trains with), and last
// steps_per_second, wall-clock, the only column that differs between two runs of
// the same configuration. A figure not available is left empty.
func (rs *runState) columns() []string {
	c := append([]string{"step", "episode_return", "episode_length"}, rs.cfg.algorithm().Columns...)
	if rs.cfg.Lagrangian.Enabled {
		c = append(c, "slo_violation_share", "lagrange_multiplier")
	}
	return append(c, "steps_per_second")
}

// row is one progress.csv row; NaN fields are written empty.
type row struct {
	step                         int
	episodeReturn, episodeLength float64
	values                       []float64 // the algorithm's columns
	loop                         []float64 // the training loop's (Lagrangian) columns
	stepsPerSecond               float64
}

func (r row) csv() string {
	f := func(v float64) string {
		if v != v {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	fields := []string{strconv.Itoa(r.step), f(r.episodeReturn), f(r.episodeLength)}
	for _, v := range r.values {
		fields = append(fields, f(v))
	}
	for _, v := range r.loop {
		fields = append(fields, f(v))
	}
	fields = append(fields, strconv.FormatFloat(r.stepsPerSecond, 'f', 1, 64))
	return strings.Join(fields, ",") + "\n"
}

// bar draws training progress on w: redrawn in place on a terminal, a line every
// tenth of the run otherwise; nothing when w is nil.
type bar struct {
	w        io.Writer
	tty      bool
	total    int
	lastTick int
	lastDraw time.Time
	ret      float64 // latest mean episode return
	sps      float64
	shown    int // the step of the last line written (not a terminal)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func newBar(w io.Writer, total, start int) *bar {
	return &bar{w: w, tty: isTerminal(w), total: total, lastTick: start * 10 / max(total, 1), ret: nan()}
}

func (b *bar) update(step int, ret, sps float64) {
	if b.w == nil {
		return
	}
	if ret == ret {
		b.ret = ret
	}
	if sps > 0 {
		b.sps = sps
	}
	if b.tty {
		now := time.Now()
		if now.Sub(b.lastDraw) < 100*time.Millisecond && step < b.total {
			return
		}
		b.lastDraw = now
		const width = 30
		frac := min(1, float64(step)/float64(max(b.total, 1)))
		n := int(frac * width)
		fmt.Fprintf(b.w, "\r[%s%s] %3.0f%% %d/%d steps  return %8s  %6.0f steps/s",
			strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac, step, b.total, fmtReturn(b.ret), b.sps)
		return
	}
	if tick := step * 10 / max(b.total, 1); tick > b.lastTick {
		b.lastTick = tick
		b.shown = step
		fmt.Fprintf(b.w, "step %d/%d (%d%%)  mean episode return %s  %.0f steps/s\n", step, b.total, min(100, tick*10), fmtReturn(b.ret), b.sps)
	}
}

// done ends the output. A run that finished at step (finished true) says so when
// its last line was of an earlier step: the rows, and with them the lines, come at
// update or episode ends, which need not fall on the last step, and PPO trains
// whole updates only, which may end short of the budget.
func (b *bar) done(step int, finished bool) {
	switch {
	case b.w == nil:
	case b.tty:
		fmt.Fprintln(b.w)
	case finished && b.shown != step:
		b.shown = step
		fmt.Fprintf(b.w, "step %d/%d (done)  mean episode return %s  %.0f steps/s\n", step, b.total, fmtReturn(b.ret), b.sps)
	}
}

func fmtReturn(r float64) string {
	if r != r {
		return "n/a"
	}
	return strconv.FormatFloat(r, 'g', 4, 64)
}
