package workload

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/intelliscale/intelliscale/live"
	"github.com/intelliscale/intelliscale/traces"
)

// Schedule draws open-loop Poisson arrival times, as offsets in wall time from the start
// of the replay, for trace tr played compression times faster than real time with every
// rate multiplied by scale. A bucket of rate r lasts Bucket/compression on the wall clock
// and receives arrivals at r*scale*compression per wall second, so the replay sends
// scale times the trace's requests. At most maxN arrivals (0: no limit) before maxDur
// (0: the whole trace) are returned.
//
// A replay that would send more than traces.MaxRate requests per wall second, whose
// buckets would last under a millisecond of wall time, or that would hold more than
// MaxScheduled arrivals with no maxN is refused: the arrival times would collapse
// onto each other or exhaust memory.
func Schedule(tr *traces.Trace, compression, scale float64, maxN int, maxDur time.Duration, rng *rand.Rand) ([]time.Duration, error) {
	if !(compression > 0) || math.IsInf(compression, 0) || !(scale >= 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("loadgen: --compression %v and --rate-scale %v: must be finite, compression > 0 and scale >= 0", compression, scale)
	}
	if maxN < 0 || maxDur < 0 {
		return nil, fmt.Errorf("loadgen: --max-requests %d and --max-duration %v: must be >= 0 (0: no limit)", maxN, maxDur)
	}
	bucket := float64(tr.Bucket) / compression // nanoseconds of wall time
	if bucket < float64(time.Millisecond) {
		return nil, fmt.Errorf("loadgen: --compression %v: a bucket of %v would last %v of wall time, under 1ms", compression, tr.Bucket, time.Duration(bucket))
	}
	end := replayEnd(tr, compression, maxDur)
	peak, expected := 0.0, 0.0
	for i, r := range tr.Rates {
		lo := float64(i) * bucket
		if lo >= float64(end) {
			break
		}
		w := r * scale * compression // requests per wall second
		peak = math.Max(peak, w)
		expected += w * (math.Min(lo+bucket, float64(end)) - lo) / 1e9
	}
	if peak > traces.MaxRate || math.IsInf(peak, 0) {
		return nil, fmt.Errorf("loadgen: --compression %v and --rate-scale %v: a peak of %.3g requests per wall second, above the limit of %g (traces.MaxRate)", compression, scale, peak, traces.MaxRate)
	}
	if maxN == 0 && expected > MaxScheduled {
		return nil, fmt.Errorf("loadgen: about %.3g requests to schedule, more than %g held at once: set --max-requests", expected, float64(MaxScheduled))
	}
	var out []time.Duration
	for i, r := range tr.Rates {
		lo := float64(i) * bucket
		hi := lo + bucket
		if lo >= float64(end) {
			break
		}
		hi = math.Min(hi, float64(end))
		perNs := r * scale * compression / 1e9
		if perNs <= 0 {
			continue
		}
		// Exponential gaps restarted at the bucket edge: exact for a piecewise-constant
		// rate because the exponential is memoryless.
		t := lo
		for {
			t += rng.ExpFloat64() / perNs
			if t >= hi {
				break
			}
			out = append(out, time.Duration(t))
			if maxN > 0 && len(out) >= maxN {
				return out, nil
			}
		}
	}
	return out, nil
}

// replayEnd is the wall time at which a replay of tr, compression times faster,
// stops: the end of the trace, or maxDur (when > 0) if sooner.
func replayEnd(tr *traces.Trace, compression float64, maxDur time.Duration) time.Duration {
	end := time.Duration(float64(tr.Duration()) / compression)
	if maxDur > 0 && maxDur < end {
		end = maxDur
	}
	return end
}

// MaxScheduled is the most arrivals Schedule holds when it is given no maximum
// count (8 bytes each).
const MaxScheduled = 1e8

// Span is the wall time a replay of sched lasts: up to the end of the trace played
// compression times faster, or maxDur when that is shorter, or the last arrival when
// maxN arrivals were scheduled.
func Span(tr *traces.Trace, sched []time.Duration, compression float64, maxN int, maxDur time.Duration) time.Duration {
	end := replayEnd(tr, compression, maxDur)
	if maxN > 0 && len(sched) >= maxN {
		end = sched[len(sched)-1]
	}
	return end
}

// LoadReport counts what a replay did.
type LoadReport struct {
	// Scheduled arrivals; Sent of them were sent, Skipped were not because MaxInFlight
	// requests were already outstanding (open loop: they are not delayed).
	Scheduled, Sent, Skipped int
	// OK answered 200, Rejected 503, TimedOut 504, OtherCode any other status, Errors
	// failed without an answer.
	OK, Rejected, TimedOut, OtherCode, Errors int
	// Elapsed wall time of the replay.
	Elapsed time.Duration
	// FirstError is the first of the Errors, so that a replay against a target that
	// does not answer says why.
	FirstError error
}

func (r LoadReport) String() string {
	s := fmt.Sprintf("scheduled=%d sent=%d skipped=%d ok=%d rejected_503=%d timed_out_504=%d other=%d errors=%d elapsed=%s",
		r.Scheduled, r.Sent, r.Skipped, r.OK, r.Rejected, r.TimedOut, r.OtherCode, r.Errors, r.Elapsed.Round(time.Millisecond))
	if r.FirstError != nil {
		s += fmt.Sprintf(" first_error=%q", r.FirstError.Error())
	}
	return s
}

// Replay sends one request per arrival in sched at its offset from the start, without
// waiting for earlier answers (open loop), at most maxInFlight outstanding (0: no limit).
// send returns the status code, or an error when there was no answer. Replay waits for
// every answer before it returns; it stops sending when ctx is done.
func Replay(ctx context.Context, sched []time.Duration, maxInFlight int, clock live.Clock, send func(context.Context) (int, error)) LoadReport {
	rep := LoadReport{Scheduled: len(sched)}
	start := clock.Now()
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		inFlight int
	)
	for _, off := range sched {
		if clock.SleepUntil(ctx, start.Add(off)) != nil {
			break
		}
		mu.Lock()
		if maxInFlight > 0 && inFlight >= maxInFlight {
			rep.Skipped++
			mu.Unlock()
			continue
		}
		inFlight++
		rep.Sent++
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := send(ctx)
			mu.Lock()
			defer mu.Unlock()
			inFlight--
			switch {
			case err != nil:
				rep.Errors++
				if rep.FirstError == nil {
					rep.FirstError = err
				}
			case code == 200:
				rep.OK++
			case code == 503:
				rep.Rejected++
			case code == 504:
				rep.TimedOut++
			default:
				rep.OtherCode++
			}
		}()
	}
	wg.Wait()
	rep.Elapsed = clock.Now().Sub(start)
	return rep
}

// HTTPSender returns a send function for Replay that GETs url with client.
func HTTPSender(client *http.Client, url string) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
}
