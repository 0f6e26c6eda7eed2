package calibrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// Options say which window to fit and how much data a fit needs. The zero value of a
// field means its default.
type Options struct {
	// Start and End of the window (required).
	Start, End time.Time
	// Step is the length of the intervals the window is cut into for utilisation and
	// the latency histogram; it must span at least two scrapes. Default 1m.
	Step time.Duration
	// LowUtilisation: only intervals at or below this worker utilisation (busy
	// seconds over the fewest slots ready in the interval) feed the distribution fit,
	// and of those the ones whose requests hardly waited for a slot (MaxWaitShare),
	// so that queueing hardly shapes the latency histogram. Default 0.3.
	LowUtilisation float64
	// MinRequests is the fewest completed requests the window must hold to fit the
	// mean service time, and, when requests timed out under load, the intervals
	// without such timeouts (fitMeanService). Default 1000.
	MinRequests float64
	// MinLowRequests is the fewest completed requests the low-utilisation intervals
	// must hold to fit the distribution family; when those whose requests hardly
	// waited hold fewer, the family is fitted to this many that waited least.
	// Default 500.
	MinLowRequests float64
}

// validate fills defaults and rejects bad options, as a *yamldoc.FieldError whose
// path is the option in snake case ("step", "low_utilisation"), so that a command
// can name its own flag for it.
func (o *Options) validate() error {
	if o.Step == 0 {
		o.Step = time.Minute
	}
	if o.LowUtilisation == 0 {
		o.LowUtilisation = 0.3
	}
	if o.MinRequests == 0 {
		o.MinRequests = 1000
	}
	if o.MinLowRequests == 0 {
		o.MinLowRequests = 500
	}
	switch {
	case o.Start.IsZero():
		return yamldoc.Errorf("start", "required: the window needs a start and an end")
	case o.End.IsZero():
		return yamldoc.Errorf("end", "required: the window needs a start and an end")
	case !o.End.After(o.Start):
		return yamldoc.Invalid("end", o.End.Format(time.RFC3339), "not after the start "+o.Start.Format(time.RFC3339))
	case o.Step < 0 || o.End.Sub(o.Start) < 2*o.Step:
		return yamldoc.Invalid("step", o.Step, fmt.Sprintf("must be > 0 and at most half the window (%s)", yamldoc.Duration(o.End.Sub(o.Start))))
	case !(o.LowUtilisation > 0 && o.LowUtilisation <= 1):
		return yamldoc.Invalid("low_utilisation", o.LowUtilisation, "must be in (0, 1]")
	case !(o.MinRequests > 0) || math.IsInf(o.MinRequests, 1):
		return yamldoc.Invalid("min_requests", o.MinRequests, "must be finite and > 0")
	case !(o.MinLowRequests > 0) || math.IsInf(o.MinLowRequests, 1):
		return yamldoc.Invalid("min_low_requests", o.MinLowRequests, "must be finite and > 0")
	}
	return nil
}

// ErrTooLittleData means the window cannot support a fit; the message says what is
// missing and how much there is.
var ErrTooLittleData = errors.New("too little data")

// FamilyFit is one candidate distribution scored on the latency histogram.
type FamilyFit struct {
	Kind string
	CV   float64 // lognormal only
	// G2 is the likelihood-ratio statistic 2 Σ O ln(O/E) over the buckets; AIC is G2
	// plus twice the number of parameters fitted to the histogram (1 for lognormal's
	// CV, 0 otherwise: the mean comes from busy seconds); KS is the largest distance
	// between the observed and the model's cumulative share at a bucket bound.
	G2, AIC, KS float64
}

// Value is one fitted figure with where it came from and how well it fits.
type Value struct {
	V      float64
	Fitted bool   // false: not visible in the metrics, V is the simulator's default
	Source string // the metrics and the method
}

// Fit is the fitted service model.
type Fit struct {
	Options Options
	// Completed requests and busy worker seconds in the window.
	Completed, BusySeconds float64
	// Arrived, Rejected (503) and TimedOut (504) requests in the window.
	Arrived, Rejected, TimedOut float64
	// MeanService in seconds; Family the chosen distribution with its CV.
	MeanService Value
	// ServiceIntervals is the number of intervals the mean service time is taken
	// from, and ServiceRequests their completed requests, when requests timed out
	// under load (fitMeanService); 0 when it is the whole window's, BusySeconds over
	// Completed.
	ServiceIntervals int
	ServiceRequests  float64
	Family           FamilyFit
	Candidates       []FamilyFit
	// LowRequests completed in LowIntervals intervals at utilisation <= LowUtilisation.
	LowRequests  float64
	LowIntervals int
	// FitRequests completed in FitIntervals of those intervals feed the family fit:
	// those whose requests waited for a slot at most MaxWaitShare of the mean
	// service time on average, or the ones that waited least (with a warning) when
	// they hold fewer than MinLowRequests (FitShort). FitWait is the mean wait of
	// their requests (mean response time minus mean service time) over
	// MeanService; a lower bound (FitWaitBound) when the buckets stand for a
	// missing _sum and _count.
	FitRequests  float64
	FitIntervals int
	FitWait      float64
	FitWaitBound bool
	FitShort     bool
	// FitTimedOut is the requests answered 504 in those intervals: beside requests
	// that hardly waited, they are the ones whose service outlasted the timeout,
	// missing from the latency histogram (FitTimedOutShare).
	FitTimedOut float64
	// LowMeanService and LowMeanResponse are the mean service time and the latency
	// histogram's mean response time in seconds, in those intervals at utilisation
	// <= ServiceCheckUtilisation too; LowMeanResponse is 0 without the histogram's
	// _sum and _count series.
	LowMeanService, LowMeanResponse float64

	Slots Value
	// Startup is the simulator's start-up delay in seconds: from the scale-up that
	// asked for a replica until it is ready, when the controller's desired count is
	// in the window; else the replica's own warm-up. Without the replicas' own
	// gauges (the simulator's series), it is followed through the replica state
	// series (scrapedStartups).
	Startup Value
	// Warmup is the replica's own part of it, app_ready_time_seconds -
	// app_start_time_seconds (not fitted without those gauges); Startup - Warmup is
	// what creating and starting the container took.
	Warmup  Value
	Queue   Value
	Timeout Value // seconds
	// Warnings say what the fit found suspect without refusing it: a poor fit of the
	// family to the latency histogram, service times cut by the timeout.
	Warnings []string
}

