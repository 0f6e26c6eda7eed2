package workload

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

func TestScheduleRatesAndCompression(t *testing.T) {
	tr := &traces.Trace{Bucket: time.Minute, Rates: []float64{2, 0, 10}}
	rng := rand.New(rand.NewPCG(1, 2))
	const c = 6.0
	var n [3]float64
	const reps = 40
	for k := 0; k < reps; k++ {
		s, err := Schedule(tr, c, 1, 0, 0, rng)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range s {
			if d < 0 || d >= 30*time.Second || (i > 0 && d < s[i-1]) {
				t.Fatalf("arrival %d at %v: outside the compressed 30s or out of order", i, d)
			}
			n[int(d/(10*time.Second))]++
		}
	}
	// Bucket i lasts 10 s of wall time and receives rate*60 requests on average.
	for i, want := range []float64{120, 0, 600} {
		got := n[i] / reps
		if math.Abs(got-want) > 4*math.Sqrt(want/reps)+1e-9 {
			t.Errorf("bucket %d: %.1f arrivals per replay, want %v", i, got, want)
		}
	}
	a, _ := Schedule(tr, c, 1, 0, 0, rand.New(rand.NewPCG(9, 9)))
	b, _ := Schedule(tr, c, 1, 0, 0, rand.New(rand.NewPCG(9, 9)))
	if len(a) != len(b) || a[len(a)-1] != b[len(b)-1] {
		t.Error("same seed, different schedule")
	}
	if s, _ := Schedule(tr, c, 1, 50, 0, rng); len(s) != 50 {
		t.Errorf("max count: %d arrivals, want 50", len(s))
	}
	if s, _ := Schedule(tr, c, 1, 0, 5*time.Second, rng); len(s) == 0 || s[len(s)-1] >= 5*time.Second {
		t.Errorf("max duration not honoured")
	}
	if _, err := Schedule(tr, 0, 1, 0, 0, rng); err == nil {
		t.Error("compression 0 accepted")
	}
}

// replayClock records the offsets at which requests were released.
type replayClock struct {
	mu     sync.Mutex
	now    time.Time
	wakeup []time.Duration
}

func (c *replayClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *replayClock) SleepUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	c.wakeup = append(c.wakeup, t.Sub(time.Unix(0, 0)))
	return ctx.Err()
}

func TestReplayPacingAndCounts(t *testing.T) {
	clock := &replayClock{now: time.Unix(0, 0)}
	sched := []time.Duration{0, 100 * time.Millisecond, 250 * time.Millisecond, time.Second}
	var mu sync.Mutex
	codes := []int{200, 503, 504, 200}
	i := 0
	rep := Replay(context.Background(), sched, 0, clock, func(context.Context) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		c := codes[i]
		i++
		return c, nil
	})
	if rep.Sent != 4 || rep.OK != 2 || rep.Rejected != 1 || rep.TimedOut != 1 || rep.Elapsed != time.Second {
		t.Errorf("report %+v", rep)
	}
	for k, d := range clock.wakeup {
		if d != sched[k] {
			t.Errorf("request %d sent at %v, want %v (open loop, on schedule)", k, d, sched[k])
		}
	}
	// With one request outstanding allowed and answers never coming back in time, the
	// later arrivals are skipped, not delayed.
	block := make(chan struct{})
	clock2 := &replayClock{now: time.Unix(0, 0)}
	done := make(chan LoadReport)
	go func() {
		done <- Replay(context.Background(), sched, 1, clock2, func(context.Context) (int, error) { <-block; return 200, nil })
	}()
	for clock2.Now().Sub(time.Unix(0, 0)) < time.Second {
		time.Sleep(time.Millisecond)
	}
	close(block)
	rep = <-done
	if rep.Sent != 1 || rep.Skipped != 3 || rep.OK != 1 {
		t.Errorf("bounded in-flight: report %+v, want 1 sent, 3 skipped", rep)
	}
}
