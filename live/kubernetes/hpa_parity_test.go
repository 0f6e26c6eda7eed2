package kubernetes

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/internal/repo"
	"github.com/intelliscale/intelliscale/sim"
)

// upstreamSync is one sync of the upstream HPA controller, as deploy/k8s/tools/kube/
// hpaparity recorded it.
type upstreamSync struct {
	scenario                     string
	line                         int
	at, window                   time.Duration
	slots, min, max              int
	busy                         float64
	ready, provisioning, current int
	cpuPercent, upstream         int
}

func readUpstream(t *testing.T, path string) []upstreamSync {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want := []string{"scenario", "sync", "time_s", "interval_s", "slots", "min", "max", "rate", "busy_slots", "ready", "provisioning", "current", "cpu_percent", "upstream"}
	if len(recs) < 2 || fmt.Sprint(recs[0]) != fmt.Sprint(want) {
		t.Fatalf("%s: header %v, want %v and rows", path, recs[0], want)
	}
	var out []upstreamSync
	for i, r := range recs[1:] {
		line := i + 2
		num := func(col int) float64 {
			v, err := strconv.ParseFloat(r[col], 64)
			if err != nil {
				t.Fatalf("%s line %d: %s %q: %v", path, line, want[col], r[col], err)
			}
			return v
		}
		s := upstreamSync{scenario: r[0], line: line,
			at: time.Duration(num(2) * float64(time.Second)), window: time.Duration(num(3) * float64(time.Second)),
			slots: int(num(4)), min: int(num(5)), max: int(num(6)), busy: num(8),
			ready: int(num(9)), provisioning: int(num(10)), current: int(num(11)), cpuPercent: int(num(12)), upstream: int(num(13))}
		if s.upstream < 0 {
			t.Fatalf("%s line %d: no upstream decision recorded", path, line)
		}
		out = append(out, s)
	}
	return out
}

// TestHPAParity runs the hpa policy (agents.DefaultHPAParams) over the syncs that the
// upstream HPA controller (k8s.io/kubernetes/pkg/controller/podautoscaler, v1.34) saw
// on the agents scenario suite's traffic shapes, and compares the decisions one by one.
// The upstream decisions are recorded in deploy/k8s/hpa-parity/upstream.csv (make
// hpa-parity re-runs the upstream controller and this test).
//
// Every decision must agree: the hpa policy reads the utilisation as the upstream's
// whole percent, truncated (metrics.GetResourceUtilizationRatio), and tests the
// tolerance as its Tolerances.isWithin does.
func TestHPAParity(t *testing.T) {
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	path := envOr("HPA_PARITY_CSV", filepath.Join(root, "deploy", "k8s", "hpa-parity", "upstream.csv"))
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no upstream record %s: make hpa-parity writes one", path)
	}
	rows := readUpstream(t, path)
	type tally struct{ n, agree int }
	per := map[string]*tally{}
	var order []string
	var ours *agents.HPA
	params := agents.DefaultHPAParams()
	total := tally{}
	for i, s := range rows {
		if i == 0 || rows[i-1].scenario != s.scenario {
			ours = agents.NewHPA(params)
			per[s.scenario] = &tally{}
			order = append(order, s.scenario)
		}
		obs := sim.Observation{Time: s.at, Window: s.window, Ready: s.ready, Provisioning: s.provisioning,
			Desired: s.current, Slots: s.slots, MinReplicas: s.min, MaxReplicas: s.max, BusySlots: s.busy}
		if s.ready > 0 {
			obs.Utilisation = s.busy / float64(s.ready*s.slots)
		}
		got := ours.Decide(obs)
		c := per[s.scenario]
		c.n++
		if got == s.upstream {
			c.agree++
		} else {
			t.Errorf("%s line %d (%s, t=%v, ready %d, provisioning %d, current %d, utilisation %.2f%%, upstream read %d%%): hpa decides %d, upstream %d",
				path, s.line, s.scenario, s.at, s.ready, s.provisioning, s.current, 100*obs.Utilisation, s.cpuPercent, got, s.upstream)
		}
	}
	for _, name := range order {
		c := per[name]
		total.n += c.n
		total.agree += c.agree
		t.Logf("%-8s %3d of %3d decisions agree", name, c.agree, c.n)
	}
	if total.n == 0 {
		t.Fatal("no syncs recorded")
	}
	fmt.Printf("hpa parity: %d of %d decisions agree with the upstream HPA controller\n", total.agree, total.n)
}
