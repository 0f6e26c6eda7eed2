package sim

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// busy is a config under stress: small queues, short timeouts and drain grace, so
// every kind of drop happens.
func busyConfig(seed uint64) Config {
	return Config{
		Seed: seed, Concurrency: 2, QueueCapacity: new(5), Timeout: 800 * time.Millisecond,
		DrainGrace: 2 * time.Second, MinReplicas: new(1), MaxReplicas: 8, InitialReplicas: 2,
		ServiceTime:  Dist{Kind: LogNormal, Mean: 0.2, CV: 1.5},
		StartupDelay: Dist{Kind: Exponential, Mean: 20},
		Balancer:     Random,
	}
}

func wavyTrace() *traces.Trace {
	tr := &traces.Trace{Name: "wavy", Bucket: 30 * time.Second}
	for i := range 120 {
		tr.Rates = append(tr.Rates, 30+25*math.Sin(float64(i)/8))
	}
	tr.Rates[50], tr.Rates[51] = 0, 0
	return tr
}

type scrapeLog struct{ s []Scrape }

func (l *scrapeLog) Record(s *Scrape) { l.s = append(l.s, *s) }

// TestConservation: arrived = completed + dropped + in flight after every step, the
// rows add up to the totals, and the scraped counters agree and never decrease.
func TestConservation(t *testing.T) {
	s, err := New(busyConfig(11), wavyTrace())
	if err != nil {
		t.Fatal(err)
	}
	log := &scrapeLog{}
	s.SetRecorder(log)
	r := rand.New(rand.NewPCG(5, 5))
	var sum Totals
	var timedOut, rejected bool
	for {
		obs, done := s.Step(1 + r.IntN(8))
		tot := s.Totals()
		if tot.Arrived != tot.Completed+tot.Dropped+tot.InFlight {
			t.Fatalf("t=%v: arrived %d != completed %d + dropped %d + in flight %d", obs.Time, tot.Arrived, tot.Completed, tot.Dropped, tot.InFlight)
		}
		if tot.Dropped != tot.Rejected+tot.TimedOut {
			t.Fatalf("t=%v: dropped %d != rejected %d + timed out %d", obs.Time, tot.Dropped, tot.Rejected, tot.TimedOut)
		}
		if obs.Queued > obs.InFlight || obs.InFlight < 0 || obs.Queued < 0 {
			t.Fatalf("t=%v: queued %d, in flight %d", obs.Time, obs.Queued, obs.InFlight)
		}
		if obs.Utilisation < 0 || obs.Utilisation > 1 {
			t.Fatalf("t=%v: utilisation %v outside [0, 1]", obs.Time, obs.Utilisation)
		}
		sum.Arrived += int64(obs.Arrivals)
		sum.Completed += int64(obs.Completed)
		sum.Dropped += int64(obs.Dropped)
		timedOut = timedOut || tot.TimedOut > 0
		rejected = rejected || tot.Rejected > 0
		if done {
			break
		}
	}
	tot := s.Totals()
	if sum.Arrived != tot.Arrived || sum.Completed != tot.Completed || sum.Dropped != tot.Dropped {
		t.Errorf("window sums %+v differ from totals %+v", sum, tot)
	}
	if !timedOut || !rejected {
		t.Errorf("scenario should exercise both drop codes: timed out %v, rejected %v", timedOut, rejected)
	}
	if want := int(s.endT / s.scrapeEvery); len(log.s) != want {
		t.Fatalf("%d scrapes, want %d", len(log.s), want)
	}
	for i, sc := range log.s {
		if sc.Time != time.Duration(i+1)*s.cfg.ScrapeInterval {
			t.Fatalf("scrape %d at %v", i, sc.Time)
		}
		if sc.DurationCount != sc.RequestsOK {
			t.Fatalf("scrape %d: duration count %v != ok requests %v", i, sc.DurationCount, sc.RequestsOK)
		}
		for j := 1; j < len(sc.DurationBuckets); j++ {
			if sc.DurationBuckets[j] < sc.DurationBuckets[j-1] || sc.DurationBuckets[j] > sc.DurationCount {
				t.Fatalf("scrape %d: buckets not cumulative: %v", i, sc.DurationBuckets)
			}
		}
		if i > 0 {
			p := log.s[i-1]
			if sc.RequestsOK < p.RequestsOK || sc.RequestsRejected < p.RequestsRejected ||
				sc.RequestsTimedOut < p.RequestsTimedOut || sc.BusySeconds < p.BusySeconds || sc.DurationSum < p.DurationSum {
				t.Fatalf("scrape %d: a counter decreased", i)
			}
		}
	}
	last := log.s[len(log.s)-1]
	if last.RequestsOK != float64(tot.Completed) || last.RequestsRejected+last.RequestsTimedOut != float64(tot.Dropped) {
		t.Errorf("last scrape %+v disagrees with totals %+v", last, tot)
	}
}

