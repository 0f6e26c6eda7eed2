package experiments

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows cells done and an estimate of the time left: a redrawn bar on a
// terminal, one plain line per cell otherwise. Wall-clock time is used only here,
// for display; no result depends on it.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	total int
	n     int
	start time.Time
	last  time.Time
	// Paces are kept apart for evaluation cells (key true) and tuning/training cells
	// (false), which take far longer: time between completions, cells done and left.
	spent map[bool]time.Duration
	count map[bool]int
	left  map[bool]int
}

func newProgress(w io.Writer, cells []Cell) *progress {
	now := time.Now()
	p := &progress{w: w, total: len(cells), start: now, last: now,
		spent: map[bool]time.Duration{}, count: map[bool]int{}, left: map[bool]int{}}
	for _, c := range cells {
		p.left[c.Phase == PhaseEval]++
	}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) done(c Cell) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	ev := c.Phase == PhaseEval
	p.spent[ev] += now.Sub(p.last)
	p.last = now
	p.count[ev]++
	p.left[ev]--
	p.n++
	el := now.Sub(p.start)
	var eta time.Duration
	for _, k := range []bool{false, true} {
		pace := el / time.Duration(p.n)
		if p.count[k] > 0 {
			pace = p.spent[k] / time.Duration(p.count[k])
		}
		eta += pace * time.Duration(p.left[k])
	}
	eta = eta.Round(time.Second)
	if p.tty {
		const width = 30
		k := width * p.n / max(p.total, 1)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d cells  elapsed %v  left ~%v   ", strings.Repeat("=", k), strings.Repeat(" ", width-k), p.n, p.total, el.Round(time.Second), eta)
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %s (left ~%v)\n", p.n, p.total, c.Dir(), eta)
}

func (p *progress) finish() {
	if p == nil || p.w == nil || !p.tty || p.n == 0 {
		return
	}
	fmt.Fprintln(p.w)
}
