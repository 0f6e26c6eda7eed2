package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// TestTrainCropKeepsTheClockOfTheFile: a training config's trace from a file without
// timestamps cropped at 19h trains and validates on windows that start at midnight
// plus 19h (and the validation part's offset), as an experiment's and sim --start's
// do; a whole-day crop leaves the trace without a start.
func TestTrainCropKeepsTheClockOfTheFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("seconds,rate\n")
	for m := range 2 * 24 * 60 {
		fmt.Fprintf(&b, "%d,%d\n", 60*m, 20+m%7)
	}
	file := filepath.Join(t.TempDir(), "offsets.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		start time.Duration
		want  time.Time
	}{{19 * time.Hour, Epoch(nil, 19*time.Hour)}, {24 * time.Hour, time.Time{}}} {
		cfg := tinyConfig(DQN)
		cfg.Traces = []traces.Source{{File: file, Start: c.start, Length: 12 * time.Hour}}
		cfg.Selection = SelectionConfig{Every: 500}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Resolve(); err != nil {
			t.Fatal(err)
		}
		if got := cfg.Env.Traces[0].Start; !got.Equal(c.want) {
			t.Errorf("crop at %v: training trace starts %v, want %v", c.start, got, c.want)
		}
		v := cfg.Validation[0]
		if got := v.Whole.Start; !got.Equal(c.want) {
			t.Errorf("crop at %v: validation's whole trace starts %v, want %v", c.start, got, c.want)
		}
	}
}
