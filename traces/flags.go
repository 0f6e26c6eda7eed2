package traces

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// FlagGroup selects the flags BindFlags registers.
type FlagGroup int

// Flag groups; combine with |.
const (
	// FlagOrigin: --trace FILE, --builtin NAME, --synth SPEC.yaml, --trace-seed N.
	FlagOrigin FlagGroup = 1 << iota
	// FlagLoad: how a file is read: --format, --time-column, --value-column,
	// --time-format, --values, --bucket, --max-bytes, --max-malformed.
	FlagLoad
	// FlagCrop: --start, --end, --length.
	FlagCrop
	// FlagScale: --resample, --scale-mean, --scale-peak.
	FlagScale
	// FlagWindow: --skip, --length, the crop of a command whose --start and --end
	// mean something else (trace import: a metrics query's window). --skip is Start;
	// --length is cut at the end of the trace instead of refused, and must be at
	// least one bucket. Like FlagCrop's, the window is rounded out to whole buckets.
	// Exclusive with FlagCrop.
	FlagWindow
	// FlagShape is FlagCrop and FlagScale.
	FlagShape = FlagCrop | FlagScale
	// FlagAll is every group.
	FlagAll = FlagOrigin | FlagLoad | FlagShape
)

// Flags is a Source bound to command-line flags. The flag names are the YAML keys
// with dashes (scale_mean is --scale-mean), except file (--trace), seed
// (--trace-seed) and, under FlagWindow, start (--skip), so a new option is added to
// Source and here, once for every command.
type Flags struct {
	// Notes, when set, is told what reading and shaping the trace chose or dropped
	// that the trace does not show, one line each, naming the file or the flag: the
	// columns a CSV file's header was read by, malformed lines skipped, a crop
	// rounded out to whole buckets, the end of the trace a resample dropped; and,
	// as "warning:", a rescale that makes each request of a sparse count file a
	// burst.
	Notes func(note string)

	src       Source
	synthFile string
	groups    FlagGroup
}

