package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/intelliscale/intelliscale/internal/atomicfile"
	"github.com/intelliscale/intelliscale/internal/outpath"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/live/calibrate"
	"github.com/intelliscale/intelliscale/traces"
)

func init() {
	register(command{name: "calibrate", summary: "fit the simulator's service model to the metrics in Prometheus or a dump", run: runCalibrate})
}

// metricsSource is where production metrics come from: a Prometheus server or a text
// dump on disk, and the window to read.
type metricsSource struct {
	prometheus, dump, start, end string
}

func (m *metricsSource) register(fs *flag.FlagSet) {
	fs.StringVar(&m.prometheus, "prometheus", "", "Prometheus server URL, for example http://127.0.0.1:9090 (or give --dump)")
	fs.StringVar(&m.dump, "dump", "", "Prometheus or OpenMetrics text dump with timestamps (intelliscale sim --openmetrics, a federation or promtool dump) instead of a server")
	fs.StringVar(&m.start, "start", "", "window start: RFC 3339, Unix seconds, now or now-DURATION (7d, 36h) (default: a dump's first sample; required with --prometheus)")
	fs.StringVar(&m.end, "end", "", "window end, as --start (default: a dump's last sample, or now)")
}

// promPingTimeout bounds the first request to a Prometheus server (PromQuerier.Ping).
var promPingTimeout = 10 * time.Second

// open returns the querier and the window; name names the source in messages. A
// Prometheus server must answer a first query within promPingTimeout.
func (m *metricsSource) open(ctx context.Context) (q calibrate.Querier, name string, start, end time.Time, err error) {
	now := time.Now().UTC()
	var dump *calibrate.Dump
	switch {
	case (m.prometheus == "") == (m.dump == ""):
		return nil, "", start, end, errors.New("give exactly one of --prometheus URL and --dump FILE")
	case m.prometheus != "":
		name = "Prometheus at " + m.prometheus
		if m.start == "" {
			return nil, "", start, end, errors.New("--start is required with --prometheus")
		}
		pq, perr := calibrate.NewPromQuerier(m.prometheus)
		if perr != nil {
			return nil, "", start, end, perr
		}
		if perr := pq.Ping(ctx, promPingTimeout); perr != nil {
			return nil, "", start, end, perr
		}
		q = pq
		end = now
	default:
		d, derr := calibrate.LoadDump(m.dump)
		if derr != nil {
			return nil, "", start, end, derr
		}
		dump = d
		name = "the dump " + m.dump
		q = calibrate.NewEngineQuerier(m.dump, d)
		start, end = time.UnixMilli(d.MinT).UTC(), time.UnixMilli(d.MaxT).UTC()
		if m.start == "" && m.end == "" && d.MinT == d.MaxT {
			return nil, "", start, end, fmt.Errorf("%s: every sample is at %s: a dump needs samples over a window (several scrapes)", m.dump, start.Format(time.RFC3339))
		}
	}
	if m.start != "" {
		if start, err = parseWhen(m.start, now); err != nil {
			return nil, "", start, end, fmt.Errorf("--start: %w", err)
		}
	}
	if m.end != "" {
		if end, err = parseWhen(m.end, now); err != nil {
			return nil, "", start, end, fmt.Errorf("--end: %w", err)
		}
	}
	if !end.After(start) {
		return nil, "", start, end, fmt.Errorf("--end %s is not after --start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	if dump != nil {
		first, last := time.UnixMilli(dump.MinT).UTC(), time.UnixMilli(dump.MaxT).UTC()
		if end.Before(first) || start.After(last) {
			return nil, "", start, end, fmt.Errorf("--start %s and --end %s: the window holds no sample of %s (%s to %s)",
				start.Format(time.RFC3339), end.Format(time.RFC3339), m.dump, first.Format(time.RFC3339), last.Format(time.RFC3339))
		}
	}
	return q, name, start, end, nil
}

// parseWhen reads a time: RFC 3339, Unix seconds, "now", or "now-DURATION" where
// DURATION is a Go duration or a number of days ("7d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	if rest, ok := strings.CutPrefix(s, "now-"); ok {
		var d time.Duration
		if days, ok := strings.CutSuffix(rest, "d"); ok {
			n, err := strconv.ParseFloat(days, 64)
			if err != nil || n < 0 {
				return time.Time{}, fmt.Errorf("%q: want now-Nd with N >= 0", s)
			}
			d = time.Duration(n * 24 * float64(time.Hour))
		} else {
			var err error
			if d, err = time.ParseDuration(rest); err != nil || d < 0 {
				return time.Time{}, fmt.Errorf("%q: want now-DURATION, for example now-7d or now-36h", s)
			}
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return time.UnixMilli(int64(f * 1000)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-03-02T00:00:00Z), Unix seconds, now or now-DURATION", s)
}

// interruptible returns a context cancelled on Ctrl-C or SIGTERM.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func runCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", "(--prometheus URL --start T [--end T] | --dump FILE) [--out sim.yaml]", stderr)
	var src metricsSource
	src.register(fs)
	var opt calibrate.Options
	fs.DurationVar(&opt.Step, "step", time.Minute, "interval length for utilisation and the latency histogram; at least two scrapes")
	fs.Float64Var(&opt.LowUtilisation, "low-utilisation", 0.3, fmt.Sprintf("only intervals at or below this utilisation, and of those the ones whose requests waited for a slot at most %g%% of the service time, feed the distribution fit", 100*calibrate.MaxWaitShare))
	fs.Float64Var(&opt.MinRequests, "min-requests", 1000, "fewest completed requests the window must hold, and the intervals the mean service time is taken from when requests timed out")
	fs.Float64Var(&opt.MinLowRequests, "min-low-requests", 500, "fewest completed requests the low-utilisation intervals must hold; with fewer that hardly waited, the distribution is fitted to this many that waited least")
	out := fs.String("out", "-", "output sim config (YAML, loads with intelliscale sim --config), written atomically; - is standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	var g outpath.Guard
	inputFlags(&g, fs, "dump")
	if err := checkOutput(&g, fs, "out", *out); err != nil {
		return err
	}
	// Zero would mean the library's default, not what was asked for.
	switch {
	case opt.Step <= 0:
		return fmt.Errorf("--step %v: must be > 0", opt.Step)
	case !(opt.LowUtilisation > 0 && opt.LowUtilisation <= 1):
		return fmt.Errorf("--low-utilisation %v: must be in (0, 1]", opt.LowUtilisation)
	case !(opt.MinRequests > 0) || math.IsInf(opt.MinRequests, 1):
		return fmt.Errorf("--min-requests %v: must be finite and > 0", opt.MinRequests)
	case !(opt.MinLowRequests > 0) || math.IsInf(opt.MinLowRequests, 1):
		return fmt.Errorf("--min-low-requests %v: must be finite and > 0", opt.MinLowRequests)
	}
	ctx, cancel := interruptible()
	defer cancel()
	q, name, start, end, err := src.open(ctx)
	if err != nil {
		return orInterrupted(ctx, err)
	}
	opt.Start, opt.End = start, end
	fit, err := calibrate.Calibrate(ctx, q, opt)
	err = optionFlag(err)
	if errors.Is(err, calibrate.ErrNoData) || errors.Is(err, calibrate.ErrTooLittleData) || errors.Is(err, calibrate.ErrInconsistent) {
		err = fmt.Errorf("%s: %w", name, err)
	}
	if err != nil {
		return orInterrupted(ctx, err)
	}
	y, err := fit.YAML(name)
	if err != nil {
		return err
	}
	for _, w := range fit.Warnings {
		fmt.Fprintf(stderr, "calibrate: warning: %s: %s\n", name, w)
	}
	if *out == "-" {
		_, err = stdout.Write(y)
		return err
	}
	if err := atomicfile.Write(*out, y); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "calibrate: %s: %s service, mean %.4g s, %d slots, start-up %.3g s; wrote %s\n",
		name, fit.Family.Kind, fit.MeanService.V, int(fit.Slots.V), fit.Startup.V, *out)
	return nil
}