// Calibrate fits the simulator's service model to the window of q. An error about
// one of the options (a bad value, or a step no histogram series spans) is a
// *yamldoc.FieldError whose path names it ("step").
func Calibrate(ctx context.Context, q Querier, opt Options) (*Fit, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	f := &Fit{Options: opt}
	w := promDuration(opt.End.Sub(opt.Start))
	at := opt.End
	get := func(expr string) (float64, error) { return scalarAt(ctx, q, expr, at) }

	var err error
	if f.Completed, err = get(`sum(increase(http_requests_total{code="200"}[` + w + `]))`); err != nil {
		return nil, fmt.Errorf("calibrate: completed requests: %w", err)
	}
	if f.Arrived, err = get(`sum(increase(http_requests_total[` + w + `]))`); err != nil {
		return nil, fmt.Errorf("calibrate: requests: %w", err)
	}
	f.Rejected, _ = get(`sum(increase(http_requests_total{code="503"}[` + w + `]))`)
	f.TimedOut, _ = get(`sum(increase(http_requests_total{code="504"}[` + w + `]))`)
	if f.Completed < opt.MinRequests {
		return nil, fmt.Errorf("calibrate: the window %v to %v holds %s completed requests: at least %s are needed to fit the mean service time (%w); widen the window",
			opt.Start.Format(time.RFC3339), opt.End.Format(time.RFC3339), count(math.Round(f.Completed)), count(math.Ceil(opt.MinRequests)), ErrTooLittleData)
	}
	if f.BusySeconds, err = get(`sum(increase(app_worker_busy_seconds_total[` + w + `]))`); err != nil {
		return nil, fmt.Errorf("calibrate: busy seconds: %w", err)
	}
	if !(f.BusySeconds > 0) {
		return nil, fmt.Errorf("calibrate: app_worker_busy_seconds_total did not increase in the window (%w)", ErrTooLittleData)
	}
	f.MeanService = f.windowMean()

	if err := f.fitSlots(ctx, q); err != nil {
		return nil, err
	}
	if err := f.fitFamily(ctx, q); err != nil {
		return nil, err
	}
	if err := f.fitStartup(ctx, q); err != nil {
		return nil, err
	}
	f.fitDrops(ctx, q)
	if n := f.FitRequests + f.FitTimedOut; n > 0 && f.FitTimedOut/n > FitTimedOutShare {
		f.Warnings = append(f.Warnings, f.timedOutWarning())
	}
	// The optional figures fall back to defaults when their queries fail; a Ctrl-C
	// must not pass for a missing metric.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	return f, nil
}

// steps evaluates expr every Step over the window and returns its one series' values
// by time (unix ms); no series is an empty map.
func (f *Fit) steps(ctx context.Context, q Querier, expr string) (map[int64]float64, error) {
	o := f.Options
	ss, err := q.QueryRange(ctx, expr, o.Start.Add(o.Step), o.End, o.Step)
	if err != nil {
		return nil, err
	}
	out := map[int64]float64{}
	if len(ss) == 0 {
		return out, nil
	}
	s, err := one(expr, ss, nil)
	if err != nil {
		return nil, err
	}
	for _, p := range s.Samples {
		out[p.T.UnixMilli()] = p.V
	}
	return out, nil
}

// perReplica says whether app_worker_slots is exported per replica (several series,
// as Prometheus scrapes the app) or as one aggregate (the simulator's series).
func (f *Fit) perReplica(ctx context.Context, q Querier) (bool, error) {
	n, err := scalarAt(ctx, q, `count(count_over_time(app_worker_slots[`+promDuration(f.Options.End.Sub(f.Options.Start))+`]))`, f.Options.End)
	if err != nil {
		return false, fmt.Errorf("calibrate: app_worker_slots: %w", err)
	}
	return n > 1, nil
}

func (f *Fit) fitSlots(ctx context.Context, q Querier) error {
	per, err := f.perReplica(ctx, q)
	if err != nil {
		return err
	}
	expr, src := `sum(app_worker_slots) / sum(intelliscale_replicas{state="ready"})`, `app_worker_slots / intelliscale_replicas{state="ready"}`
	if per {
		expr, src = `sum(app_worker_slots) / count(app_worker_slots > 0)`, "app_worker_slots of each ready replica"
	}
	vals, err := f.steps(ctx, q, expr)
	if err != nil {
		return fmt.Errorf("calibrate: slots: %w", err)
	}
	var xs []float64
	for _, v := range vals {
		if v > 0 && !math.IsInf(v, 0) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return fmt.Errorf("calibrate: slots: no interval with a ready replica exporting app_worker_slots (%s) (%w)", src, ErrTooLittleData)
	}
	slices.Sort(xs)
	slots := math.Round(xs[len(xs)/2])
	agree := 0
	for _, x := range xs {
		if math.Round(x) == slots {
			agree++
		}
	}
	f.Slots = Value{V: slots, Fitted: true, Source: fmt.Sprintf("%s: the median, matched by %d of %d intervals", src, agree, len(xs))}
	return nil
}

// OverfullUtilisation is the utilisation above which an interval's busy time is more
// than its slots can give, beyond what rate()'s extrapolation and slots changing
// within the interval explain: 1.1. When more than half of the intervals are above
// it, the busy time or the slots are counted wrong and Calibrate refuses the window.
const OverfullUtilisation = 1.1

// interval is one Step of the window: its worker utilisation and what the service's
// counters say of the requests completed in it.
type interval struct {
	// util is the busy seconds over the fewest slots ready in the interval; NaN
	// when not known.
	util float64
	// busy worker seconds, done (code 200) and timedOut (504) requests; rsum and
	// rcount the increases of http_request_duration_seconds_sum and _count (hasSum:
	// the _sum series has a sample); n the requests the latency histogram counted
	// (its le="+Inf" bucket), buckets all its buckets.
	busy, done, timedOut, rsum, rcount, n float64
	hasSum                                bool
	buckets                               []bucket
}

// meanResponse is the interval's mean response time in seconds: from
// http_request_duration_seconds_sum and _count, else at least, from the buckets
// with every request at its bucket's lower bound; NaN when not known.
func (iv *interval) meanResponse() float64 {
	if iv.hasSum && iv.rcount > 0 {
		return iv.rsum / iv.rcount
	}
	if lo, _, ok := meanBounds(iv.buckets); ok {
		return lo
	}
	return math.NaN()
}

// window is the fit's window cut into Steps: every interval by its end (unix ms), the
// ends in time order, and the latency histogram's bucket series (hist, queried as
// histExpr) with one sample per interval.
type window struct {
	ivs      map[int64]*interval
	ends     []int64
	hist     []Series
	histExpr string
}

