package workload

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// Replays whose arrival times cannot be drawn are refused: a compression that makes a
// bucket last under a millisecond (the replay was empty, or every arrival fell at
// the bucket's start), a wall rate above traces.MaxRate, negative limits (they meant
// no limit), and an unbounded schedule too large to hold (it exhausted memory).
func TestScheduleRefusesWhatCannotBeReplayed(t *testing.T) {
	tr := &traces.Trace{Bucket: time.Minute, Rates: []float64{10, 20}}
	week := &traces.Trace{Bucket: time.Hour, Rates: make([]float64, 168)}
	for i := range week.Rates {
		week.Rates[i] = 900000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name            string
		tr              *traces.Trace
		compression, sc float64
		maxN            int
		maxDur          time.Duration
		want            string
	}{
		{"overflowing compression", tr, 1e300, 1e300, 100, 0, "would last 0s of wall time, under 1ms"},
		{"huge compression", tr, 1e12, 1, 100, 0, "under 1ms"},
		{"wall rate", tr, 1, 1e6, 100, 0, "a peak of 2e+07 requests per wall second, above the limit"},
		{"negative count", tr, 1, 1, -1, 0, "--max-requests -1"},
		{"negative duration", tr, 1, 1, 0, -time.Second, "--max-duration -1s"},
		{"unbounded", week, 1, 1, 0, 0, "set --max-requests"},
	} {
		s, err := Schedule(tc.tr, tc.compression, tc.sc, tc.maxN, tc.maxDur, rng)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %d arrivals, err %v; want %q", tc.name, len(s), err, tc.want)
		}
	}
	// The same week is fine with a count bound, and stops at it.
	if s, err := Schedule(week, 1, 1, 1000, 0, rng); err != nil || len(s) != 1000 {
		t.Errorf("bounded week: %d arrivals, %v", len(s), err)
	}
}

// Span is the wall time the replay covers: the compressed trace, cut by maxDur, or up
// to the last arrival when the count bound stopped the schedule.
func TestSpan(t *testing.T) {
	tr := &traces.Trace{Bucket: time.Minute, Rates: []float64{10, 20}}
	sched := []time.Duration{time.Second, 2 * time.Second}
	for _, tc := range []struct {
		maxN   int
		maxDur time.Duration
		want   time.Duration
	}{
		{0, 0, 20 * time.Second},
		{0, 5 * time.Second, 5 * time.Second},
		{2, 0, 2 * time.Second},
		{3, 0, 20 * time.Second},
	} {
		if got := Span(tr, sched, 6, tc.maxN, tc.maxDur); got != tc.want {
			t.Errorf("Span(maxN %d, maxDur %v) = %v, want %v", tc.maxN, tc.maxDur, got, tc.want)
		}
	}
}

// The report keeps the first error, so that a target that answers nothing says why.
func TestReplayReportsTheFirstError(t *testing.T) {
	clock := &replayClock{now: time.Unix(0, 0)}
	sched := []time.Duration{0, time.Millisecond}
	refused := errors.New("connection refused")
	rep := Replay(context.Background(), sched, 0, clock, func(context.Context) (int, error) { return 0, refused })
	if rep.Errors != 2 || !errors.Is(rep.FirstError, refused) || !strings.Contains(rep.String(), `first_error="connection refused"`) {
		t.Errorf("report %+v (%s): want 2 errors and the first one", rep, rep)
	}
}