// BindFlags registers the flags of groups on fs.
func BindFlags(fs *flag.FlagSet, groups FlagGroup) *Flags {
	f := &Flags{groups: groups}
	s := &f.src
	if groups&FlagOrigin != 0 {
		var names []string
		for _, sp := range DefaultSpecs() {
			names = append(names, sp.Name)
		}
		fs.StringVar(&s.File, "trace", "", "trace file: CSV, per-bucket counts, access log, Prometheus query_range JSON answer, .tbz2 archive of one (default: none)")
		fs.StringVar(&s.Builtin, "builtin", "", "built-in synthetic trace instead of a file: "+strings.Join(names, ", ")+" (default: none)")
		fs.StringVar(&f.synthFile, "synth", "", "synthetic trace spec, YAML (traces.SynthSpec) instead of a file (default: none)")
		fs.Uint64Var(&s.Seed, "trace-seed", DefaultSeed, "seed of a built-in or synthetic trace, at least 1")
	}
	if groups&FlagLoad != 0 {
		fs.StringVar(&s.Load.Format, "format", "", formatNamesList+" (promjson: the JSON answer of Prometheus' /api/v1/query_range, request rates, series summed) (default: from the extension, .json for promjson, then the first line)")
		fs.StringVar(&s.Load.CSV.TimeColumn, "time-column", "", "CSV time column: header name or 0-based index (default: auto-detect)")
		fs.StringVar(&s.Load.CSV.ValueColumn, "value-column", "", "CSV value column: header name or 0-based index (default: the column named like requests, count, value, hits or rate, else the only other numeric column)")
		fs.StringVar(&s.Load.CSV.TimeFormat, "time-format", "", "CSV timestamps: iso8601, unix, unix_ms, seconds or index (default: auto-detect; a column named minute, hours, ms... is an offset in that unit, minute_index... a bucket number)")
		fs.DurationVar(&s.Load.CSV.Bucket, "bucket", 0, "bucket length: CSV (needed for index timestamps without a unit; else inferred) and count files (1s when 0) (default 0)")
		fs.StringVar(&s.Load.CSV.Values, "values", "", "CSV values: count (per bucket) or rate (req/s) (default: rate for a column named rate, rps, *per_second, *rate(...) or */s, else count)")
		fs.Int64Var(&s.Load.MaxBytes, "max-bytes", DefaultMaxBytes, "refuse files larger than this many bytes; -1 for no limit")
		fs.IntVar(&s.Load.AccessLog.MaxMalformed, "max-malformed", 0, "access logs: malformed lines skipped before failing; -1 for any number (default 0)")
	}
	if groups&FlagScale != 0 {
		fs.DurationVar(&s.Resample, "resample", 0, "resample to this bucket length, conserving requests; an end of the trace shorter than one bucket is dropped (default 0: keep)")
	}
	if groups&FlagCrop != 0 {
		fs.DurationVar(&s.Start, "start", 0, "crop: start offset into the trace, rounded down to a whole bucket (default 0)")
		fs.DurationVar(&s.End, "end", 0, "crop: end offset into the trace, rounded up to a whole bucket, exclusive with --length (default 0: to the end)")
		fs.DurationVar(&s.Length, "length", 0, "crop: length of the window from --start, its end rounded up to a whole bucket (default 0: to the end)")
	}
	if groups&FlagWindow != 0 {
		s.lengthAtMost = true
		fs.DurationVar(&s.Start, "skip", 0, "crop: drop this much from the beginning of the trace (a Go duration: 24h, 90m), rounded down to whole buckets (--skip 90s of 1m buckets drops 1m), before any rescale (default 0)")
		fs.DurationVar(&s.Length, "length", 0, "crop: keep the window of this length from --skip (a Go duration: 72h), rounded out to whole buckets (--length 61s of 1m buckets keeps 2m), or the rest of the trace if shorter, before any rescale; at least one bucket (default 0: to the end)")
	}
	if groups&FlagScale != 0 {
		fs.Float64Var(&s.ScaleMean, "scale-mean", 0, "rescale to this mean rate, req/s (default 0: keep)")
		fs.Float64Var(&s.ScalePeak, "scale-peak", 0, "rescale to this peak rate, req/s (default 0: keep)")
	}
	return f
}

// Source returns the source the flags name, validated. file, when not empty, is the
// command's own file argument (for a command without FlagOrigin); errors name the
// flags.
func (f *Flags) Source(file string) (Source, error) {
	s := f.src
	if file != "" {
		s.File = file
	}
	if err := f.maxBytes(&s); err != nil {
		return Source{}, err
	}
	if f.groups&FlagOrigin != 0 && s.Seed == 0 {
		// The flag's default is DefaultSeed, so a 0 was given (as --trace-seed or
		// an alias of it), and Validate would take it for unset: seed 1.
		return Source{}, flagErrors(yamldoc.Errorf("seed", "0 stands for the default seed %d; give a seed of at least 1", DefaultSeed), f.groups)
	}
	if f.synthFile != "" {
		spec, err := ReadSynthSpec(f.synthFile)
		if err != nil {
			return Source{}, fmt.Errorf("--synth: %w", err)
		}
		s.Synth = &spec
	}
	if s.File == "" && s.Builtin == "" && s.Synth == nil {
		if f.groups&FlagOrigin != 0 {
			return Source{}, errors.New("no trace: give --trace FILE, --builtin NAME or --synth SPEC.yaml")
		}
		return Source{}, errors.New("no trace file given")
	}
	if err := s.Validate(); err != nil {
		return Source{}, flagErrors(err, f.groups)
	}
	return s, nil
}

// Trace is Source(file) then Source.Trace, with errors naming the flags.
func (f *Flags) Trace(file string) (*Trace, error) {
	s, err := f.Source(file)
	if err != nil {
		return nil, err
	}
	tr, err := s.trace(f.notes())
	if err != nil {
		return nil, flagErrors(err, f.groups)
	}
	return tr, nil
}