// intervals queries the window Step by Step: utilisation, busy seconds, completed
// requests and the latency histogram. It refuses a window whose busy time exceeds its
// slots' time in most intervals (ErrInconsistent).
func (f *Fit) intervals(ctx context.Context, q Querier) (*window, error) {
	o := f.Options
	step := promDuration(o.Step)
	// Against the fewest slots ready in the interval: an interval that ends with
	// replicas added to a queue is not a quiet one.
	util, err := f.steps(ctx, q, `sum(rate(app_worker_busy_seconds_total[`+step+`])) / sum(min_over_time(app_worker_slots[`+step+`]))`)
	if err != nil {
		return nil, fmt.Errorf("calibrate: utilisation: %w", err)
	}
	w := &window{ivs: map[int64]*interval{}, histExpr: `sum by (le) (increase(http_request_duration_seconds_bucket[` + step + `]))`}
	if w.hist, err = q.QueryRange(ctx, w.histExpr, o.Start.Add(o.Step), o.End, o.Step); err != nil {
		return nil, fmt.Errorf("calibrate: latency histogram: %w", err)
	}
	var us []float64
	for _, u := range util {
		if u >= 0 && !math.IsInf(u, 0) {
			us = append(us, u)
		}
	}
	slices.Sort(us)
	over := len(us) - sort.SearchFloat64s(us, math.Nextafter(OverfullUtilisation, 2))
	if over > 0 && 2*over > len(us) {
		return nil, fmt.Errorf("calibrate: app_worker_busy_seconds_total / app_worker_slots: utilisation above 100%% in %d of %d intervals of %v (median %s, highest %s): the busy time exceeds the slot time available; is app_worker_busy_seconds_total in smaller units than seconds (milliseconds?), counted per slot, or app_worker_slots short of the slots that work? (%w)",
			over, len(us), o.Step, percent(us[len(us)/2]), percent(us[len(us)-1]), ErrInconsistent)
	}
	at := func(t int64) *interval {
		iv := w.ivs[t]
		if iv == nil {
			iv = &interval{util: math.NaN()}
			w.ivs[t] = iv
			w.ends = append(w.ends, t)
		}
		return iv
	}
	for t, u := range util {
		at(t).util = u
	}
	for i, expr := range []string{
		`sum(increase(app_worker_busy_seconds_total[` + step + `]))`,
		`sum(increase(http_requests_total{code="200"}[` + step + `]))`,
		`sum(increase(http_request_duration_seconds_sum[` + step + `]))`,
		`sum(increase(http_request_duration_seconds_count[` + step + `]))`,
		`sum(increase(http_requests_total{code="504"}[` + step + `]))`,
	} {
		vals, err := f.steps(ctx, q, expr)
		if err != nil {
			return nil, fmt.Errorf("calibrate: %s: %w", expr, err)
		}
		for t, v := range vals {
			if math.IsNaN(v) {
				continue
			}
			switch iv := at(t); i {
			case 0:
				iv.busy = v
			case 1:
				iv.done = v
			case 2:
				iv.rsum, iv.hasSum = v, true
			case 3:
				iv.rcount = v
			case 4:
				iv.timedOut = v
			}
		}
	}
	for _, s := range w.hist {
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil {
			return nil, fmt.Errorf("calibrate: %s: series %s: le %q is not a number", w.histExpr, labelString(s.Labels), s.Labels["le"])
		}
		for _, p := range s.Samples {
			if math.IsNaN(p.V) {
				continue
			}
			iv := at(p.T.UnixMilli())
			iv.buckets = append(iv.buckets, bucket{le, p.V})
			if math.IsInf(le, 1) {
				iv.n += p.V
			}
		}
	}
	slices.Sort(w.ends)
	for _, iv := range w.ivs {
		sort.Slice(iv.buckets, func(a, b int) bool { return iv.buckets[a].le < iv.buckets[b].le })
	}
	return w, nil
}

// histogram sums the latency histogram's bucket increases over the intervals keep
// accepts, returning the finite bounds, the cumulative counts at them and the total.
// An error says that the histogram is missing or has too few buckets in the window,
// whichever intervals keep accepts.
func (w *window) histogram(step time.Duration, keep func(unixMilli int64) bool) (bounds, cum []float64, total float64, err error) {
	bs, err := sumBuckets(w.hist, keep)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("calibrate: %s: %w", w.histExpr, err)
	}
	if len(bs) == 0 {
		return nil, nil, 0, &yamldoc.FieldError{Path: "step", Value: step, Err: fmt.Errorf("no series of http_request_duration_seconds_bucket with two samples that far apart in the window: is the metric exported, and scraped at least twice in that time? (%w)", ErrTooLittleData)}
	}
	if len(bs) < 3 || !math.IsInf(bs[len(bs)-1].le, 1) {
		return nil, nil, 0, fmt.Errorf("calibrate: http_request_duration_seconds_bucket: want at least two finite buckets and le=\"+Inf\" in the window, got %d buckets (%w)", len(bs), ErrTooLittleData)
	}
	total = bs[len(bs)-1].n
	run := 0.0
	for _, b := range bs[:len(bs)-1] {
		run = max(run, min(b.n, total)) // monotonicity, as histogram_quantile enforces it
		bounds, cum = append(bounds, b.le), append(cum, run)
	}
	return bounds, cum, total, nil
}

// bucket is a latency histogram bucket: its upper bound and the requests counted.
type bucket struct{ le, n float64 }

// sumBuckets sums each histogram series' samples at the times keep accepts (NaN
// aside), one bucket per series by its le label, sorted by bound.
func sumBuckets(ss []Series, keep func(unixMilli int64) bool) ([]bucket, error) {
	var bs []bucket
	for _, s := range ss {
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil {
			return nil, fmt.Errorf("series %s: le %q is not a number", labelString(s.Labels), s.Labels["le"])
		}
		var n float64
		for _, p := range s.Samples {
			if keep(p.T.UnixMilli()) && !math.IsNaN(p.V) {
				n += p.V
			}
		}
		bs = append(bs, bucket{le, n})
	}
	sort.Slice(bs, func(a, b int) bool { return bs[a].le < bs[b].le })
	return bs, nil
}

// meanBounds bounds the mean of the observations in buckets sorted by bound, the last
// le="+Inf": every one at its bucket's lower bound (lo), or at its upper bound (hi,
// +Inf with observations above the last finite bound). Counts are made cumulative
// as histogram_quantile makes them. ok is false without observations or a +Inf
// bucket.
func meanBounds(bs []bucket) (lo, hi float64, ok bool) {
	if len(bs) < 2 || !math.IsInf(bs[len(bs)-1].le, 1) || !(bs[len(bs)-1].n > 0) {
		return 0, 0, false
	}
	total := bs[len(bs)-1].n
	prev, prevLe := 0.0, 0.0
	for _, b := range bs[:len(bs)-1] {
		n := max(prev, min(b.n, total))
		lo += (n - prev) * prevLe
		hi += (n - prev) * b.le
		prev, prevLe = n, b.le
	}
	lo += (total - prev) * prevLe
	if total > prev {
		hi = math.Inf(1) // requests above the last finite bound
	}
	return lo / total, hi / total, true
}

