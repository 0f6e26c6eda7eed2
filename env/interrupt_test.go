package env

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// Sim.Interrupt stops the environment inside a step and inside the warmup: Step
// ends the episode marked interrupted, Reset returns a zero observation of the
// right shape, both at once.
func TestAutoscaleInterrupt(t *testing.T) {
	huge := &traces.Trace{Name: "huge", Bucket: time.Hour, Rates: []float64{10, 1e6, 1e6}}
	var stop atomic.Bool
	cfg := testConfig(huge)
	cfg.Warmup = -1
	cfg.Sim.ControlInterval = time.Hour
	cfg.Sim.Interrupt = stop.Load
	a, err := NewAutoscale(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.ResetWindow(huge, 0, 0, 1, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, _, trunc, info := a.Step(3); trunc || info.Extra["interrupted"] != 0 {
		t.Fatalf("first hour (10 requests/s): truncated %v, extra %v", trunc, info.Extra)
	}
	go func() { time.Sleep(50 * time.Millisecond); stop.Store(true) }()
	_, r, _, trunc, info := a.Step(3) // an hour at 1e6 requests/s
	if !trunc || info.Extra["interrupted"] != 1 || r != 0 {
		t.Fatalf("interrupted step: reward %v, truncated %v, extra %v", r, trunc, info.Extra)
	}

	cfg.Warmup = 2 * time.Hour
	cfg.EpisodeLength = time.Hour
	cfg.Sim.ControlInterval = 0
	a, err = NewAutoscale(cfg)
	if err != nil {
		t.Fatal(err)
	}
	obs, _ := a.Reset(1)
	if len(obs) != len(a.Config().Features.Features) {
		t.Fatalf("Reset during an interrupt: %d observations, want %d", len(obs), len(a.Config().Features.Features))
	}
}