// optionFlag names the flag in an error of live/calibrate about one of its options
// (a *yamldoc.FieldError at "step", "low_utilisation", ...) as the user typed it:
// "--step: 2m: must be > 0 and at most half the window (3m)".
func optionFlag(err error) error {
	fe, ok := err.(*yamldoc.FieldError)
	if !ok || fe.Path == "" {
		return err
	}
	c := *fe
	c.Path = "--" + strings.ReplaceAll(fe.Path, "_", "-")
	return &c
}

// orInterrupted turns err into "interrupted; nothing written" when ctx was cancelled
// (Ctrl-C).
func orInterrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.New("interrupted; nothing written")
	}
	return err
}

// traceImportMetrics imports a trace from a range query (traceImport with
// --prometheus or --dump).
func traceImportMetrics(src metricsSource, query string, step time.Duration, stderr io.Writer) (*traces.Trace, error) {
	if step <= 0 {
		return nil, fmt.Errorf("--step %v: must be > 0", step)
	}
	ctx, cancel := interruptible()
	defer cancel()
	q, name, start, end, err := src.open(ctx)
	if err != nil {
		return nil, orInterrupted(ctx, err)
	}
	if query == "" {
		query = calibrate.DefaultRateQuery(step)
	}
	// The trace is named after its source, which its errors and warnings name.
	tr, info, err := calibrate.ImportTrace(ctx, q, name, query, start, end, step)
	if err != nil {
		return nil, orInterrupted(ctx, optionFlag(err))
	}
	if info.Gaps > 0 {
		fmt.Fprintf(stderr, "trace import: %s: %d of %d steps had no sample (gaps, filled with 0)\n", name, info.Gaps, info.Buckets)
	}
	return tr, nil
}
