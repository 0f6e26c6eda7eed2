package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/intelliscale/intelliscale/internal/atomicfile"
	"github.com/intelliscale/intelliscale/traces"
)

func init() {
	register(command{name: "trace", summary: "synthesize, import and inspect request traces", run: runTrace})
}

var traceSubcommands = []struct{ name, synopsis string }{
	{"synth", "--spec FILE.yaml | --default NAME  [--seed N] [--out FILE.csv]"},
	{"import", "(--in FILE [format flags] | --prometheus URL --start T [--end T] | --dump FILE) [--query EXPR] [--step D] [--scale-mean R | --scale-peak R] [--resample D] [--out FILE.csv]"},
	{"info", "[format flags] FILE"},
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
	spec := fs.String("spec", "", "YAML synthesis spec (traces.SynthSpec; unknown keys are errors) (default: none, give --spec or --default)")
	def := fs.String("default", "", "built-in trace: "+strings.Join(traceDefaultNames(), ", ")+" (default: none)")
	seed := fs.Uint64("seed", traces.DefaultSeed, "random seed; the same seed gives the same trace")
	out := fs.String("out", "-", "output CSV (seconds,rate), written atomically; - is standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := traceNoArgs(fs); err != nil {
		return err
	}
	var s traces.SynthSpec
	switch {
	case (*spec == "") == (*def == ""):
		return fmt.Errorf("give exactly one of --spec FILE and --default NAME")
	case *spec != "":
		f, err := os.Open(*spec)
		if err != nil {
			return err
		}
		s, err = traces.DecodeSynthSpec(f, filepath.Base(*spec))
		f.Close()
		if err != nil {
			return err
		}
	default:
		var err error
		if s, err = traces.DefaultSpec(*def); err != nil {
			return fmt.Errorf("--default: %w", err)
		}
	}
	t, err := traces.Synthesize(s, *seed)
	if err != nil {
		return err
	}
	return traceWrite(*out, t, stdout)
}

// traceLoadFlags are the flags that say how to read a trace file.
type traceLoadFlags struct {
	format, timeColumn, valueColumn, timeFormat, values string
	bucket                                              time.Duration
	maxBytes                                            int64
	maxMalformed                                        int
}

func (l *traceLoadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "format", "", "csv, counts or accesslog (default: from the extension, then the first line)")
	fs.StringVar(&l.timeColumn, "time-column", "", "CSV time column: header name or 0-based index (default: auto-detect)")
	fs.StringVar(&l.valueColumn, "value-column", "", "CSV value column: header name or 0-based index (default: auto-detect)")
	fs.StringVar(&l.timeFormat, "time-format", "", "CSV timestamps: iso8601, unix, seconds or index (default: auto-detect)")
	fs.DurationVar(&l.bucket, "bucket", 0, "bucket length: CSV (needed for index timestamps; else inferred) and count files (1s when 0) (default 0)")
	fs.StringVar(&l.values, "values", "", "CSV values: count (per bucket) or rate (req/s) (default: rate for a column named rate, else count)")
	fs.Int64Var(&l.maxBytes, "max-bytes", traces.DefaultMaxBytes, "refuse files larger than this many bytes; -1 for no limit")
	fs.IntVar(&l.maxMalformed, "max-malformed", 0, "access logs: malformed lines skipped before failing; -1 for any number (default 0)")
}

func (l *traceLoadFlags) load(path string) (*traces.Trace, error) {
	return traces.LoadFile(path, traces.LoadOptions{
		Format:       l.format,
		CSV:          traces.CSVOptions{TimeColumn: l.timeColumn, ValueColumn: l.valueColumn, TimeFormat: l.timeFormat, Bucket: l.bucket, Values: l.values},
		CountsBucket: l.bucket,
		AccessLog:    traces.AccessLogOptions{MaxMalformed: l.maxMalformed},
		MaxBytes:     l.maxBytes,
	})
}

func traceImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trace import", traceSynopsis("import"), stderr)
	in := fs.String("in", "", "input trace: .csv, .txt counts, .log access log, .tbz2/.tar.bz2 archive (required)")
	out := fs.String("out", "-", "output CSV (seconds,rate or timestamp,rate), written atomically; - is standard output")
	var lf traceLoadFlags
	lf.register(fs)
	scaleMean := fs.Float64("scale-mean", 0, "rescale to this mean rate, req/s (default 0: keep)")
	scalePeak := fs.Float64("scale-peak", 0, "rescale to this peak rate, req/s (default 0: keep)")
	resample := fs.Duration("resample", 0, "resample to this bucket length, conserving requests (default 0: keep)")
	var src metricsSource
	src.register(fs)
	query := fs.String("query", "", "with --prometheus or --dump: PromQL for the request rate as one series, req/s (default sum(rate(http_requests_total[W])), W the step but at least 1m)")
	step := fs.Duration("step", time.Minute, "with --prometheus or --dump: bucket length of the trace (the query's resolution)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := traceNoArgs(fs); err != nil {
		return err
	}
	fromMetrics := src.prometheus != "" || src.dump != ""
	switch {
	case fromMetrics && *in != "":
		return errors.New("--in FILE and --prometheus/--dump are exclusive")
	case *in == "" && !fromMetrics:
		return errors.New("--in FILE is required (or --prometheus URL or --dump FILE)")
	case *out != "-" && (*out == *in || *out == src.dump):
		return fmt.Errorf("--out %s is the input: refusing to overwrite it", *out)
	case *scaleMean != 0 && *scalePeak != 0:
		return errors.New("--scale-mean and --scale-peak are exclusive")
	case *scaleMean < 0 || *scalePeak < 0 || *resample < 0:
		return errors.New("--scale-mean, --scale-peak and --resample must be >= 0")
	}
	var t *traces.Trace
	var err error
	if fromMetrics {
		t, err = traceImportMetrics(src, *query, *step, stderr)
	} else {
		t, err = lf.load(*in)
	}
	if err != nil {
		return err
	}
	if *resample > 0 {
		if t, err = traces.Resample(t, *resample); err != nil {
			return err
		}
	}
	if *scaleMean > 0 {
		t, err = traces.ScaleMean(t, *scaleMean)
	} else if *scalePeak > 0 {
		t, err = traces.ScalePeak(t, *scalePeak)
	}
	if err != nil {
		return err
	}
	return traceWrite(*out, t, stdout)
}

func traceInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trace info", traceSynopsis("info"), stderr)
	var lf traceLoadFlags
	lf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want one FILE, got %d arguments", fs.NArg())
	}
	t, err := lf.load(fs.Arg(0))
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
	fmt.Fprintf(tw, "zero buckets\t%d\n", st.Zero)
	return tw.Flush()
}

func traceNoArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func traceDefaultNames() []string {
	var names []string
	for _, s := range traces.DefaultSpecs() {
		names = append(names, s.Name)
	}
	return names
}

// traceWrite writes t as CSV to path ("-": stdout) through a temporary file in the
// same directory renamed into place, so a failed write leaves no half-written file.
func traceWrite(path string, t *traces.Trace, stdout io.Writer) error {
	if path == "-" {
		return traces.WriteCSV(stdout, t)
	}
	return atomicfile.WriteFunc(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		if err := traces.WriteCSV(bw, t); err != nil {
			return err
		}
		return bw.Flush()
	})
}
