package sim

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// A huge step (1e12 requests/s for an hour in one control interval) stops within
// InterruptEvery events of the interrupt asking, and the run fails with
// ErrInterrupted instead of returning a partial result.
func TestInterruptInsideOneStep(t *testing.T) {
	tr := &traces.Trace{Name: "huge", Bucket: time.Hour, Rates: []float64{1e12}}
	cfg := Config{ControlInterval: time.Hour}
	polls := 0
	cfg.Interrupt = func() bool { polls++; return polls > 3 }
	s, err := New(cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, done := s.Step(50); !done {
		t.Fatal("Step after an interrupt: done = false")
	}
	if !errors.Is(s.Err(), ErrInterrupted) {
		t.Fatalf("Err() = %v, want ErrInterrupted", s.Err())
	}
	// Polled at the step's start, then every InterruptEvery events: the fourth
	// poll stops it.
	if got, want := s.Totals().Events, int64(3*InterruptEvery); got != want {
		t.Fatalf("%d events processed before stopping, want %d", got, want)
	}
	before := s.Totals()
	if _, done := s.Step(1); !done || s.Totals() != before {
		t.Fatal("Step after an interruption changed the simulator")
	}

	polls = 0
	res, err := Run(cfg, tr, staticScaler(10))
	if !errors.Is(err, ErrInterrupted) || res != nil {
		t.Fatalf("Run: %v, %v; want ErrInterrupted and no result", res, err)
	}
}

// Many scrapes and no events in one step are interruptible too.
func TestInterruptBetweenScrapes(t *testing.T) {
	tr := &traces.Trace{Name: "idle", Bucket: time.Hour, Rates: []float64{0}}
	polls := 0
	cfg := Config{ControlInterval: time.Hour, ScrapeInterval: MinInterval,
		Interrupt: func() bool { polls++; return polls > 2 }}
	s, err := New(cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	s.SetRecorder(&scrapeLog{})
	if _, done := s.Step(1); !done || !errors.Is(s.Err(), ErrInterrupted) {
		t.Fatalf("Step: done %v, Err %v", done, s.Err())
	}
	if s.Now() >= time.Hour {
		t.Fatalf("clock at %v: the step ran to its end", s.Now())
	}
}

// An interrupt that never fires changes nothing: the same bytes as without one.
func TestInterruptNeverFiringKeepsBytes(t *testing.T) {
	run := func(cfg Config) []byte {
		res, err := Run(cfg, wavyTrace(), &threshold{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteTimelineCSV(&b, res.Timeline); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	cfg := busyConfig(3)
	plain := run(cfg)
	polls := 0
	cfg.Interrupt = func() bool { polls++; return false }
	if !bytes.Equal(plain, run(cfg)) {
		t.Fatal("a never-firing interrupt changed the timeline")
	}
	if polls == 0 {
		t.Fatal("interrupt never polled")
	}
}

type staticScaler int

func (n staticScaler) Decide(Observation) int { return int(n) }
