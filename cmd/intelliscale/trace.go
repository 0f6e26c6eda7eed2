package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/intelliscale/intelliscale/internal/atomicfile"
	"github.com/intelliscale/intelliscale/internal/outpath"
	"github.com/intelliscale/intelliscale/live/calibrate"
	"github.com/intelliscale/intelliscale/traces"
)

func init() {
	register(command{name: "trace", summary: "synthesize, import and inspect request traces", run: runTrace})
}

var traceSubcommands = []struct{ name, synopsis string }{
	{"synth", "--synth FILE.yaml | --builtin NAME  [--trace-seed N] [--start D] [--end D | --length D] [--scale-mean R | --scale-peak R] [--out FILE.csv]"},
	{"import", "(--in FILE [format flags] | FILE [format flags] | --prometheus URL --start T [--end T] | --dump FILE) [--query EXPR] [--step D] [--resample D] [--skip D] [--length D] [--scale-mean R | --scale-peak R] [--out FILE.csv]"},
	{"info", "FILE [format flags]"},
}

func traceUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: intelliscale trace <subcommand> [flags]   (intelliscale trace <subcommand> --help shows its flags and defaults)")
	fmt.Fprintln(w, "\nsubcommands:")
	for _, s := range traceSubcommands {
		fmt.Fprintf(w, "  %-7s %s\n", s.name, s.synopsis)
	}
}

func runTrace(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		traceUsage(stderr)
		return errUsage
	}
	switch args[0] {
	case "synth":
		return traceSynth(args[1:], stdout, stderr)
	case "import":
		return traceImport(args[1:], stdout, stderr)
	case "info":
		return traceInfo(args[1:], stdout, stderr)
	case "-h", "--help", "-help", "help":
		traceUsage(stderr)
		return flag.ErrHelp
	}
	fmt.Fprintf(stderr, "intelliscale trace: unknown subcommand %q\n\n", args[0])
	traceUsage(stderr)
	return errUsage
}

func traceSynopsis(name string) string {
	for _, s := range traceSubcommands {
		if s.name == name {
			return s.synopsis
		}
	}
	return ""
}