func timelineBytes(t *testing.T, seed uint64) []byte {
	t.Helper()
	s, err := New(busyConfig(seed), wavyTrace())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var rows []Row
	for {
		_, done := s.Step(1 + r.IntN(8))
		rows = append(rows, s.row)
		if done {
			break
		}
	}
	var b bytes.Buffer
	if err := WriteTimelineCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeterminism(t *testing.T) {
	a, b, c := timelineBytes(t, 42), timelineBytes(t, 42), timelineBytes(t, 43)
	if !bytes.Equal(a, b) {
		t.Errorf("same seed gave different timelines")
	}
	if bytes.Equal(a, c) {
		t.Errorf("different seeds gave identical timelines")
	}
	if n := bytes.Count(a, []byte("\n")); n != 1+int(wavyTrace().Duration()/(15*time.Second)) {
		t.Errorf("timeline has %d lines", n)
	}
}

// TestStartupDelay: replicas requested at 15 s with a 40 s start-up delay are
// Provisioning until 55 s and serve nothing before then, then take work.
func TestStartupDelay(t *testing.T) {
	cfg := Config{
		Seed: 1, MinReplicas: new(1), MaxReplicas: 5, Concurrency: 1, QueueCapacity: new(1000),
		StartupDelay: Dist{Kind: Constant, Mean: 40},
	}
	s, err := New(cfg, flat(30, 3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	obs, _ := s.Step(1) // [0, 15 s)
	if obs.Ready != 1 || obs.Provisioning != 0 {
		t.Fatalf("t=15s: ready %d provisioning %d", obs.Ready, obs.Provisioning)
	}
	want := []struct{ ready, prov int }{{1, 2}, {1, 2}, {3, 0}, {3, 0}} // ends 30, 45, 60, 75 s
	for i, w := range want {
		obs, _ = s.Step(3)
		if obs.Ready != w.ready || obs.Provisioning != w.prov {
			t.Fatalf("t=%v: ready %d provisioning %d, want %d %d", obs.Time, obs.Ready, obs.Provisioning, w.ready, w.prov)
		}
		if i == 0 && obs.Utilisation < 0.99 {
			t.Fatalf("t=%v: the one ready replica should be saturated, utilisation %v", obs.Time, obs.Utilisation)
		}
	}
	for r := 1; r <= 2; r++ {
		rep := s.reps[r]
		if rep.requestedAt != int64(15*time.Second) || rep.readyAt != int64(55*time.Second) {
			t.Errorf("replica %d: requested %v ready %v", r, time.Duration(rep.requestedAt), time.Duration(rep.readyAt))
		}
		if rep.firstServe < rep.readyAt || rep.served == 0 {
			t.Errorf("replica %d: first served at %v, ready at %v, served %d", r, time.Duration(rep.firstServe), time.Duration(rep.readyAt), rep.served)
		}
	}
}

// TestDrain: drained replicas get no new requests, finish what they hold and go
// Gone; the least-loaded Ready replicas are chosen, highest index on ties.
func TestDrain(t *testing.T) {
	cfg := Config{
		Seed: 2, MinReplicas: new(1), MaxReplicas: 4, InitialReplicas: 3, Concurrency: 1,
		QueueCapacity: new(1000), ServiceTime: Dist{Kind: Constant, Mean: 1}, DrainGrace: time.Hour,
	}
	// Exact arrivals: 3 at t=0 (one per replica by least-outstanding), then 2 more
	// at t=0.5 s that go to replicas 0 and 1.
	tr := &traces.Trace{Name: "burst", Bucket: 10 * time.Second, Rates: []float64{1, 1, 1},
		Arrivals: []time.Duration{0, 0, 0, 500 * time.Millisecond, 500 * time.Millisecond, 12 * time.Second, 13 * time.Second}}
	s, err := New(cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	s.runUntil(int64(700 * time.Millisecond))
	for r, want := range []int64{2, 2, 1} {
		if s.reps[r].assigned != want {
			t.Fatalf("replica %d assigned %d, want %d", r, s.reps[r].assigned, want)
		}
	}
	// Outstanding now: 2, 2, 1. Draining two: replica 2 (fewest), then replica 1
	// (tie with 0, higher index).
	s.scale(1)
	if s.reps[0].state != stateReady || s.reps[1].state != stateDraining || s.reps[2].state != stateDraining {
		t.Fatalf("states %d %d %d, want ready, draining, draining", s.reps[0].state, s.reps[1].state, s.reps[2].state)
	}
	s.runUntil(int64(1500 * time.Millisecond))
	if s.reps[2].state != stateGone || s.reps[1].state != stateDraining {
		t.Fatalf("after 1.5 s: replica 2 state %d (want gone), replica 1 state %d (want draining)", s.reps[2].state, s.reps[1].state)
	}
	s.runUntil(int64(25 * time.Second))
	tot := s.Totals()
	if s.reps[1].state != stateGone || s.reps[1].assigned != 2 || tot.Dropped != 0 || tot.Completed != 7 {
		t.Fatalf("replica 1 state %d assigned %d; dropped %d completed %d", s.reps[1].state, s.reps[1].assigned, tot.Dropped, tot.Completed)
	}
	if s.reps[0].assigned != 4 {
		t.Errorf("replica 0 assigned %d, want 4 (the late arrivals)", s.reps[0].assigned)
	}
	// Replica 1 existed until 2 s, replica 2 until 1 s, replica 0 all 25 s.
	if got, want := tot.ReplicaSeconds, 25.0+2+1; math.Abs(got-want) > 1e-9 {
		t.Errorf("replica-seconds %v, want %v", got, want)
	}
}

// TestDrainExpiry: requests still held when the grace period ends are dropped (503).
func TestDrainExpiry(t *testing.T) {
	cfg := Config{
		Seed: 2, MinReplicas: new(1), MaxReplicas: 2, InitialReplicas: 2, Concurrency: 1,
		ServiceTime: Dist{Kind: Constant, Mean: 10}, DrainGrace: 5 * time.Second, Timeout: time.Hour,
	}
	tr := &traces.Trace{Name: "burst", Bucket: time.Minute, Rates: []float64{1},
		Arrivals: []time.Duration{0, 0, 0, 0}}
	s, err := New(cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	s.runUntil(0) // two in service, one queued on each replica
	s.scale(1)    // replica 1 (tie, higher index) drains with 2 requests
	s.runUntil(int64(6 * time.Second))
	tot := s.Totals()
	if tot.Rejected != 2 || tot.InFlight != 2 || s.reps[1].state != stateGone {
		t.Fatalf("rejected %d in flight %d replica 1 state %d; want 2, 2, gone", tot.Rejected, tot.InFlight, s.reps[1].state)
	}
	s.runUntil(int64(30 * time.Second)) // the stale completion event of replica 1 comes up
	tot = s.Totals()
	if tot.Completed != 2 || tot.Dropped != 2 || tot.InFlight != 0 || len(s.free) != len(s.reqs) {
		t.Fatalf("completed %d dropped %d in flight %d; %d of %d requests free", tot.Completed, tot.Dropped, tot.InFlight, len(s.free), len(s.reqs))
	}
}

// TestTimeoutAndOverflow checks the drop rules on a hand-worked case: one replica,
// one slot, service 0.5 s, timeout 1.2 s, queue of 3, five arrivals at t=0.
func TestTimeoutAndOverflow(t *testing.T) {
	cfg := Config{
		Seed: 1, Concurrency: 1, QueueCapacity: new(3), Timeout: 1200 * time.Millisecond,
		ServiceTime: Dist{Kind: Constant, Mean: 0.5},
	}
	tr := &traces.Trace{Name: "five", Bucket: 15 * time.Second, Rates: []float64{1},
		Arrivals: make([]time.Duration, 5)}
	s, err := New(cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(s, 1)
	tot := s.Totals()
	// #1 serves [0, 0.5); #2 [0.5, 1.0); #3 starts at 1.0 but would end at 1.5 > 1.2:
	// timed out at 1.2; #4 starts at 1.2 (waited exactly the timeout), times out at
	// once; #5 found the queue full.
	if tot.Completed != 2 || tot.TimedOut != 2 || tot.Rejected != 1 || tot.InFlight != 0 {
		t.Fatalf("completed %d timed out %d rejected %d in flight %d; want 2 2 1 0", tot.Completed, tot.TimedOut, tot.Rejected, tot.InFlight)
	}
	if got := tot.ResponseSeconds; math.Abs(got-1.5) > 1e-9 {
		t.Errorf("response seconds %v, want 0.5 + 1.0", got)
	}
	if got := tot.BusySeconds; math.Abs(got-1.2) > 1e-9 {
		t.Errorf("busy seconds %v, want 1.2", got)
	}
}

// TestCost: cost accrues from the request for a replica until it is Gone.
func TestCost(t *testing.T) {
	cases := []struct {
		name    string
		plan    []int // desired per step, last repeated
		initial int
		want    float64 // replica-hours over the 2 h trace
	}{
		{"fixed 3", []int{3}, 3, 6},
		{"scale up at 0", []int{2}, 1, 4},
		{"cancel provisioning at 15 s", []int{2, 1}, 1, 2 + 15.0/3600},
		{"drain idle at 15 s", []int{1}, 2, 2 + 15.0/3600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{
				MinReplicas: new(1), MaxReplicas: 5, InitialReplicas: tc.initial, CostPerReplicaHour: 0.5,
				StartupDelay: Dist{Kind: Constant, Mean: 60},
			}
			s, err := New(cfg, flat(0, 2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			cost := 0.0
			if tc.name == "drain idle at 15 s" {
				s.Step(tc.initial)
				cost += s.row.Cost
			}
			for i := 0; ; i++ {
				_, done := s.Step(tc.plan[min(i, len(tc.plan)-1)])
				cost += s.row.Cost
				if done {
					break
				}
			}
			want := tc.want * 0.5
			if got := s.Totals().Cost; math.Abs(got-want) > 1e-9 {
				t.Errorf("total cost %v, want %v", got, want)
			}
			if math.Abs(cost-want) > 1e-9 {
				t.Errorf("sum of row costs %v, want %v", cost, want)
			}
		})
	}
}

func TestBalancers(t *testing.T) {
	newSim := func(b string) *Sim {
		s, err := New(Config{Balancer: b, MinReplicas: new(3), MaxReplicas: 3, Seed: 9}, flat(1, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("least-outstanding", func(t *testing.T) {
		s := newSim(LeastOutstanding)
		cases := []struct {
			busy, qlen [3]int32
			want       int32
		}{
			{[3]int32{1, 0, 0}, [3]int32{0, 0, 0}, 1},
			{[3]int32{4, 4, 4}, [3]int32{2, 1, 1}, 1},
			{[3]int32{0, 0, 0}, [3]int32{0, 0, 0}, 0},
			{[3]int32{3, 2, 1}, [3]int32{0, 0, 0}, 2},
		}
		for _, tc := range cases {
			for r := range 3 {
				s.reps[r].busy, s.reps[r].qlen = tc.busy[r], tc.qlen[r]
			}
			if got := s.pick(); got != tc.want {
				t.Errorf("busy %v queued %v: picked %d, want %d", tc.busy, tc.qlen, got, tc.want)
			}
		}
	})
	t.Run("round-robin", func(t *testing.T) {
		s := newSim(RoundRobin)
		var got []int32
		for range 7 {
			got = append(got, s.pick())
		}
		want := []int32{0, 1, 2, 0, 1, 2, 0}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("picks %v, want %v", got, want)
			}
		}
	})
	t.Run("random", func(t *testing.T) {
		s := newSim(Random)
		var n [3]int
		const draws = 30000
		for range draws {
			n[s.pick()]++
		}
		for r, c := range n {
			if math.Abs(float64(c)-draws/3) > 5*math.Sqrt(draws*2.0/9) {
				t.Errorf("replica %d picked %d of %d times", r, c, draws)
			}
		}
	})
}

// TestIdleTrace: a long trace of rate 0 runs without arrivals or events and ends.
func TestIdleTrace(t *testing.T) {
	tr := &traces.Trace{Name: "idle", Bucket: time.Second, Rates: make([]float64, 2*86400)}
	s, err := New(Config{}, tr)
	if err != nil {
		t.Fatal(err)
	}
	rows := runSteps(s, 1)
	if len(rows) != 2*86400/15 || s.Totals().Events != 0 || !math.IsNaN(rows[0].P50) {
		t.Errorf("%d rows, %d events, p50 %v", len(rows), s.Totals().Events, rows[0].P50)
	}
}

// TestStepAllocs: a step in steady state allocates nothing.
func TestStepAllocs(t *testing.T) {
	cfg, rate := benchConfig()
	s, err := New(cfg, flat(rate, 100*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for range 40 {
		s.Step(10)
	}
	if a := testing.AllocsPerRun(20, func() { s.Step(10) }); a != 0 {
		t.Errorf("%v allocations per step, want 0", a)
	}
}

// TestPoissonRate: arrival counts follow a piecewise-constant rate, and exact
// arrivals are replayed one for one.
func TestPoissonRate(t *testing.T) {
	tr := &traces.Trace{Name: "pw", Bucket: 150 * time.Second, Rates: []float64{100, 0, 400, 50}}
	s, err := New(Config{MinReplicas: new(50), MaxReplicas: 50, Seed: 4}, tr)
	if err != nil {
		t.Fatal(err)
	}
	rows := runSteps(s, 50)
	for b, rate := range tr.Rates {
		n := 0
		for _, r := range rows[b*10 : (b+1)*10] {
			n += r.Arrivals
		}
		want := rate * 150
		if math.Abs(float64(n)-want) > 5*math.Sqrt(want)+1e-9 {
			t.Errorf("bucket %d: %d arrivals, want %v ± 5σ", b, n, want)
		}
	}
	tr2 := &traces.Trace{Name: "exact", Bucket: time.Minute, Rates: []float64{0},
		Arrivals: []time.Duration{time.Second, 2 * time.Second, 16 * time.Second, 59 * time.Second}}
	s, err = New(Config{}, tr2)
	if err != nil {
		t.Fatal(err)
	}
	rows = runSteps(s, 1)
	got := []int{rows[0].Arrivals, rows[1].Arrivals, rows[2].Arrivals, rows[3].Arrivals}
	if got[0] != 2 || got[1] != 1 || got[2] != 0 || got[3] != 1 {
		t.Errorf("arrivals per window %v, want [2 1 0 1]", got)
	}
}
