package calibrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// simRun simulates tr under a fixed replica count and keeps its scrapes.
func simRun(t *testing.T, tr *traces.Trace, replicas int) *features.Storage {
	t.Helper()
	cfg := sim.Config{Seed: 3, ScrapeInterval: 15 * time.Second, MinReplicas: new(replicas), MaxReplicas: replicas,
		ServiceTime: sim.Dist{Kind: sim.LogNormal, Mean: 0.1, CV: 0.5}}
	st := features.NewStorage(epoch)
	a := fixed(replicas)
	if _, err := sim.RunRecorded(cfg, tr, a, st); err != nil {
		t.Fatal(err)
	}
	return st
}

type fixed int

func (f fixed) Decide(sim.Observation) int { return int(f) }

func dumpOf(t *testing.T, st *features.Storage) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := features.WriteOpenMetrics(&buf, st.Scrapes, st.Epoch); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportTraceFromRun: the default rate query over a simulated run gives back the
// trace it replayed (up to Poisson noise), from the run's storage and from its
// OpenMetrics dump alike.
func TestImportTraceFromRun(t *testing.T) {
	rates := make([]float64, 120)
	for i := range rates {
		rates[i] = 20 + 15*math.Sin(float64(i)/10)
	}
	tr := &traces.Trace{Name: "wave", Bucket: time.Minute, Rates: rates, Start: epoch}
	st := simRun(t, tr, 4)
	d, err := ParseDump("run.om", dumpOf(t, st))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var got [2]*traces.Trace
	for i, q := range []Querier{NewEngineQuerier("run", st), NewEngineQuerier("run.om", d)} {
		g, info, err := ImportTrace(ctx, q, "imported", DefaultRateQuery(time.Minute), epoch, epoch.Add(tr.Duration()), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if info.Gaps != 0 || len(g.Rates) != len(rates) || !g.Start.Equal(epoch) {
			t.Fatalf("imported %d buckets from %v with %d gaps", len(g.Rates), g.Start, info.Gaps)
		}
		got[i] = g
	}
	var sumErr float64
	for i := range rates {
		if got[0].Rates[i] != got[1].Rates[i] {
			t.Fatalf("bucket %d: storage %v, dump %v: the dump must answer as the run", i, got[0].Rates[i], got[1].Rates[i])
		}
		sumErr += math.Abs(got[0].Rates[i]-rates[i]) / rates[i]
	}
	if m := sumErr / float64(len(rates)); m > 0.1 {
		t.Errorf("mean relative error per bucket %.3f: the imported trace does not follow the replayed one", m)
	}
	if tot, want := got[0].Total(), tr.Total(); math.Abs(tot-want)/want > 0.02 {
		t.Errorf("imported %0.f requests, replayed %.0f", tot, want)
	}
}

// TestImportGapsAndResets: a scrape gap longer than the rate window is a zero-filled
// gap, and a counter reset (a restarted replica) does not produce a negative or a
// huge rate.
func TestImportGapsAndResets(t *testing.T) {
	text := "# TYPE http_requests counter\n"
	n := 0
	for i := 0; i <= 40; i++ {
		if i >= 10 && i < 18 { // 8 minutes without scrapes
			continue
		}
		v := float64(600 * i) // 10 req/s
		if i >= 25 {
			v = float64(600 * (i - 25)) // the counter restarts from 0
		}
		text += fmt.Sprintf("http_requests_total{code=\"200\"} %g %d\n", v, epoch.Unix()+int64(60*i))
		n++
	}
	text += "# EOF\n"
	d, err := ParseDump("gappy.om", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	q := NewEngineQuerier("gappy.om", d)
	tr, info, err := ImportTrace(context.Background(), q, "gappy", `sum(rate(http_requests_total[2m]))`, epoch, epoch.Add(40*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if info.Gaps < 5 {
		t.Errorf("%d gaps, want the 8-minute hole to show (rates %v)", info.Gaps, tr.Rates)
	}
	for i, r := range tr.Rates {
		// Bucket i is the 2-minute window ending at minute i+1. Windows clear of the
		// series start, the hole and the restart at minute 25 see the true 10 req/s;
		// the others see less (requests before the first sample or during the hole
		// are unknown), never a negative or inflated rate.
		end := i + 1
		clear := end >= 2 && (end < 10 || end >= 20) && (end < 25 || end >= 27)
		if clear && math.Abs(r-10) > 1e-9 {
			t.Errorf("bucket %d: rate %v, want 10", i, r)
		}
		if r < 0 || r > 10+1e-9 {
			t.Errorf("bucket %d: rate %v outside [0, 10]: reset or gap mishandled", i, r)
		}
	}
	if tr.Rates[13] != 0 {
		t.Errorf("bucket 13 in the hole: rate %v, want 0", tr.Rates[13])
	}
}

// TestImportErrors: the clear errors of the file loaders, for queries.
func TestImportErrors(t *testing.T) {
	tr := &traces.Trace{Name: "flat", Bucket: time.Minute, Rates: []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, Start: epoch}
	q := NewEngineQuerier("run", simRun(t, tr, 1))
	ctx := context.Background()
	end := epoch.Add(10 * time.Minute)
	for _, c := range []struct{ expr, want string }{
		{`sum(rate(no_such_metric[1m]))`, "empty result"},
		{`rate(http_requests_total[1m])`, "3 series where one was expected"},
		{`sum(rate(http_requests_total[1m])) / 0`, "must be finite"},
		{`-sum(rate(http_requests_total[1m]))`, "must be finite and >= 0"},
		{`sum(rate(http_requests_total[1m]`, "parse error"},
	} {
		_, _, err := ImportTrace(ctx, q, "t", c.expr, epoch, end, time.Minute)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.expr, err, c.want)
		}
	}
	pq, err := NewPromQuerier("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ImportTrace(ctx, pq, "t", DefaultRateQuery(time.Minute), epoch, end, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("unreachable server: got %v", err)
	}
	for _, c := range []struct{ text, want string }{
		{"http_requests_total 1\n", "no timestamp"},
		{"# TYPE x counter\nx_total +Inf 1000\n# EOF\n", "must be finite"},
		{"x 1 2000\nx 2 1000\n", "not after the previous sample"},
		{"", "no samples"},
		{"x{ 1 1000\n", "d.txt line 1: "},
	} {
		_, err := ParseDump("d.txt", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "d.txt") {
			t.Errorf("dump %q: got %v, want an error naming d.txt and containing %q", c.text, err, c.want)
		}
	}
	if _, err := ParseDump("e.txt", nil); !errors.Is(err, traces.ErrEmpty) {
		t.Errorf("empty dump: %v, want traces.ErrEmpty", err)
	}
}

// fakePrometheus answers /api/v1/query_range with the promql engine over q, as a
// Prometheus server would, refusing more than 11,000 points as Prometheus does.
func fakePrometheus(t *testing.T, q *EngineQuerier) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/api/v1/query_range" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		num := func(k string) float64 { f, _ := strconv.ParseFloat(r.Form.Get(k), 64); return f }
		start, end, step := num("start"), num("end"), num("step")
		toTime := func(s float64) time.Time { return time.UnixMilli(int64(math.Round(s * 1000))) }
		if (end-start)/step > 11000 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries"}`)
			return
		}
		ss, err := q.QueryRange(r.Context(), r.Form.Get("query"), toTime(start), toTime(end), time.Duration(step*float64(time.Second)))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": "bad_data", "error": err.Error()})
			return
		}
		type res struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		}
		var out []res
		for _, s := range ss {
			rr := res{Metric: s.Labels}
			for _, p := range s.Samples {
				rr.Values = append(rr.Values, [2]any{float64(p.T.UnixMilli()) / 1000, strconv.FormatFloat(p.V, 'g', -1, 64)})
			}
			out = append(out, rr)
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": out}})
	}))
}