func traceSynth(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trace synth", traceSynopsis("synth"), stderr)
	src := traces.BindFlags(fs, traces.FlagOrigin|traces.FlagShape)
	alias(fs, "spec", "synth")
	alias(fs, "default", "builtin")
	alias(fs, "seed", "trace-seed")
	out := fs.String("out", "-", "output CSV (seconds,rate), written atomically; - is standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	var g outpath.Guard
	inputFlags(&g, fs, "synth")
	if err := checkTraceOut(&g, fs, *out); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	t, err := untilInterrupted(ctx, func() (*traces.Trace, error) { return src.Trace("") })
	if err != nil {
		return err
	}
	return traceWrite(ctx, *out, t, stdout)
}

// alias registers name as another name of the flag called of. Giving both is an
// error naming both: the last would otherwise win unseen.
func alias(fs *flag.FlagSet, name, of string) {
	f := fs.Lookup(of)
	usage := "same as --" + of
	if typ, _ := flag.UnquoteUsage(f); typ != "" {
		usage += " (a `" + typ + "`)" // the type the help shows, which aliasValue hides
	}
	fs.Var(&aliasValue{Value: f.Value, fs: fs, alias: name, of: of}, name, usage)
	fs.Lookup(name).DefValue = "" // the help gives the default once, on --of
}

// aliasValue is the value of a flag known by two names, set through one of them; it
// refuses to be set when the other name was.
type aliasValue struct {
	flag.Value
	fs        *flag.FlagSet
	alias, of string // the names
	viaOf     bool   // set through of, not alias
}

func (a *aliasValue) Set(s string) error {
	other := a.of
	if a.viaOf {
		other = a.alias
	}
	if isSet(a.fs, other) {
		if a.viaOf {
			a.fs.Lookup(a.of).Value = a.Value // as registered, for the help printed next
		}
		return fmt.Errorf("--%s is another name of --%s: give only one of them", a.alias, a.of)
	}
	if !a.viaOf {
		// Through the alias: from now on the flag's own name refuses a value.
		o := a.fs.Lookup(a.of)
		o.Value = &aliasValue{Value: a.Value, fs: a.fs, alias: a.alias, of: a.of, viaOf: true}
	}
	return a.Value.Set(s)
}

func (a *aliasValue) IsBoolFlag() bool {
	b, ok := a.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func (a *aliasValue) String() string {
	if a.Value == nil { // the zero value the flag package makes for help
		return ""
	}
	return a.Value.String()
}

func traceImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trace import", traceSynopsis("import"), stderr)
	in := fs.String("in", "", "input trace: .csv, .txt counts, .log access log, .json Prometheus query_range answer, .tbz2/.tar.bz2 archive (required; or give FILE as the argument)")
	out := fs.String("out", "-", "output CSV (seconds,rate or timestamp,rate), written atomically; - is standard output")
	// --skip and --length crop (--start and --end are the metrics window's), after
	// --resample and before --scale-mean, so that the rescale is the kept window's.
	file := traces.BindFlags(fs, traces.FlagLoad|traces.FlagWindow|traces.FlagScale)
	var src metricsSource
	src.register(fs)
	query := fs.String("query", "", "with --prometheus or --dump: PromQL for the request rate as one series, req/s (default sum(rate(http_requests_total[W])), W the step but at least 1m)")
	step := fs.Duration("step", time.Minute, "with --prometheus or --dump: bucket length of the trace (the query's resolution)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// The input may also be given as an argument, as trace info takes it, with
	// flags after it as well as before.
	if *in == "" {
		var err error
		if *in, err = operand(fs); err != nil {
			return err
		}
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	fromMetrics := src.prometheus != "" || src.dump != ""
	switch {
	case fromMetrics && *in != "":
		return errors.New("--in FILE and --prometheus/--dump are exclusive")
	case *in == "" && !fromMetrics:
		return errors.New("--in FILE is required (or --prometheus URL or --dump FILE)")
	case *in != "" && (src.start != "" || src.end != ""):
		return errors.New("--start and --end are the window of --prometheus or --dump; to crop --in FILE, give --skip D and --length D")
	}
	var g outpath.Guard
	inputFlags(&g, fs, "in", "dump")
	if err := checkTraceOut(&g, fs, *out); err != nil {
		return err
	}
	// A Ctrl-C (or SIGTERM) while the trace is read or written stops the command
	// with a message and leaves --out as it was.
	ctx, stop := interruptible()
	defer stop()
	file.Notes = func(note string) { fmt.Fprintf(stderr, "trace import: %s\n", note) }
	t, err := untilInterrupted(ctx, func() (*traces.Trace, error) {
		if fromMetrics {
			t, err := traceImportMetrics(src, *query, *step, stderr)
			if err != nil {
				return nil, calibrate.ExplainNoData(err, src.dump, *query, *step)
			}
			return file.Shape(t)
		}
		return file.Trace(*in)
	})
	if err != nil {
		return err
	}
	warnZeroRun(t, stderr)
	if err := traceWrite(ctx, *out, t, stdout); err != nil {
		return err
	}
	// Where the data went, unless it went to standard output.
	if st, err := traces.Info(t); err == nil && *out != "-" {
		fmt.Fprintf(stderr, "trace import: wrote %s: %d buckets of %v, mean %.4g req/s\n", *out, st.Buckets, st.Bucket, st.Mean)
	}
	return nil
}

// warnZeroRun says on w when t holds a suspect run of zero buckets
// (traces.SuspectZeroRun or longer), which would train and score policies on an
// outage that may not be one.
func warnZeroRun(t *traces.Trace, w io.Writer) {
	if st, err := traces.Info(t); err == nil && st.ZeroRunWarning() != "" {
		fmt.Fprintf(w, "intelliscale trace import: warning: %s; crop around it (--skip, --length) if it is missing data.\n", st.ZeroRunWarning())
	}
}

func traceInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trace info", traceSynopsis("info"), stderr)
	src := traces.BindFlags(fs, traces.FlagLoad)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Flags may follow FILE too, as trace import takes them.
	file, err := operand(fs)
	if err != nil {
		return err
	}
	if file == "" {
		fs.Usage()
		return errors.New("want one FILE, got none")
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	src.Notes = func(note string) { fmt.Fprintf(stderr, "trace info: %s\n", note) }
	t, err := src.Trace(file)
	if err != nil {
		return err
	}
	st, err := traces.Info(t)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	start := "unknown"
	if !st.Start.IsZero() {
		start = st.Start.Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "name\t%s\n", st.Name)
	fmt.Fprintf(tw, "start\t%s\n", start)
	fmt.Fprintf(tw, "buckets\t%d × %v\n", st.Buckets, st.Bucket)
	fmt.Fprintf(tw, "duration\t%v (%.2f days)\n", st.Duration, st.Duration.Hours()/24)
	fmt.Fprintf(tw, "requests\t%.0f\n", st.Total)
	fmt.Fprintf(tw, "mean\t%.4g req/s\n", st.Mean)
	fmt.Fprintf(tw, "min\t%.4g req/s\n", st.Min)
	fmt.Fprintf(tw, "p50\t%.4g req/s\n", st.P50)
	fmt.Fprintf(tw, "p95\t%.4g req/s\n", st.P95)
	fmt.Fprintf(tw, "peak\t%.4g req/s\n", st.Peak)
	switch {
	case st.LongestZero >= traces.SuspectZeroRun:
		fmt.Fprintf(tw, "zero buckets\t%d (longest run %v, from %v in: missing data or an outage?)\n", st.Zero, st.LongestZero, st.LongestZeroAt)
	case st.LongestZero > st.Bucket:
		fmt.Fprintf(tw, "zero buckets\t%d (longest run %v, from %v in)\n", st.Zero, st.LongestZero, st.LongestZeroAt)
	default:
		fmt.Fprintf(tw, "zero buckets\t%d\n", st.Zero)
	}
	work := estimateWork(t)
	fmt.Fprintf(tw, "sim work\t%s\n", work)
	fmt.Fprintf(tw, "sim\t%s\n", simVerdict(work, st.Name))
	return tw.Flush()
}

// simVerdict says whether `sim` replays the whole trace at its default limit, by the
// check sim itself applies, and the way out when it does not.
func simVerdict(w simWork, traceName string) string {
	if w.check(traceName, false) == nil {
		return fmt.Sprintf("runs it (within its limit of %.3g simulated requests)", maxSimRequests)
	}
	if err := w.check(traceName, true); err != nil {
		return "refuses it even with --force: " + err.Error()
	}
	return fmt.Sprintf("refuses it without --force (over its limit of %.3g simulated requests): keep a window (--length on trace import or sim) or lower the rate (--scale-mean)", maxSimRequests)
}

// checkTraceOut checks --out of trace synth and import, where an empty path is a
// mistake (a quoting slip), not "no output": they have no other result.
func checkTraceOut(g *outpath.Guard, fs *flag.FlagSet, out string) error {
	if out == "" {
		return errors.New("--out: empty path: give a file, or - for standard output")
	}
	return checkOutput(g, fs, "out", out)
}

// errInterrupted is the error of a trace command stopped by a signal before it
// wrote its output.
var errInterrupted = errors.New("interrupted; nothing written")

// untilInterrupted returns what load returns, or errInterrupted as soon as ctx is
// done. The trace loaders take no context, and a load writes nothing, so an
// interrupted load is abandoned (the command exits) rather than waited for.
func untilInterrupted(ctx context.Context, load func() (*traces.Trace, error)) (*traces.Trace, error) {
	type result struct {
		t   *traces.Trace
		err error
	}
	done := make(chan result, 1)
	go func() {
		t, err := load()
		done <- result{t, err}
	}()
	select {
	case r := <-done:
		if ctx.Err() != nil {
			return nil, errInterrupted
		}
		return r.t, r.err
	case <-ctx.Done():
		return nil, errInterrupted
	}
}

// traceWrite writes t as CSV to path ("-": stdout) through a temporary file in the
// same directory renamed into place, so a failed write leaves no half-written file.
// When ctx is done (a Ctrl-C) the write stops: a file path is left as it was, the
// temporary file removed, and the error says so.
func traceWrite(ctx context.Context, path string, t *traces.Trace, stdout io.Writer) error {
	if path == "-" {
		bw := bufio.NewWriterSize(atomicfile.ContextWriter(ctx, stdout), 1<<16)
		err := traces.WriteCSV(bw, t)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil && ctx.Err() != nil {
			return errors.New("interrupted; standard output holds part of the trace")
		}
		return err
	}
	err := atomicfile.WriteContext(ctx, path, func(w io.Writer) error { return traces.WriteCSV(w, t) })
	if errors.Is(err, context.Canceled) {
		return errInterrupted
	}
	return err
}
