package agents

// The shared policy scenario suite: every rule-based policy is run over every
// traffic shape in testdata/scenarios/*.txt, and its timeline is compared with the
// transcript written beneath its block. `go test ./agents -run TestScenarios
// -rewrite` regenerates the transcripts (and appends a block, with default
// parameters, for any registered policy a scenario lacks). The format is described
// at the top of every scenario file.
//
// Besides the transcripts, which pin behaviour down to the replica, a few properties
// are asserted on every run, independently of the files: the replica lifecycle
// honours each decision within [min, max]; static never scales; the oracle covers
// the trace's demand once its first decision can have taken effect; every adaptive
// policy catches up with a sustained rise and starts releasing replicas after a
// sustained fall within fixed bounds.

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected transcripts of testdata/scenarios/*.txt")

const scenarioDir = "testdata/scenarios"

// Bounds of the behavioural properties, for the default parameters of every policy
// at the scale of the scenarios (rates 20-150 req/s, up to 20 replicas, 30 s start-up,
// 15 s control interval).
const (
	// catchUpWithin: after a rise that is held at least this long, an adaptive
	// policy has Ready >= the trace's demand at some interval end within it. The
	// slowest default policy is threshold (step 1, 60 s up-cooldown): a rise of k
	// replicas takes it k-1 minutes plus one interval and the start-up delay, so
	// this holds for rises of up to 3 replicas, which the scenarios keep to.
	catchUpWithin = 3 * time.Minute
	// releaseWithin: after a fall that is held at least this long, an adaptive
	// policy has asked for fewer replicas than it had in force at the fall. HPA's
	// 300 s scale-down stabilisation and threshold's 300 s down-cooldown bound it.
	releaseWithin = 6 * time.Minute
)

// scenario is one parsed scenario file.
type scenario struct {
	path     string
	lines    []string // the file, line by line
	trace    *traces.Trace
	segments []segment // the trace as written
	even     bool      // arrivals=even: exact evenly spaced arrivals, else Poisson
	cfg      sim.Config
	blocks   []policyBlock
}

// segment is one rate line of the trace header: [from, to) at rate from..to.
type segment struct {
	from, to time.Duration
	r0, r1   float64 // rate at the start and end (equal unless a ramp)
}

// policyBlock is one `policy NAME [params]` block and its expected transcript.
type policyBlock struct {
	line   int // 1-based line of the policy header
	name   string
	params string   // inline YAML, "" for defaults
	sep    int      // index in lines of the "----" separator
	want   []string // transcript lines
}

func TestScenarios(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(scenarioDir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no scenario files in %s", scenarioDir)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			sc, err := parseScenario(path)
			if err != nil {
				t.Fatal(err)
			}
			runScenario(t, sc)
		})
	}
}

func runScenario(t *testing.T, sc *scenario) {
	have := map[string]bool{}
	got := make([][]string, len(sc.blocks))
	for i, b := range sc.blocks {
		have[b.name] = true
		t.Run(b.name, func(t *testing.T) {
			run, err := runBlock(sc, b)
			if err != nil {
				t.Fatalf("%s:%d: %v", sc.path, b.line, err)
			}
			checkProperties(t, sc, b, run)
			got[i] = run.transcript()
			if !*rewrite && !slices.Equal(got[i], b.want) {
				t.Errorf("%s:%d: policy %s: transcript differs (run with -rewrite to accept):\n%s",
					sc.path, b.line, b.name, diffLines(b.want, got[i]))
			}
		})
	}
	var missing []string
	for _, n := range Names() {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	if !*rewrite {
		if len(missing) > 0 {
			t.Errorf("%s: no block for registered policies %v (run with -rewrite to add them with default parameters)", sc.path, missing)
		}
		return
	}
	if err := sc.rewriteFile(got, missing); err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Logf("%s: added blocks for %v; run again to fill them in", sc.path, missing)
	}
}

// parseScenario reads and parses one scenario file.
func parseScenario(path string) (*scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSuffix(string(data), "\n")
	sc := &scenario{path: path, lines: strings.Split(text, "\n")}
	var bucket time.Duration
	sawTrace, sawSim := false, false
	for i := 0; i < len(sc.lines); i++ {
		line := strings.TrimSpace(sc.lines[i])
		where := fmt.Sprintf("%s:%d", path, i+1)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		switch {
		case word == "trace":
			if sawTrace {
				return nil, fmt.Errorf("%s: second trace line", where)
			}
			sawTrace = true
			kv, err := keyValues(rest)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			for k, v := range kv {
				switch k {
				case "bucket":
					if bucket, err = time.ParseDuration(v); err != nil || bucket <= 0 {
						return nil, fmt.Errorf("%s: bucket %q: must be a positive duration", where, v)
					}
				case "arrivals":
					if v != "poisson" && v != "even" {
						return nil, fmt.Errorf("%s: arrivals %q: must be poisson or even", where, v)
					}
					sc.even = v == "even"
				default:
					return nil, fmt.Errorf("%s: unknown trace key %q (known: bucket, arrivals)", where, k)
				}
			}
			if bucket == 0 {
				return nil, fmt.Errorf("%s: trace needs bucket=", where)
			}
		case line[0] >= '0' && line[0] <= '9':
			if !sawTrace || len(sc.blocks) > 0 {
				return nil, fmt.Errorf("%s: rate line outside the trace header", where)
			}
			seg, err := parseSegment(line)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			prev := time.Duration(0)
			if n := len(sc.segments); n > 0 {
				prev = sc.segments[n-1].to
			}
			if seg.from != prev {
				return nil, fmt.Errorf("%s: segment starts at %v, want %v (segments must be contiguous from 0)", where, seg.from, prev)
			}
			if seg.from%bucket != 0 || seg.to%bucket != 0 {
				return nil, fmt.Errorf("%s: segment %v-%v: bounds must be multiples of the bucket %v", where, seg.from, seg.to, bucket)
			}
			sc.segments = append(sc.segments, seg)
		case word == "sim":
			if sawSim {
				return nil, fmt.Errorf("%s: second sim line", where)
			}
			sawSim = true
			if sc.cfg, err = parseSim(rest); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		case word == "policy":
			name, params, _ := strings.Cut(strings.TrimSpace(rest), " ")
			if name == "" {
				return nil, fmt.Errorf("%s: policy needs a name", where)
			}
			b := policyBlock{line: i + 1, name: name, params: strings.TrimSpace(params), sep: i + 1}
			if b.sep >= len(sc.lines) || strings.TrimSpace(sc.lines[b.sep]) != "----" {
				return nil, fmt.Errorf("%s: policy line must be followed by a ---- line", where)
			}
			i = b.sep + 1
			for ; i < len(sc.lines) && strings.TrimSpace(sc.lines[i]) != ""; i++ {
				b.want = append(b.want, sc.lines[i])
			}
			sc.blocks = append(sc.blocks, b)
		default:
			return nil, fmt.Errorf("%s: unknown directive %q (want trace, a rate line, sim or policy)", where, word)
		}
	}
	switch {
	case !sawTrace || len(sc.segments) == 0:
		return nil, fmt.Errorf("%s: no trace (a trace line and rate lines)", path)
	case !sawSim:
		return nil, fmt.Errorf("%s: no sim line", path)
	}
	if err = sc.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sc.trace = buildTrace(filepath.Base(path), bucket, sc.segments, sc.even)
	return sc, nil
}

// keyValues splits "a=1 b=2" into a map, rejecting repeats and malformed pairs.
func keyValues(s string) (map[string]string, error) {
	kv := map[string]string{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q: want key=value", f)
		}
		if _, dup := kv[k]; dup {
			return nil, fmt.Errorf("%q: key given twice", k)
		}
		kv[k] = v
	}
	return kv, nil
}

// parseSegment parses "20m-40m rate=120" or "20m-30m rate=40..120".
func parseSegment(line string) (segment, error) {
	var s segment
	span, rest, _ := strings.Cut(line, " ")
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return s, fmt.Errorf("%q: want FROM-TO", span)
	}
	var err error
	if s.from, err = time.ParseDuration(a); err != nil {
		return s, fmt.Errorf("segment start: %w", err)
	}
	if s.to, err = time.ParseDuration(b); err != nil {
		return s, fmt.Errorf("segment end: %w", err)
	}
	if s.to <= s.from {
		return s, fmt.Errorf("segment %v-%v: end must be after start", s.from, s.to)
	}
	kv, err := keyValues(rest)
	if err != nil {
		return s, err
	}
	r, ok := kv["rate"]
	if !ok || len(kv) != 1 {
		return s, fmt.Errorf("%q: want exactly rate=R or rate=R0..R1", rest)
	}
	lo, hi, ramp := strings.Cut(r, "..")
	if s.r0, err = strconv.ParseFloat(lo, 64); err != nil || s.r0 < 0 || math.IsInf(s.r0, 0) {
		return s, fmt.Errorf("rate %q: must be a finite number >= 0", lo)
	}
	s.r1 = s.r0
	if ramp {
		if s.r1, err = strconv.ParseFloat(hi, 64); err != nil || s.r1 < 0 || math.IsInf(s.r1, 0) {
			return s, fmt.Errorf("rate %q: must be a finite number >= 0", hi)
		}
	}
	return s, nil
}

// parseSim parses the sim line's key=value pairs into a Config (not yet validated).
func parseSim(s string) (sim.Config, error) {
	var c sim.Config
	kv, err := keyValues(s)
	if err != nil {
		return c, err
	}
	dur := func(k, v string) (time.Duration, error) {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("sim %s %q: must be a positive duration", k, v)
		}
		return d, nil
	}
	for k, v := range kv {
		var d time.Duration
		var n int
		switch k {
		case "startup", "service", "interval":
			if d, err = dur(k, v); err != nil {
				return c, err
			}
		case "seed", "slots", "min", "max", "initial":
			if n, err = strconv.Atoi(v); err != nil || n < 0 {
				return c, fmt.Errorf("sim %s %q: must be an integer >= 0", k, v)
			}
		default:
			return c, fmt.Errorf("unknown sim key %q (known: seed, startup, service, interval, slots, min, max, initial)", k)
		}
		switch k {
		case "startup":
			c.StartupDelay = sim.Dist{Kind: sim.Constant, Mean: d.Seconds()}
		case "service":
			c.ServiceTime = sim.Dist{Kind: sim.Exponential, Mean: d.Seconds()}
		case "interval":
			c.ControlInterval = d
		case "seed":
			c.Seed = uint64(n)
		case "slots":
			c.Concurrency = n
		case "min":
			c.MinReplicas = new(n)
		case "max":
			c.MaxReplicas = n
		case "initial":
			c.InitialReplicas = n
		}
	}
	return c, nil
}

// buildTrace turns the segments into bucket rates (a ramp's bucket takes the rate at
// its midpoint) and, for even arrivals, exact arrival times: n = rate x bucket per
// bucket at offsets (k + 1/2) / rate, so every control window of a whole number of
// seconds at an integer rate holds exactly rate x window of them.
func buildTrace(name string, bucket time.Duration, segs []segment, even bool) *traces.Trace {
	tr := &traces.Trace{Name: name, Bucket: bucket}
	for _, s := range segs {
		n := int((s.to - s.from) / bucket)
		for k := range n {
			mid := (float64(k) + 0.5) / float64(n)
			tr.Rates = append(tr.Rates, s.r0+(s.r1-s.r0)*mid)
		}
	}
	if !even {
		return tr
	}
	tr.Arrivals = []time.Duration{}
	for i, r := range tr.Rates {
		start := time.Duration(i) * bucket
		n := int(math.Round(r * bucket.Seconds()))
		for k := range n {
			tr.Arrivals = append(tr.Arrivals, start+time.Duration((float64(k)+0.5)/r*float64(time.Second)))
		}
	}
	return tr
}

// probe wraps a policy and records every decision, and the panic state of policies
// that have one (KPA), after each.
type probe struct {
	a         sim.Autoscaler
	decisions []int
	panics    []bool
}

func (p *probe) Decide(obs sim.Observation) int {
	d := p.a.Decide(obs)
	p.decisions = append(p.decisions, d)
	if pp, ok := p.a.(interface{ InPanic() bool }); ok {
		p.panics = append(p.panics, pp.InPanic())
	}
	return d
}

// recordingProbe is a probe around a policy that records scrapes.
type recordingProbe struct{ *probe }

func (p recordingProbe) Record(sc *sim.Scrape) { p.a.(sim.Recorder).Record(sc) }

// scenarioRun is one policy's run over a scenario.
type scenarioRun struct {
	res *sim.Result
	p   *probe
}

func runBlock(sc *scenario, b policyBlock) (*scenarioRun, error) {
	var params *yaml.Node
	if b.params != "" {
		params = new(yaml.Node)
		if err := yaml.Unmarshal([]byte(b.params), params); err != nil {
			return nil, fmt.Errorf("policy %s params: %w", b.name, err)
		}
	}
	a, err := New(b.name, params, Context{Sim: sc.cfg, Trace: sc.trace})
	if err != nil {
		return nil, err
	}
	p := &probe{a: a}
	var wrapped sim.Autoscaler = p
	if _, ok := a.(sim.Recorder); ok {
		wrapped = recordingProbe{p}
	}
	res, err := sim.Run(sc.cfg, sc.trace, wrapped)
	if err != nil {
		return nil, err
	}
	return &scenarioRun{res: res, p: p}, nil
}

// transcript renders a run: one line per minute of simulated time with the
// per-interval columns of that minute (identical consecutive minutes merged into a
// range), then the summary.
func (r *scenarioRun) transcript() []string {
	rows := r.res.Timeline
	iv := r.res.Config.ControlInterval
	per := max(1, int(time.Minute/iv)) // intervals per line
	type minute struct {
		from, to   int // rows [from, to)
		arrivals   int
		violations int
		dropped    int
		cols       string // the per-interval columns, compared for merging
		steady     bool   // every interval of the minute alike
	}
	var ms []minute
	for from := 0; from < len(rows); from += per {
		to := min(from+per, len(rows))
		m := minute{from: from, to: to}
		var dem, rdy, prv, des, pan []string
		for i := from; i < to; i++ {
			row := rows[i]
			m.arrivals += row.Arrivals
			m.violations += row.SLOViolations
			m.dropped += row.Dropped
			dem = append(dem, strconv.Itoa(row.Demand))
			rdy = append(rdy, strconv.Itoa(row.Ready))
			prv = append(prv, strconv.Itoa(row.Provisioning))
			des = append(des, strconv.Itoa(row.Desired))
			if i+1 < len(r.p.panics) {
				pan = append(pan, map[bool]string{true: "P", false: "."}[r.p.panics[i+1]])
			}
		}
		m.steady = len(slices.Compact(slices.Clone(dem))) == 1 && len(slices.Compact(slices.Clone(rdy))) == 1 &&
			len(slices.Compact(slices.Clone(prv))) == 1 && len(slices.Compact(slices.Clone(des))) == 1 &&
			len(slices.Compact(slices.Clone(pan))) <= 1
		m.cols = fmt.Sprintf("demand %-*s  ready %-*s  prov %-*s  desired %-*s",
			3*per-1, strings.Join(dem, " "), 3*per-1, strings.Join(rdy, " "),
			3*per-1, strings.Join(prv, " "), 3*per-1, strings.Join(des, " "))
		if slices.Contains(pan, "P") {
			m.cols += "  panic " + strings.Join(pan, "")
		}
		if n := len(ms); n > 0 && m.steady && ms[n-1].steady && ms[n-1].cols == m.cols {
			last := &ms[n-1]
			last.to = m.to
			last.arrivals += m.arrivals
			last.violations += m.violations
			last.dropped += m.dropped
			continue
		}
		ms = append(ms, m)
	}
	var out []string
	for _, m := range ms {
		span := spanOf(rows[m.from].Time-iv, rows[m.to-1].Time)
		secs := rows[m.to-1].Time.Seconds()
		if m.from > 0 {
			secs -= rows[m.from-1].Time.Seconds()
		}
		rate := float64(m.arrivals) / secs
		pct := func(n int) float64 {
			if m.arrivals == 0 {
				return 0
			}
			return 100 * float64(n) / float64(m.arrivals)
		}
		out = append(out, strings.TrimRight(fmt.Sprintf("%-8s %5.1f/s  %s  viol %5.1f%%  drop %5.1f%%",
			span, rate, m.cols, pct(m.violations), pct(m.dropped)), " "))
	}
	s := r.res.Summary
	out = append(out, fmt.Sprintf("summary viol %.2f%% drop %.2f%% p95 %.3fs cost %.3f actions %d tauU %.1f%% tauO %.1f%% thetaU %.1f%% thetaO %.1f%%",
		s.SLOViolations, s.DropRate, s.P95, s.Cost, s.ScalingActions, s.TauU, s.TauO, s.ThetaU, s.ThetaO))
	return out
}

// spanOf renders [from, to) as "10m-11m" (whole minutes) or "10m30s-10m45s".
func spanOf(from, to time.Duration) string {
	f := func(d time.Duration) string {
		if d%time.Minute == 0 {
			return fmt.Sprintf("%dm", d/time.Minute)
		}
		return d.String()
	}
	return f(from) + "-" + f(to)
}

// rewriteFile writes the scenario back with got as the transcripts and a default
// block appended for each missing policy; through a temporary file and a rename.
func (sc *scenario) rewriteFile(got [][]string, missing []string) error {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	next := 0 // next line to copy
	for i, b := range sc.blocks {
		for _, l := range sc.lines[next : b.sep+1] {
			fmt.Fprintln(w, l)
		}
		for _, l := range got[i] {
			fmt.Fprintln(w, l)
		}
		next = b.sep + 1 + len(b.want)
	}
	for _, l := range sc.lines[next:] {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	out := append(bytes.TrimRight(buf.Bytes(), "\n"), '\n')
	for _, n := range missing {
		out = fmt.Appendf(out, "\npolicy %s\n----\n", n)
	}
	tmp := sc.path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, sc.path)
}

// diffLines shows the first differing lines of want and got.
func diffLines(want, got []string) string {
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(want), len(got)) && shown < 8; i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			fmt.Fprintf(&b, "  line %d\n    want: %s\n    got:  %s\n", i+1, w, g)
			shown++
		}
	}
	return b.String()
}

// traceDemand is the demand of the trace's mean rate over each row's interval.
func (sc *scenario) traceDemand(rows []sim.Row) []int {
	q := sc.cfg.QueueModel()
	iv := sc.cfg.ControlInterval
	out := make([]int, len(rows))
	for i, row := range rows {
		out[i] = elasticity.Demand(q, MeanRate(sc.trace, row.Time-iv, row.Time))
	}
	return out
}

// change is a sustained step of the trace's rate: at At the rate goes from one
// segment's to the next, and holds for Hold.
type change struct {
	at, hold time.Duration
	up       bool
	from, to float64       // rates before and after, req/s
	prevFrom time.Duration // start of the segment before the change
}

func (sc *scenario) changes() []change {
	var out []change
	for i := 1; i < len(sc.segments); i++ {
		prev, s := sc.segments[i-1], sc.segments[i]
		if prev.r1 == prev.r0 && s.r0 == s.r1 && s.r0 != prev.r1 {
			out = append(out, change{at: s.from, hold: s.to - s.from, up: s.r0 > prev.r1,
				from: prev.r1, to: s.r0, prevFrom: prev.from})
		}
	}
	return out
}

func checkProperties(t *testing.T, sc *scenario, b policyBlock, run *scenarioRun) {
	t.Helper()
	cfg, rows, dec := sc.cfg, run.res.Timeline, run.p.decisions
	clampD := func(d int) int { return min(max(d, cfg.Min()), cfg.MaxReplicas) }
	iv := cfg.ControlInterval

	// The lifecycle honours every decision: at the end of interval i the replicas
	// that exist and are not draining are the count decided at its start, within
	// [min, max]. Every row is judged, then the first failure reported.
	if len(dec) != len(rows) {
		t.Fatalf("%d decisions for %d intervals", len(dec), len(rows))
	}
	for i, row := range rows {
		inForce := clampD(dec[i])
		if got := row.Ready + row.Provisioning; got != inForce || got < cfg.Min() || got > cfg.MaxReplicas {
			t.Errorf("interval ending %v: ready %d + provisioning %d = %d, want the decision in force %d within [%d, %d]",
				row.Time, row.Ready, row.Provisioning, got, inForce, cfg.Min(), cfg.MaxReplicas)
			break
		}
	}

	demand := sc.traceDemand(rows)
	delay := time.Duration(cfg.StartupDelay.MeanSeconds() * float64(time.Second))
	switch b.name {
	case "static":
		if s := run.res.Summary; s.ScalingActions != 0 || len(slices.Compact(slices.Clone(dec))) != 1 {
			t.Errorf("static scaled: %d actions, decisions %v", s.ScalingActions, slices.Compact(slices.Clone(dec)))
		}
		return
	case "oracle":
		if cfg.StartupDelay.Kind != sim.Constant {
			break
		}
		// Once its first decision can have taken effect (D + I), the oracle's
		// supply covers the trace's demand in every interval; with exact arrivals
		// the observed demand equals it, and if the initial replicas cover the first
		// D + I too, the run is never under-provisioned at all.
		coveredFromStart := true
		for i, row := range rows {
			if row.Time <= delay+iv {
				coveredFromStart = coveredFromStart && cfg.InitialReplicas >= demand[i]
				continue
			}
			if row.Ready < demand[i] {
				t.Errorf("oracle: interval ending %v: ready %d < trace demand %d", row.Time, row.Ready, demand[i])
			}
			if sc.even && row.Ready < row.Demand {
				t.Errorf("oracle: interval ending %v: ready %d < observed demand %d with exact arrivals", row.Time, row.Ready, row.Demand)
			}
		}
		if sc.even && coveredFromStart && run.res.Summary.TauU != 0 {
			t.Errorf("oracle: tauU %v%%, want 0 (exact arrivals, initial replicas cover the first start-up)", run.res.Summary.TauU)
		}
	}

	q := cfg.QueueModel()
	for _, c := range sc.changes() {
		// The oracle's first decision that sees a step up is the first whose window
		// [t, t + D + I) reaches it, and it asks for exactly the new demand; the one
		// before asks for exactly the old.
		lo, hi := elasticity.Demand(q, c.from), elasticity.Demand(q, c.to)
		if b.name == "oracle" && cfg.StartupDelay.Kind == sim.Constant && c.up && hi > lo {
			// First k with k I + D + I > c.at: floor((c.at - D - I) / I) + 1.
			x := c.at - delay - iv
			k := int(x / iv)
			if x < 0 && x%iv != 0 {
				k--
			}
			k++
			if k >= 1 && k < len(dec) && time.Duration(k-1)*iv >= c.prevFrom && c.hold >= delay+iv {
				if got0, got1 := clampD(dec[k-1]), clampD(dec[k]); got0 != clampD(lo) || got1 != clampD(hi) {
					t.Errorf("oracle: rise at %v: decisions at %v and %v are %d, %d; want %d then %d (one start-up delay ahead)",
						c.at, time.Duration(k-1)*iv, time.Duration(k)*iv, got0, got1, clampD(lo), clampD(hi))
				}
			}
		}
		// A policy with a panic mode (KPA) panics within a minute of a sudden rise
		// of 2.5x or more.
		if len(run.p.panics) > 0 && c.up && c.to >= 2.5*c.from {
			panicked := false
			for j := int(c.at/iv) + 1; j < len(run.p.panics) && time.Duration(j)*iv <= c.at+time.Minute; j++ {
				panicked = panicked || run.p.panics[j]
			}
			if !panicked {
				t.Errorf("%s: no panic within a minute of the rise at %v (%v -> %v req/s)", b.name, c.at, c.from, c.to)
			}
		}
	}

	// Adaptive policies follow sustained changes.
	for _, c := range sc.changes() {
		if c.up && c.hold >= catchUpWithin {
			ok := false
			for i, row := range rows {
				if row.Time > c.at && row.Time <= c.at+catchUpWithin && row.Ready >= demand[i] {
					ok = true
					break
				}
			}
			if !ok {
				t.Errorf("%s: rise at %v: ready never reached the trace's demand within %v", b.name, c.at, catchUpWithin)
			}
		}
		if !c.up && c.hold >= releaseWithin {
			k := int(c.at / iv) // the decision at c.at (decision 0 is at time 0)
			if k < 1 || k >= len(dec) {
				continue
			}
			before := clampD(dec[k-1]) // in force when the rate falls
			released := false
			for j := k; j < len(dec) && time.Duration(j)*iv <= c.at+releaseWithin; j++ {
				if clampD(dec[j]) < before {
					released = true
					break
				}
			}
			if !released && before > cfg.Min() {
				t.Errorf("%s: fall at %v: still asking for %d replicas (or more) %v later", b.name, c.at, before, releaseWithin)
			}
		}
	}
}

// TestScenarioParseErrors: malformed scenario files are rejected with the file and
// line of the fault.
func TestScenarioParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"trace bucket=60s\n0m-10m rate=40\nsim bogus=1\n", ":3: unknown sim key \"bogus\""},
		{"trace bucket=60s\n0m-10m rate=40\n20m-30m rate=40\nsim seed=1\n", ":3: segment starts at 20m0s, want 10m0s"},
		{"trace bucket=60s\n0m-10m rate=-4\nsim seed=1\n", ":2: rate \"-4\""},
		{"trace bucket=60s arrivals=bursty\n", ":1: arrivals \"bursty\""},
		{"trace bucket=60s\n0m-10m rate=40\nsim seed=1\npolicy hpa\nnot a separator\n", ":4: policy line must be followed by a ---- line"},
		{"trace bucket=60s\n0m-10m rate=40\nsim min=3 max=2\n", "min_replicas"},
		{"trace bucket=60s\n0m-90s rate=40\nsim seed=1\n", ":2: segment 0s-1m30s: bounds must be multiples"},
		{"trace bucket=60s\n0m-10m rate=40\n", "no sim line"},
		{"frobnicate\n", ":1: unknown directive \"frobnicate\""},
	}
	dir := t.TempDir()
	for i, c := range cases {
		path := filepath.Join(dir, fmt.Sprintf("case%d.txt", i))
		if err := os.WriteFile(path, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := parseScenario(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: error %v, want it to contain %q", i, err, c.want)
		}
	}
}

// TestScenarioEvenArrivals: the even-arrival trace has exactly rate x window
// arrivals in every control window, so the observed demand is the trace's.
func TestScenarioEvenArrivals(t *testing.T) {
	tr := buildTrace("t", time.Minute, []segment{{0, 2 * time.Minute, 40, 40}, {2 * time.Minute, 4 * time.Minute, 20, 120}}, true)
	if want := []float64{40, 40, 45, 95}; !slices.Equal(tr.Rates, want) {
		t.Fatalf("rates %v, want %v (ramp buckets at their midpoints)", tr.Rates, want)
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 16) // 15 s windows
	for _, a := range tr.Arrivals {
		counts[a/(15*time.Second)]++
	}
	for w, n := range counts {
		if want := int(tr.Rates[w/4] * 15); n != want {
			t.Errorf("window %d: %d arrivals, want %d", w, n, want)
		}
	}
}