// TestPromQuerierMatchesEngine: client_golang's API client against a server
// answering with the engine gives the engine's answers, also for a range longer
// than one request may ask for.
func TestPromQuerierMatchesEngine(t *testing.T) {
	rates := make([]float64, 240)
	for i := range rates {
		rates[i] = 10 + float64(i%30)
	}
	tr := &traces.Trace{Name: "saw", Bucket: time.Minute, Rates: rates, Start: epoch}
	eq := NewEngineQuerier("run", simRun(t, tr, 3))
	srv := fakePrometheus(t, eq)
	defer srv.Close()
	pq, err := NewPromQuerier(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	end := epoch.Add(tr.Duration())
	step := time.Second // 14,400 points: two requests
	expr := `sum(rate(http_requests_total[1m]))`
	want, err := eq.QueryRange(ctx, expr, epoch.Add(time.Minute), end, step)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pq.QueryRange(ctx, expr, epoch.Add(time.Minute), end, step)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Samples) != len(want[0].Samples) {
		t.Fatalf("got %d series, %d samples; want 1, %d", len(got), len(got[0].Samples), len(want[0].Samples))
	}
	for i, p := range got[0].Samples {
		if w := want[0].Samples[i]; !p.T.Equal(w.T) || p.V != w.V {
			t.Fatalf("sample %d: %v %v, want %v %v", i, p.T, p.V, w.T, w.V)
		}
	}
	fe, err := Calibrate(ctx, eq, Options{Start: epoch, End: end})
	if err != nil {
		t.Fatal(err)
	}
	fp, err := Calibrate(ctx, pq, Options{Start: epoch, End: end})
	if err != nil {
		t.Fatal(err)
	}
	if fe.MeanService != fp.MeanService || fe.Slots != fp.Slots || fe.Family.Kind != fp.Family.Kind {
		t.Errorf("calibrated through the client %+v, through the engine %+v", fp, fe)
	}
}