// percent formats a utilisation as a whole percentage: "4978%".
func percent(u float64) string { return count(math.Round(100*u)) + "%" }

// count formats a count, or a percentage, compactly: in full up to 1e15, else with
// an exponent ("1e+300").
func count(x float64) string {
	if math.Abs(x) < 1e15 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// MaxWaitShare is the longest mean wait for a slot, as a share of the mean service
// time, of the requests of an interval whose latency histogram feeds the family fit:
// 0.02. A response time is the service time plus that wait, and the fit reads the
// histogram as service times. Low utilisation alone does not make the wait short:
// one slot at 20% utilisation waits a quarter of the service time (M/M/1), and an
// interval that ends a few seconds into a surge is quiet on average while a backlog
// builds. A wait of 2% moves an exponential's cumulative share at a bucket bound by
// at most 0.02 if every request waited alike, and by about 0.01 for a queue's waits
// (few requests wait, each long): half of KSTolerance.
const MaxWaitShare = 0.02

func (f *Fit) fitFamily(ctx context.Context, q Querier) error {
	w, err := f.intervals(ctx, q)
	if err != nil {
		return err
	}
	o := f.Options
	low := func(t int64) bool {
		iv := w.ivs[t]
		return iv != nil && iv.util >= 0 && iv.util <= o.LowUtilisation
	}
	f.LowIntervals = 0
	for _, t := range w.ends {
		if low(t) {
			f.LowIntervals++
		}
	}
	_, _, total, err := w.histogram(o.Step, low)
	if err != nil {
		return err
	}
	f.LowRequests = total
	if total < o.MinLowRequests {
		return fmt.Errorf("calibrate: %d intervals of %v at utilisation <= %.2f hold %s completed requests: at least %s are needed to fit the service-time distribution (%w); widen the window or include a quieter period",
			f.LowIntervals, o.Step, o.LowUtilisation, count(math.Round(total)), count(math.Ceil(o.MinLowRequests)), ErrTooLittleData)
	}
	keep, waited := f.familyIntervals(w, low)
	// The intervals whose requests hardly waited depend on the mean service time (the
	// wait allowed is a share of it), and the mean on their 504s: a second pass
	// settles both; a third is a safeguard.
	var meanWarning string
	for range 3 {
		var changed bool
		if changed, meanWarning = f.fitMeanService(w, keep); !changed {
			break
		}
		keep, waited = f.familyIntervals(w, low)
	}
	bounds, cum, total, err := w.histogram(o.Step, keep)
	if err != nil {
		return err
	}
	f.FitRequests = total
	f.Candidates = FitFamilies(bounds, cum, total, f.MeanService.V)
	f.Family = f.Candidates[0]
	poor := ""
	if f.Family.KS > PoorFitKS {
		poor = fmt.Sprintf("the %s fit to the latency histogram is poor: KS %.3g (the largest gap between the observed and the fitted share of requests at a bucket bound; a good fit is below %g), so simulated latencies will not look like these",
			f.Family.Kind, f.Family.KS, PoorFitKS)
	}
	if err := f.checkService(w, poor); err != nil {
		return err
	}
	for _, s := range []string{meanWarning, waited, poor} {
		if s != "" {
			f.Warnings = append(f.Warnings, s)
		}
	}
	return nil
}

// familyIntervals chooses the intervals, among those low accepts, whose latency
// histogram feeds the family fit: those whose requests waited for a slot at most
// MaxWaitShare of the mean service time on average (mean response time minus mean
// service time, both the interval's). When they hold fewer than
// Options.MinLowRequests requests, it takes the low intervals in order of their
// wait until they hold that many, and says so in warning. It sets FitIntervals,
// FitWait, FitWaitBound and FitShort.
func (f *Fit) familyIntervals(w *window, low func(unixMilli int64) bool) (keep func(unixMilli int64) bool, warning string) {
	type cand struct {
		t          int64
		resp, wait float64 // seconds; wait +Inf when not known
		iv         *interval
	}
	var cs []cand
	for _, t := range w.ends {
		iv := w.ivs[t]
		if !low(t) || !(iv.n > 0) {
			continue
		}
		c := cand{t: t, resp: iv.meanResponse(), wait: math.Inf(1), iv: iv}
		if iv.done > 0 && !math.IsNaN(c.resp) {
			c.wait = c.resp - iv.busy/iv.done
		}
		cs = append(cs, c)
	}
	// The least wait first; ties in time order.
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(a.wait, b.wait) })
	limit := MaxWaitShare * f.MeanService.V
	k, held := 0, 0.0
	for k < len(cs) && cs[k].wait <= limit {
		held += cs[k].iv.n
		k++
	}
	negligible := held
	short := held < f.Options.MinLowRequests
	for ; short && k < len(cs) && held < f.Options.MinLowRequests; k++ {
		held += cs[k].iv.n
	}
	chosen := map[int64]bool{}
	var busy, done, resp, n float64
	f.FitTimedOut, f.FitWaitBound = 0, false
	for _, c := range cs[:k] {
		chosen[c.t] = true
		f.FitTimedOut += c.iv.timedOut
		f.FitWaitBound = f.FitWaitBound || !(c.iv.hasSum && c.iv.rcount > 0)
		if !math.IsInf(c.wait, 1) {
			busy, done, resp, n = busy+c.iv.busy, done+c.iv.done, resp+c.resp*c.iv.n, n+c.iv.n
		}
	}
	f.FitIntervals = k
	f.FitWait = math.NaN()
	if n > 0 && done > 0 {
		f.FitWait = (resp/n - busy/done) / f.MeanService.V
	}
	f.FitShort = short
	if short {
		o := f.Options
		warning = fmt.Sprintf("the service-time family is fitted to requests that waited for a slot: of the %d intervals of %v at utilisation <= %.2f, those whose requests waited at most %g%% of the mean service time hold %s requests, fewer than the %s needed, so the %d that waited least are used, their requests waiting %s of the mean service time on average; the fitted distribution may be wider than the service time's (lognormal for exponential, a higher CV): a window with quieter periods, or more replicas, avoids it",
			f.LowIntervals, o.Step, o.LowUtilisation, 100*MaxWaitShare, count(math.Round(negligible)), count(math.Ceil(o.MinLowRequests)), k, waitShare(f.FitWait, f.FitWaitBound))
	}
	return func(t int64) bool { return chosen[t] }, warning
}

