package promtest

import (
	"strings"
	"testing"
)

func TestSamples(t *testing.T) {
	page := "# HELP x help\n# TYPE x counter\nx 3\ny{le=\"0.5\",a=\"b c\"} 1.5e2\nbroken\nz NaNish\n\n"
	got := Samples(strings.NewReader(page))
	if len(got) != 2 || got["x"] != 3 || got[`y{le="0.5",a="b c"}`] != 150 {
		t.Errorf("Samples = %v", got)
	}
}