// CropOffset is where the crop of the flags (--start or --skip) began when tr,
// the trace Trace returned, has no wall-clock start, and 0 when it has one
// (Source.CropOffset).
func (f *Flags) CropOffset(tr *Trace) time.Duration { return f.src.CropOffset(tr) }

// CropStart is where the crop of the flags (--start or --skip) begins in the trace
// read (Source.CropStart).
func (f *Flags) CropStart(tr *Trace) time.Duration { return f.src.CropStart(tr) }

// Shape applies the shaping flags to tr, a trace from elsewhere; errors name the
// flags. Flags that say how to read a file are refused: there is none.
func (f *Flags) Shape(tr *Trace) (*Trace, error) {
	s := f.src
	if err := f.maxBytes(&s); err != nil {
		return nil, err
	}
	if s.Load != (LoadOptions{}) {
		return nil, flagErrors(yamldoc.Errorf("load", "only valid with a trace file"), f.groups&^FlagOrigin)
	}
	if err := s.validateShape(); err != nil {
		return nil, flagErrors(err, f.groups&^FlagOrigin)
	}
	out, err := s.shape(tr, f.notes())
	if err != nil {
		return nil, flagErrors(err, f.groups&^FlagOrigin)
	}
	return out, nil
}

// notes passes the notes of a load or a shape to f.Notes, naming their flags.
func (f *Flags) notes() notes {
	if f.Notes == nil {
		return nil
	}
	return func(field, text string) {
		if field != "" {
			name := func(p string) string { return flagName(p, f.groups) }
			text = name(field) + " " + nameFields(text, name)
		}
		f.Notes(text)
	}
}

// flagErrors renames the YAML paths of FieldErrors as the flags of groups that set
// them.
func flagErrors(err error, groups FlagGroup) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flagErrors(e, groups))
		}
		return errors.Join(out...)
	}
	fe, ok := err.(*yamldoc.FieldError)
	if !ok {
		return err
	}
	c := *fe
	if fe.Path == "" {
		if groups&FlagOrigin != 0 {
			c.Err = errors.New("give exactly one of --trace FILE, --builtin NAME and --synth SPEC.yaml")
		}
	} else {
		c.Path = flagName(fe.Path, groups)
	}
	return &c
}

// maxBytes reads --max-bytes into s: the flag's default (DefaultMaxBytes) becomes
// the unset 0, so that Load stays "unset" for builtin and synth, and a 0 given on
// the command line, which the options would take for unset (1 GiB), is refused.
func (f *Flags) maxBytes(s *Source) error {
	switch {
	case f.groups&FlagLoad != 0 && s.Load.MaxBytes == 0:
		return fmt.Errorf("--max-bytes: 0 would refuse every file; give a size in bytes (default %d), or -1 for no limit", DefaultMaxBytes)
	case s.Load.MaxBytes == DefaultMaxBytes:
		s.Load.MaxBytes = 0
	}
	return nil
}

// flagName is the flag of groups that sets the Source field at path p (a
// FieldError path, not empty).
func flagName(p string, groups FlagGroup) string {
	switch {
	case p == "file":
		return "--trace"
	case p == "seed":
		return "--trace-seed"
	case p == "start" && groups&FlagWindow != 0:
		return "--skip"
	case p == "load":
		return "format flags"
	case strings.HasPrefix(p, "synth"):
		return "--synth " + strings.TrimPrefix(strings.TrimPrefix(p, "synth"), ".")
	}
	p = strings.TrimPrefix(p, "load.")
	if p == "counts_bucket" {
		p = "bucket"
	}
	return "--" + strings.ReplaceAll(p, "_", "-")
}

// ReadSynthSpec reads a synthesis spec file strictly and validates it; errors name
// the file as path gives it, the line and the field.
func ReadSynthSpec(path string) (SynthSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return SynthSpec{}, err
	}
	return decodeSynthSpec(data, path)
}