// waitShare formats FitWait: "0.4%", or "at least 0.4%" when it is a bound.
func waitShare(share float64, bound bool) string {
	if math.IsNaN(share) {
		return "not known"
	}
	s := strconv.FormatFloat(100*share, 'f', 1, 64) + "%"
	if bound {
		s = "at least " + s
	}
	return s
}

// FitTimedOutShare is the share of the requests of the intervals the family is
// fitted to, answered 504 there, above which the fit comes with a warning: 0.01.
// Those requests hardly waited for a slot, so their service outlasted the timeout:
// the latency histogram lacks its longest service times, which moves its cumulative
// share at a bucket bound by up to their share (here half of KSTolerance), and their
// busy time counts against the completed requests only, so the fitted mean, family
// and CV may describe service times cut at the timeout.
const FitTimedOutShare = 0.01

// timedOutWarning says that the service times the family is fitted to are cut by
// the timeout (FitTimedOutShare).
func (f *Fit) timedOutWarning() string {
	timeout := "the timeout"
	if f.Timeout.Fitted {
		timeout = fmt.Sprintf("the timeout (%.4g s)", f.Timeout.V)
	}
	return fmt.Sprintf("%s of the %s requests of the intervals the service-time family is fitted to timed out (504) though they hardly waited for a slot: their service took longer than %s, so the latency histogram lacks the longest service times and their busy time is counted against the completed requests; the fitted mean %.4g s, the %s family and its spread may describe service times cut at the timeout, with a lighter tail, so that the simulator times out fewer requests than the service did; a window in which the service ran with a longer timeout shows the whole distribution; else check these figures against its own timings (access logs, traces)",
		percent3(f.FitTimedOut/(f.FitRequests+f.FitTimedOut)), count(math.Round(f.FitRequests+f.FitTimedOut)), timeout, f.MeanService.V, f.Family.Kind)
}

// percent3 formats a share as a percentage with three significant digits: "3.05%".
func percent3(x float64) string { return strconv.FormatFloat(100*x, 'g', 3, 64) + "%" }

// PoorFitKS is the KS distance above which the chosen family is said to fit the
// latency histogram poorly (Fit.Warnings): 0.15.
const PoorFitKS = 0.15

// MinServiceShare and MaxServiceShare bound the mean service time over the mean
// response time in the intervals at utilisation <= ServiceCheckUtilisation (and
// Options.LowUtilisation). A response takes its service time plus the wait in the
// queue, which at such utilisation is short: below a third, the busy time is too
// small for the requests (other units, averaged per slot); above 1.5, more than
// their whole response time, beyond the noise of requests in flight at the
// intervals' ends.
const (
	MinServiceShare         = 1.0 / 3
	MaxServiceShare         = 1.5
	ServiceCheckUtilisation = 0.3
)

// ErrInconsistent means that two metrics contradict each other, so that one of them
// is not what calibrate takes it for; the message names both figures.
var ErrInconsistent = errors.New("inconsistent metrics")

// checkService compares the mean service time (busy seconds per completed request)
// with the latency histogram's mean response time in the intervals of w at
// utilisation at most ServiceCheckUtilisation and Options.LowUtilisation, and
// refuses a service time outside [MinServiceShare, MaxServiceShare] of it; note,
// when not empty, is added to the message. Without the histogram's _sum and _count
// the response time is bounded by its buckets: every request at its bucket's lower
// bound, or at its upper bound. Without completed requests in those intervals there
// is nothing to compare.
func (f *Fit) checkService(w *window, note string) error {
	o := f.Options
	limit := min(o.LowUtilisation, ServiceCheckUtilisation)
	isQuiet := func(t int64) bool { iv := w.ivs[t]; return iv != nil && iv.util >= 0 && iv.util <= limit }
	quiet, hasSum := 0, false
	var busy, done, rsum, rcount float64
	for _, t := range w.ends {
		if !isQuiet(t) {
			continue
		}
		iv := w.ivs[t]
		quiet++
		busy, done, rsum, rcount = busy+iv.busy, done+iv.done, rsum+iv.rsum, rcount+iv.rcount
		hasSum = hasSum || iv.hasSum
	}
	if !(done > 0) {
		return nil
	}
	service := busy / done
	f.LowMeanService = service
	loSrc := "http_request_duration_seconds_sum / _count"
	hiSrc := loSrc
	var lo, hi float64 // the mean response time, or bounds on it
	if hasSum && rcount > 0 {
		lo = rsum / rcount
		hi, f.LowMeanResponse = lo, lo
	} else {
		bs, err := sumBuckets(w.hist, isQuiet)
		if err != nil {
			return fmt.Errorf("calibrate: %s: %w", w.histExpr, err)
		}
		var ok bool
		if lo, hi, ok = meanBounds(bs); !ok {
			return nil
		}
		loSrc = "at least: http_request_duration_seconds_bucket with every request at its bucket's lower bound, without the _sum and _count series"
		hiSrc = "at most: http_request_duration_seconds_bucket with every request at its bucket's upper bound, without the _sum and _count series"
	}
	if note != "" {
		note = " Also " + note
	}
	where := fmt.Sprintf("in the %d intervals of %v at utilisation <= %.2f", quiet, o.Step, limit)
	svc := fmt.Sprintf("the mean service time %.4g s (app_worker_busy_seconds_total / http_requests_total{code=\"200\"}; %.4g s fitted)", service, f.MeanService.V)
	switch {
	case service < MinServiceShare*lo:
		return fmt.Errorf("calibrate: %s %s is %.2g times the mean response time %.4g s (%s), where a response takes its service time and a short wait: the busy time is too small for the requests (below %.2g of their response time); is app_worker_busy_seconds_total in other units than seconds, averaged over slots or replicas, or another metric?%s (%w)",
			where, svc, service/lo, lo, loSrc, MinServiceShare, note, ErrInconsistent)
	case service > MaxServiceShare*hi:
		return fmt.Errorf("calibrate: %s %s is %.2g times the mean response time %.4g s (%s), where a response takes at least its service time: the busy time is too large for the requests (above %.2g times their response time); is app_worker_busy_seconds_total in smaller units than seconds (milliseconds?), counted per slot, or another metric?%s (%w)",
			where, svc, service/hi, hi, hiSrc, MaxServiceShare, note, ErrInconsistent)
	}
	return nil
}

// KSTolerance is the largest KS distance (on the cumulative share at the bucket
// bounds) at which a family without a fitted parameter is accepted: 0.02.
const KSTolerance = 0.02

