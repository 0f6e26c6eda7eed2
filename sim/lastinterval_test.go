package sim

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// A trace that does not end at a control interval's end gives a shorter last row,
// which the summary weights by its length: here 5 s of a 25 s run.
func TestRunShorterLastInterval(t *testing.T) {
	rates := make([]float64, 25)
	for i := 20; i < 25; i++ {
		rates[i] = 300 // far beyond one replica's 40 requests/s
	}
	tr := &traces.Trace{Name: "late-burst", Bucket: time.Second, Rates: rates}
	cfg := Config{Seed: 3, ControlInterval: 10 * time.Second, ScrapeInterval: 5 * time.Second}
	res, err := Run(cfg, tr, AutoscalerFunc(func(Observation) int { return 1 }))
	if err != nil {
		t.Fatal(err)
	}
	tl := res.Timeline
	if len(tl) != 3 || tl[2].Time != 25*time.Second {
		t.Fatalf("timeline %d rows ending at %v, want 3 ending at 25s", len(tl), tl[len(tl)-1].Time)
	}
	for i, r := range tl {
		if wantUnder := i == 2; (r.Supply < r.Demand) != wantUnder {
			t.Fatalf("row %d: supply %d, demand %d: want under-provisioned only in the last row", i, r.Supply, r.Demand)
		}
	}
	s := res.Summary
	if s.TauU != 20 || s.UnderProvisionSeconds != 5 || s.TimeToMeetDemand != 5 {
		t.Errorf("tau_U %v%%, under-provisioned episode %v s, time to meet demand %v s; want 20%%, 5 s, 5 s (the last interval lasts 5 s)",
			s.TauU, s.UnderProvisionSeconds, s.TimeToMeetDemand)
	}
}

// The timeline CSV carries s_t, the supply the elasticity figures use, so that they
// can be recomputed from the file.
func TestTimelineCSVHasSupply(t *testing.T) {
	var buf bytes.Buffer
	rows := []Row{{Time: 15 * time.Second, Ready: 3, Supply: 2}, {Time: 30 * time.Second, Ready: 3, Supply: 3}}
	if err := WriteTimelineCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range recs[0] {
		if h == "supply" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("header %v: no supply column", recs[0])
	}
	for i, r := range rows {
		if got := recs[i+1][col]; got != strconv.Itoa(r.Supply) {
			t.Errorf("row %d: supply %q, want %d", i, got, r.Supply)
		}
	}
}
