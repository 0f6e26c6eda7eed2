package calibrate

import (
	"fmt"
	"math"
)

// LoadTimedOutChance is the chance below which an interval's 504s are more than the
// service's own share of them explains, so that its requests timed out under load
// (fitMeanService): 0.001.
const LoadTimedOutChance = 0.001

// windowMean is the mean service time over the whole window: busy seconds over
// completed requests.
func (f *Fit) windowMean() Value {
	return Value{V: f.BusySeconds / f.Completed, Fitted: true, Source: fmt.Sprintf("app_worker_busy_seconds_total / http_requests_total{code=\"200\"}: %.4g busy s over %.0f requests", f.BusySeconds, f.Completed)}
}

// fitMeanService sets MeanService to the busy seconds over the completed requests of
// the intervals of w in which no request timed out under load, when in others some
// did; else to the whole window's (windowMean). It returns whether MeanService
// changed, and a warning when the intervals without such timeouts hold fewer than
// Options.MinRequests completed requests, so that the whole window's figure stays.
//
// Busy time over completed requests is the mean service time only when every request
// that began service completed. One answered 504 in service (its deadline counts from
// its arrival, in the app as in the simulator) adds the busy time it had without
// adding a completed request. Under load that is a request whose wait left less time
// than its service needed: an ordinary service cut short, so the whole window's
// figure reads high, by more the more requests waited into their deadline (constant
// and lognormal CV 0.5 services read 2 to 6% high with 6 to 14% of the requests
// timed out in surges, by half or more in a long overload). Exponential service is the
// exception: for it, busy time over completions is the maximum-likelihood mean
// however services are cut (it is memoryless), and both figures agree. The
// simulator times requests out from its own queue, so the service time it needs is
// the one not cut by waiting.
//
// Which intervals timed out under load is told by their 504s beside those of the
// intervals whose requests hardly waited for a slot (keep, the family fit's;
// FitTimedOut): those are the service's own tail outlasting the timeout, the same
// share of the requests whatever the load. An interval timed out under load when, were
// its share of 504s that one, as many 504s or more would fall in it with a chance
// below LoadTimedOutChance: the exact test of two Poisson rates, binomial given both
// counts, which needs no share estimated from few 504s and so also holds when those
// intervals had none (a tail past the timeout too thin to show in them: one 504 in
// an interval of 3000 requests beside none in 50000 is no evidence of load, three
// are). An interval whose requests hardly waited is always kept. Keeping the
// intervals with the service's own 504s, rather than only those without any, keeps
// the choice from following the service times drawn: with a tail past the timeout,
// the intervals without a 504 are those whose longest services happened to be
// shorter, and they read low (for lognormal CV 2 behind a 2 s timeout, 5 to 10% low,
// where the intervals kept here read 2 to 3% low, the service's own cut, and the
// whole window 4 to 17% low). Their 504s still count against the completed requests,
// as the whole window's did; the timeout warning (FitTimedOutShare) says when they
// are many. Utilisation would be a worse guide: an interval's utilisation is its
// services' busy time, so the quiet intervals are in part those whose services
// happened to be short, and read 1 to 2% low.
//
// The sums run over the chosen intervals: the app adds a request's busy time when it
// ends, in the interval that counts its 200 or 504; the simulator's counter grows
// while it serves, so a request in service at an interval's end counts partly in
// each, a few slots' worth against the thousands of requests of the intervals.
func (f *Fit) fitMeanService(w *window, keep func(unixMilli int64) bool) (changed bool, warning string) {
	prev := f.MeanService.V
	f.MeanService, f.ServiceIntervals, f.ServiceRequests = f.windowMean(), 0, 0
	if !(f.TimedOut > 0) {
		return f.MeanService.V != prev, ""
	}
	// The service's own 504s (ownK), among the ownN requests that hardly waited.
	var ownN, ownK float64
	for _, t := range w.ends {
		if iv := w.ivs[t]; keep(t) {
			ownN, ownK = ownN+iv.done+iv.timedOut, ownK+iv.timedOut
		}
	}
	ownK = math.Round(ownK)
	var busy, done, timedOut, loadDone float64
	kept, load := 0, 0
	for _, t := range w.ends {
		iv := w.ivs[t]
		c, n := math.Round(iv.timedOut), iv.done+iv.timedOut
		if c > 0 && !keep(t) && binomialTail(c, c+ownK, n/(n+ownN)) < LoadTimedOutChance {
			load++
			timedOut += iv.timedOut
			loadDone += iv.done
			continue
		}
		kept++
		busy, done = busy+iv.busy, done+iv.done
	}
	if load == 0 {
		return f.MeanService.V != prev, ""
	}
	o := f.Options
	whole := f.MeanService.V
	if done < o.MinRequests || !(busy > 0) {
		f.MeanService.Source += fmt.Sprintf("; requests timed out under load in %d of the %d intervals of %v, and the others hold too few requests to fit it without them, so it may read high", load, len(w.ends), o.Step)
		return f.MeanService.V != prev, fmt.Sprintf("requests timed out under load (504) in %d of the %d intervals of %v, and the others hold %s completed requests, fewer than the %s needed to fit the mean service time without them: it is the whole window's, %.4g s, which counts the busy time of services cut short by the timeout against the completed requests, so it may read high; a window with more time out of overload avoids it",
			load, len(w.ends), o.Step, count(math.Round(done)), count(math.Ceil(o.MinRequests)), whole)
	}
	which := "without requests timed out under load (with no 504: the requests that hardly waited for a slot had none)"
	if ownK > 0 {
		which = fmt.Sprintf("without requests timed out under load (with no more 504s than the %s of the requests that hardly waited for a slot, services that outlasted the timeout, explain)", percent3(ownK/ownN))
	}
	f.MeanService = Value{V: busy / done, Fitted: true, Source: fmt.Sprintf("app_worker_busy_seconds_total / http_requests_total{code=\"200\"} in the %d of %d intervals of %v %s: %.4g busy s over %.0f requests; the other %d, with %.0f requests timed out (504) beside %.0f completed, are left out, since a service cut short by the timeout adds busy time without a completed request (the whole window: %.4g s)",
		kept, len(w.ends), o.Step, which, busy, done, load, timedOut, loadDone, whole)}
	f.ServiceIntervals, f.ServiceRequests = kept, done
	return f.MeanService.V != prev, ""
}

// binomialTail is the chance that a binomial count of m trials with chance q each is
// at least c. The terms fall away from the mode: it sums them from c up when c is
// above the mode, else from c-1 down for the complement, until they no longer add.
func binomialTail(c, m, q float64) float64 {
	switch {
	case c <= 0:
		return 1
	case c > m || q <= 0:
		return 0
	case q >= 1:
		return 1
	}
	lq, lp := math.Log(q), math.Log1p(-q)
	lm, _ := math.Lgamma(m + 1)
	pmf := func(j float64) float64 {
		lj, _ := math.Lgamma(j + 1)
		lr, _ := math.Lgamma(m - j + 1)
		return math.Exp(lm - lj - lr + j*lq + (m-j)*lp)
	}
	sum := 0.0
	if mode := math.Floor((m + 1) * q); c > mode {
		for j := c; j <= m; j++ {
			p := pmf(j)
			if sum += p; p <= 1e-17*sum {
				break
			}
		}
		return min(sum, 1)
	}
	for j := c - 1; j >= 0; j-- {
		p := pmf(j)
		if sum += p; p <= 1e-17*sum {
			break
		}
	}
	return max(1-sum, 0)
}