// FitFamilies scores the simulator's parametric distributions (sim.Exponential,
// sim.LogNormal with its CV fitted by maximum likelihood on the buckets, sim.Constant)
// with mean mean on a histogram (cumulative counts cum at bounds, total
// observations), the chosen one first: the first of constant and exponential whose KS
// distance is at most KSTolerance (the closer if both), else the lowest AIC; then
// the others by AIC. Empirical is not a candidate: a classic
// histogram's few buckets cannot give its samples.
func FitFamilies(bounds, cum []float64, total, mean float64) []FamilyFit {
	score := func(kind string, cv float64, params int) FamilyFit {
		cdf := func(x float64) float64 { return distCDF(kind, mean, cv, x) }
		g2, ks := 0.0, 0.0
		prevO, prevF := 0.0, 0.0
		for j := 0; j <= len(bounds); j++ {
			cO, cF := total, 1.0
			if j < len(bounds) {
				cO, cF = cum[j], cdf(bounds[j])
				ks = max(ks, math.Abs(cO/total-cF))
			}
			o, e := cO-prevO, (cF-prevF)*total
			e = max(e, 1e-9*total)
			if o > 0 {
				g2 += 2 * o * math.Log(o/e)
			}
			prevO, prevF = cO, cF
		}
		return FamilyFit{Kind: kind, CV: cv, G2: g2, AIC: g2 + 2*float64(params), KS: ks}
	}
	// Lognormal: the CV minimising G2, on a log grid then by golden section.
	best := score(sim.LogNormal, 0.02, 1)
	lo, hi := math.Log(0.02), math.Log(5.0)
	for i := 0; i <= 60; i++ {
		c := score(sim.LogNormal, math.Exp(lo+(hi-lo)*float64(i)/60), 1)
		if c.G2 < best.G2 {
			best = c
		}
	}
	a, b := math.Log(best.CV)-(hi-lo)/60, math.Log(best.CV)+(hi-lo)/60
	phi := (math.Sqrt(5) - 1) / 2
	for range 40 {
		x1, x2 := b-phi*(b-a), a+phi*(b-a)
		if score(sim.LogNormal, math.Exp(x1), 1).G2 < score(sim.LogNormal, math.Exp(x2), 1).G2 {
			b = x2
		} else {
			a = x1
		}
	}
	if c := score(sim.LogNormal, math.Exp((a+b)/2), 1); c.G2 < best.G2 {
		best = c
	}
	out := []FamilyFit{score(sim.Constant, 0, 0), score(sim.Exponential, 0, 0), best}
	// The simplest family within KSTolerance wins (constant, then exponential: no
	// parameter fitted to the histogram); else the lowest AIC. A lognormal can match
	// a few coarse buckets almost exactly whatever the truth, so parsimony first.
	pick := -1
	for i, c := range out[:2] {
		if c.KS <= KSTolerance && (pick < 0 || c.KS < out[pick].KS) {
			pick = i
		}
	}
	if pick < 0 {
		pick = 0
		for i, c := range out {
			if c.AIC < out[pick].AIC {
				pick = i
			}
		}
	}
	out[0], out[pick] = out[pick], out[0]
	sort.SliceStable(out[1:], func(i, j int) bool { return out[1+i].AIC < out[1+j].AIC })
	return out
}

// distCDF is P(X <= x) for the simulator's distribution kind with mean and cv.
func distCDF(kind string, mean, cv, x float64) float64 {
	if x <= 0 {
		return 0
	}
	switch kind {
	case sim.Exponential:
		return 1 - math.Exp(-x/mean)
	case sim.LogNormal:
		s2 := math.Log1p(cv * cv)
		mu := math.Log(mean) - s2/2
		return 0.5 * math.Erfc(-(math.Log(x)-mu)/math.Sqrt(2*s2))
	}
	if x >= mean {
		return 1
	}
	return 0
}

func (f *Fit) fitStartup(ctx context.Context, q Querier) error {
	o := f.Options
	w := promDuration(o.End.Sub(o.Start))
	ss, err := q.QueryRange(ctx, `(max_over_time(app_ready_time_seconds[`+w+`]) > 0) - max_over_time(app_start_time_seconds[`+w+`])`, o.End, o.End, time.Second)
	if err != nil {
		return fmt.Errorf("calibrate: start-up delay: %w", err)
	}
	var ds []float64
	for _, s := range ss {
		if n := len(s.Samples); n > 0 && s.Samples[n-1].V >= 0 {
			ds = append(ds, s.Samples[n-1].V)
		}
	}
	if len(ds) > 0 {
		slices.Sort(ds)
		m := mean(ds)
		f.Warmup = Value{V: m, Fitted: true, Source: fmt.Sprintf("app_ready_time_seconds - app_start_time_seconds: mean over %d replicas (min %.3g s, max %.3g s)", len(ds), ds[0], ds[len(ds)-1])}
		f.Startup = f.Warmup
		if rs, err := f.requestToReady(ctx, q); err == nil && len(rs) > 0 {
			slices.Sort(rs)
			f.Startup = Value{V: mean(rs), Fitted: true, Source: fmt.Sprintf("from the rise of intelliscale_desired_replicas that asked for a replica to its app_ready_time_seconds: mean over %d replicas (min %.3g s, max %.3g s), of which the replica's own warm-up %.3g s",
				len(rs), rs[0], rs[len(rs)-1], m)}
		}
		return nil
	}
	// The replica state series: each replica from its request to the first scrape
	// that shows it ready.
	n, err := scalarAt(ctx, q, `sum(count_over_time(intelliscale_replicas{state="ready"}[`+w+`]))`, o.End)
	if err != nil || n < 2 {
		f.Startup = Value{V: sim.DefaultStartupDelay, Source: "not visible: no app_ready_time_seconds nor intelliscale_replicas series in the window; the simulator's default"}
		return nil
	}
	si := (o.End.Sub(o.Start) / time.Duration(n)).Round(time.Millisecond)
	bs, longer, err := f.scrapedStartups(ctx, q, si)
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		f.Startup = Value{V: sim.DefaultStartupDelay, Source: "not visible: no replica asked for in the window became ready in it; the simulator's default"}
		return nil
	}
	var unseen float64
	f.Startup, unseen = startupFromBounds(bs, longer)
	if unseen > UnseenStartupShare {
		f.Warnings = append(f.Warnings, fmt.Sprintf("the start-up delay %.3g s is a lower bound: by Kaplan-Meier, %.0f%% of the replicas asked for take longer than any that became ready in the window (the others were cancelled while provisioning, or the window ended)",
			f.Startup.V, 100*unseen))
	}
	return nil
}

// UnseenStartupShare is the share of replicas, cancelled or unfinished after longer
// than any that became ready took, above which the fitted start-up delay (a lower
// bound then) comes with a warning: 0.05.
const UnseenStartupShare = 0.05

// startupBounds bound one replica's start-up delay: more than Lo and at most Hi
// seconds.
type startupBounds struct{ Lo, Hi float64 }

// startupFromBounds estimates the mean start-up delay from the bounds of the replicas
// that became ready and the time the others were provisioning before they were
// cancelled or the window ended (their delay is longer). When every replica that
// became ready has the same bounds and none of the others outlasted them, the delay
// varies by less than a scrape interval and its place within the bounds cannot be
// told: the upper bound is taken, the delay itself when it is a multiple of the
// scrape interval (the bound is a scrape instant, at which the simulator counts a
// replica ready that became ready at it). Else each replica that became ready counts
// at the middle of its bounds, and the others as longer than they lasted, in the
// Kaplan-Meier estimate of the mean: leaving them out would keep only the delays
// short enough to finish, which a policy that cancels replicas soon (kpa) makes much
// shorter than the mean. unseen is the estimated share of replicas whose delay is
// longer than the longest seen; it is counted at the longest time one lasted, so
// that the mean is a lower bound when unseen > 0.
func startupFromBounds(bs []startupBounds, longer []float64) (v Value, unseen float64) {
	const src = "intelliscale_replicas{state}, from the scrape a replica was asked for after (the simulator decides on the scrape it has just taken) to the first showing it ready"
	ms := func(x float64) float64 { return math.Round(1000 * x) }
	same := true
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range bs {
		same = same && ms(b.Lo) == ms(bs[0].Lo) && ms(b.Hi) == ms(bs[0].Hi)
		lo, hi = min(lo, b.Lo), max(hi, b.Hi)
	}
	for _, c := range longer {
		same = same && ms(c) < ms(bs[0].Hi)
	}
	if same {
		others := ""
		if len(longer) > 0 {
			others = fmt.Sprintf(" (%d more cancelled or unfinished while provisioning)", len(longer))
		}
		return Value{V: hi, Fitted: true, Source: fmt.Sprintf("%s: the same for all %d replicas ready%s, over %.4g s and at most %.4g s; the bound, exact for a multiple of the scrape interval",
			src, len(bs), others, lo, hi)}, 0
	}
	others := ""
	if len(longer) > 0 {
		others = fmt.Sprintf(", and %d cancelled or unfinished while provisioning, counted as longer than they lasted", len(longer))
	}
	type obs struct {
		t     float64 // seconds
		ready bool    // else longer than t
	}
	xs := make([]obs, 0, len(bs)+len(longer))
	for _, b := range bs {
		xs = append(xs, obs{(b.Lo + b.Hi) / 2, true})
	}
	for _, c := range longer {
		xs = append(xs, obs{c, false})
	}
	// Ready first on ties: a replica that outlasted t was not ready by t.
	sort.Slice(xs, func(i, j int) bool { return xs[i].t < xs[j].t || xs[i].t == xs[j].t && xs[i].ready && !xs[j].ready })
	m, left := 0.0, 1.0 // the mean so far, and the share not ready yet
	for i, x := range xs {
		if x.ready {
			p := left / float64(len(xs)-i)
			m, left = m+p*x.t, left-p
		}
	}
	bound := ""
	if left > 1e-9 {
		m += left * xs[len(xs)-1].t
		unseen = left
		bound = fmt.Sprintf("; at least: %.0f%% took longer than any ready, counted at %.4g s, the longest one lasted", 100*left, xs[len(xs)-1].t)
	}
	return Value{V: m, Fitted: true, Source: fmt.Sprintf("%s: Kaplan-Meier mean of %d replicas ready, each at the middle of its scrape interval (over %.4g s to at most %.4g s)%s%s",
		src, len(bs), lo, hi, others, bound)}, unseen
}

// scrapedStartups follows the replicas through the replica state series sampled
// at every scrape of the window (about si apart), as the simulator records them. It
// returns the bounds of the start-up delay of every replica asked for and ready in
// the window, and how long every other replica asked for in it was provisioning
// before it was cancelled or the window ended. The simulator asks for replicas right
// after a scrape, so the next scrape is the first to count one provisioning (or
// ready); a replica that became ready at a scrape instant is counted ready at it.
// Between two scrapes, the replicas that became ready are the rise of the ready count
// (a scale-down drains ready replicas only once it has cancelled every provisioning
// one, so none becomes ready beside a drain); those asked for are the rise of
// provisioning plus ready, and those cancelled its fall, right after the earlier
// scrape and the latest asked for first, as the simulator cancels them. Replicas
// become ready in the order they were asked for: exact for a constant delay; for a
// varying one the pairing may differ, not the total delay. A replica provisioning at
// the window's start is left out.
func (f *Fit) scrapedStartups(ctx context.Context, q Querier, si time.Duration) (ready []startupBounds, longer []float64, err error) {
	o := f.Options
	type scrape struct {
		t            float64 // seconds
		ready, provs int
	}
	byTime := func(expr string, step time.Duration) (map[int64]float64, error) {
		ss, err := q.QueryRange(ctx, expr, o.Start, o.End, step)
		if err != nil {
			return nil, fmt.Errorf("calibrate: start-up delay: %w", err)
		}
		out := map[int64]float64{}
		if len(ss) == 0 {
			return out, nil
		}
		s, err := one(expr, ss, nil)
		if err != nil {
			return nil, fmt.Errorf("calibrate: start-up delay: %w", err)
		}
		for _, p := range s.Samples {
			out[p.T.UnixMilli()] = p.V
		}
		return out, nil
	}
	// Every scrape once, in time order, sampled every step.
	sample := func(step time.Duration) ([]scrape, error) {
		var vals [3]map[int64]float64
		for i, expr := range []string{
			`max(timestamp(intelliscale_replicas{state="ready"}))`,
			`sum(intelliscale_replicas{state="ready"})`,
			`sum(intelliscale_replicas{state="provisioning"})`,
		} {
			var err error
			if vals[i], err = byTime(expr, step); err != nil {
				return nil, err
			}
		}
		var scrapes []scrape
		for t := o.Start; !t.After(o.End); t = t.Add(step) {
			k := t.UnixMilli()
			stamp, ok1 := vals[0][k]
			r, ok2 := vals[1][k]
			p, ok3 := vals[2][k]
			if !ok1 || !ok2 || !ok3 || len(scrapes) > 0 && stamp == scrapes[len(scrapes)-1].t {
				continue
			}
			scrapes = append(scrapes, scrape{stamp, int(math.Round(r)), int(math.Round(p))})
		}
		return scrapes, nil
	}
	// Sampled at most half a scrape interval apart, no scrape is missed. si is the
	// window over the number of scrapes, too long when the series cover only part
	// of the window: the closest two scrapes seen then say how far apart they are.
	var scrapes []scrape
	for step := max(si/2, time.Millisecond); ; {
		if scrapes, err = sample(step); err != nil {
			return nil, nil, err
		}
		if len(scrapes) < 2 {
			break
		}
		gap := math.Inf(1)
		for j := 1; j < len(scrapes); j++ {
			gap = min(gap, scrapes[j].t-scrapes[j-1].t)
		}
		half := time.Duration(gap * 1e9 / 2).Round(time.Millisecond)
		if step <= half || step == time.Millisecond {
			break
		}
		step = max(half, time.Millisecond)
	}
	if len(scrapes) == 0 {
		return nil, nil, nil
	}
	// The scrape time after which each provisioning replica was asked for, in the
	// order asked; NaN: before the window.
	asked := make([]float64, max(scrapes[0].provs, 0))
	for i := range asked {
		asked[i] = math.NaN()
	}
	for j := 1; j < len(scrapes); j++ {
		prev, cur := scrapes[j-1], scrapes[j]
		readied := max(cur.ready-prev.ready, 0)
		net := cur.provs - prev.provs + readied
		for ; net < 0 && len(asked) > 0; net++ {
			if a := asked[len(asked)-1]; !math.IsNaN(a) {
				longer = append(longer, prev.t-a)
			}
			asked = asked[:len(asked)-1]
		}
		for ; net > 0; net-- {
			asked = append(asked, prev.t)
		}
		for ; readied > 0 && len(asked) > 0; readied-- {
			if a := asked[0]; !math.IsNaN(a) {
				ready = append(ready, startupBounds{Lo: prev.t - a, Hi: cur.t - a})
			}
			asked = asked[1:]
		}
	}
	for _, a := range asked {
		if !math.IsNaN(a) {
			longer = append(longer, scrapes[len(scrapes)-1].t-a)
		}
	}
	return ready, longer, nil
}

func mean(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	return m / float64(len(xs))
}

// requestLookback is how far before a replica's start the scale-up that asked for it
// is looked for; a replica with no rise of the desired count that close (one started
// by hand or by the orchestrator) is left out.
const requestLookback = time.Minute

// requestToReady returns, for every replica that started and became ready in the
// window, the time from the scale-up that asked for it to its readiness: the
// simulator's start-up delay, which counts from the decision and so includes
// creating and starting the container. The scale-up is the last rise of
// intelliscale_desired_replicas that may have happened before the replica's
// app_start_time_seconds (the scrape before the one showing the rise is earlier
// than the start); it happened between those two scrapes, so their midpoint is
// taken.
func (f *Fit) requestToReady(ctx context.Context, q Querier) ([]float64, error) {
	o := f.Options
	w := promDuration(o.End.Sub(o.Start))
	starts, err := valuesByLabels(ctx, q, `max_over_time(app_start_time_seconds[`+w+`])`, o.End)
	if err != nil {
		return nil, err
	}
	readies, err := valuesByLabels(ctx, q, `max_over_time(app_ready_time_seconds[`+w+`]) > 0`, o.End)
	if err != nil {
		return nil, err
	}
	var out []float64
	for k, st := range starts {
		rd, ok := readies[k]
		if !ok {
			continue
		}
		start := time.UnixMilli(int64(st * 1000))
		if start.Before(o.Start) || start.After(o.End) {
			continue
		}
		// The desired count and the timestamp of its sample, every second around the
		// start.
		from, to := start.Add(-requestLookback), start.Add(10*time.Second)
		vs, err1 := q.QueryRange(ctx, `max(intelliscale_desired_replicas)`, from, to, time.Second)
		ts, err2 := q.QueryRange(ctx, `max(timestamp(intelliscale_desired_replicas))`, from, to, time.Second)
		if err1 != nil || err2 != nil || len(vs) != 1 || len(ts) != 1 {
			continue
		}
		stamp := map[int64]float64{}
		for _, p := range ts[0].Samples {
			stamp[p.T.UnixMilli()] = p.V
		}
		requested := math.NaN()
		prevV, prevStamp := math.NaN(), math.NaN()
		for _, p := range vs[0].Samples {
			cur, ok := stamp[p.T.UnixMilli()]
			if !ok || cur == prevStamp {
				continue
			}
			if p.V > prevV && prevStamp < st {
				requested = (prevStamp + cur) / 2
			}
			prevV, prevStamp = p.V, cur
		}
		if d := rd - requested; d >= rd-st {
			out = append(out, d)
		}
	}
	return out, nil
}

// valuesByLabels evaluates expr at t and returns each series' value by its labels.
func valuesByLabels(ctx context.Context, q Querier, expr string, t time.Time) (map[string]float64, error) {
	ss, err := q.QueryRange(ctx, expr, t, t, time.Second)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, s := range ss {
		if n := len(s.Samples); n > 0 {
			out[labelString(s.Labels)] = s.Samples[n-1].V
		}
	}
	return out, nil
}

func (f *Fit) fitDrops(ctx context.Context, q Querier) {
	o := f.Options
	w := promDuration(o.End.Sub(o.Start))
	share := func(n float64) string {
		if f.Arrived <= 0 {
			return "0"
		}
		return fmt.Sprintf("%.3g%%", 100*n/f.Arrived)
	}
	if v, err := scalarAt(ctx, q, `max(max_over_time(app_queue_capacity[`+w+`]))`, o.End); err == nil && v >= 0 {
		f.Queue = Value{V: v, Fitted: true, Source: fmt.Sprintf("app_queue_capacity; 503 (queue full) share %s", share(f.Rejected))}
	}
	if !f.Queue.Fitted {
		f.Queue = Value{V: sim.DefaultQueueCapacity, Source: fmt.Sprintf("not visible: no app_queue_capacity series (503 share %s; the queue bound cannot be told from the answers alone); the simulator's default", share(f.Rejected))}
	}
	if v, err := scalarAt(ctx, q, `max(max_over_time(app_request_timeout_seconds[`+w+`]))`, o.End); err == nil && v > 0 {
		f.Timeout = Value{V: v, Fitted: true, Source: fmt.Sprintf("app_request_timeout_seconds; 504 (timed out) share %s", share(f.TimedOut))}
	} else {
		f.Timeout = Value{V: sim.DefaultTimeout.Seconds(), Source: fmt.Sprintf("not visible: no app_request_timeout_seconds (504 share %s); the simulator's default", share(f.TimedOut))}
	}
}
