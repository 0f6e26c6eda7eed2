package traces

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/intelliscale/intelliscale/internal/repo"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// Source says where a trace comes from and how it is shaped before use. It is the
// one way to name traffic: experiment and training configs decode it from YAML, the
// commands bind it to flags (BindFlags) and the live load generator loads it, so a
// new format or option is added here once.
//
// Exactly one of Builtin, File and Synth is set. The trace is loaded, then resampled,
// then cropped, then rescaled, in that order:
//
//	builtin: bursty                                # a built-in trace
//	file: ${INTELLISCALE_TRACES}/nasa.csv          # a file, with its load options
//	load: {format: csv, value_column: requests}
//	synth: {duration: 48h, base_rate: 80}          # a synthetic spec (SynthSpec)
//	seed: 7                                        # of builtin and synth
//	resample: 1m
//	start: 24h
//	length: 48h                                    # or end: 72h
//	scale_mean: 60                                 # or scale_peak: 200
type Source struct {
	// Builtin names a built-in trace (DefaultSpecs), synthesized with Seed.
	Builtin string `yaml:"builtin,omitempty"`
	// File is a trace file: CSV, per-bucket counts, an access log, a Prometheus range
	// query's JSON answer, or a .tbz2 archive holding one (LoadFile). In a config, a relative path is taken from the config's
	// directory and set environment variables ($INTELLISCALE_TRACES, $NAME, ${NAME})
	// are expanded (ResolvePath); a file not found because its path refers to an
	// unset variable is an error naming the variable.
	File string `yaml:"file,omitempty"`
	// Load says how File is read; only valid with File. Default: everything detected.
	Load LoadOptions `yaml:"load,omitempty"`
	// Synth is a synthetic trace specification, synthesized with Seed.
	Synth *SynthSpec `yaml:"synth,omitempty"`
	// Seed of Builtin and Synth. Default DefaultSeed, which 0 stands for: a 0 written
	// in YAML (and --trace-seed 0) is refused, since it would run seed 1 unseen.
	Seed uint64 `yaml:"seed,omitempty" yamldoc:"nozero"`
	// Resample to buckets of this length (conserving requests), in [1ms, 31 days];
	// an end of the trace shorter than one such bucket is dropped (Resample).
	// Default 0: keep the trace's buckets.
	Resample time.Duration `yaml:"resample,omitempty"`
	// Start, End and Length crop the trace to [Start, End), or [Start, Start+Length),
	// offsets from its beginning that must fall inside it, rounded out to whole
	// buckets (Start down, the end up). End and Length are exclusive. Default: all
	// of it (0 means "from the beginning" and "to the end").
	Start  time.Duration `yaml:"start,omitempty"`
	End    time.Duration `yaml:"end,omitempty"`
	Length time.Duration `yaml:"length,omitempty"`
	// ScaleMean rescales the rates so that their mean is this many requests per
	// second, in (0, MaxRate]; ScalePeak so that their maximum is. Exclusive; a
	// rescale whose peak would exceed MaxRate is an error. Default 0: keep the rates.
	// Scaling up a file's small whole counts per bucket (a per-second log) makes
	// each request a burst: the notes warn of it (burstNote).
	ScaleMean float64 `yaml:"scale_mean,omitempty"`
	ScalePeak float64 `yaml:"scale_peak,omitempty"`

	// lengthAtMost (set by the FlagWindow flags, never by a config) makes Length an
	// upper bound: a window past the end of the trace is cut there, not refused, and
	// a Length shorter than one bucket is refused, not rounded up to one.
	lengthAtMost bool
}

// Bounds of Source fields.
const (
	MaxScaleRate    = MaxRate                    // requests per second, for ScaleMean and ScalePeak
	MaxResample     = 31 * 24 * time.Hour        // longest bucket Resample makes
	MaxOffset       = 100 * 366 * 24 * time.Hour // longest Start, End or Length
	minResample     = time.Millisecond
	maxLoadBucket   = 31 * 24 * time.Hour
	formatNamesList = "csv, counts, accesslog or promjson"
)

// Validate fills defaults (Seed) and rejects a source that names no trace or more
// than one, options that do not apply, and values out of bounds. Errors are
// *yamldoc.FieldError with paths relative to the source ("scale_mean"). It does not
// read the file; Trace does.
func (s *Source) Validate() error {
	var errs []error
	n := 0
	for _, set := range []bool{s.Builtin != "", s.File != "", s.Synth != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, yamldoc.Errorf("", "exactly one of builtin, file and synth must be set (found %d)", n))
	}
	if s.Builtin != "" {
		if _, err := DefaultSpec(s.Builtin); err != nil {
			errs = append(errs, &yamldoc.FieldError{Path: "builtin", Err: err})
		}
	}
	if s.Load != (LoadOptions{}) {
		if s.File == "" {
			errs = append(errs, yamldoc.Errorf("load", "only valid with file"))
		}
		errs = append(errs, yamldoc.Within("load", s.Load.Validate()))
	}
	if s.Synth != nil {
		errs = append(errs, yamldoc.Within("synth", s.Synth.Validate()))
	}
	if s.Seed == 0 && (s.Builtin != "" || s.Synth != nil) {
		s.Seed = DefaultSeed
	}
	errs = append(errs, s.validateShape())
	return errors.Join(errs...)
}

// validateShape checks resample, crop and scale.
func (s *Source) validateShape() error {
	var errs []error
	if s.Resample != 0 {
		errs = append(errs, yamldoc.InRange("resample", s.Resample, minResample, MaxResample))
	}
	errs = append(errs,
		yamldoc.InRange("start", s.Start, 0, MaxOffset),
		yamldoc.InRange("end", s.End, 0, MaxOffset),
		yamldoc.InRange("length", s.Length, 0, MaxOffset),
		yamldoc.InRange("scale_mean", s.ScaleMean, 0, MaxScaleRate),
		yamldoc.InRange("scale_peak", s.ScalePeak, 0, MaxScaleRate))
	if s.End != 0 && s.Length != 0 {
		errs = append(errs, yamldoc.Errorf("length", "end and length are exclusive"))
	}
	if s.End != 0 && s.End <= s.Start {
		errs = append(errs, yamldoc.Invalid("end", s.End, fmt.Sprintf("must be after start (%s)", yamldoc.Duration(s.Start))))
	}
	if s.ScaleMean != 0 && s.ScalePeak != 0 {
		errs = append(errs, yamldoc.Errorf("scale_peak", "scale_mean and scale_peak are exclusive"))
	}
	return errors.Join(errs...)
}

// Validate rejects unknown formats and out-of-range options. Paths are relative to
// the options ("format").
func (o *LoadOptions) Validate() error {
	var errs []error
	oneOf := func(path, v string, allowed ...string) {
		if v == "" {
			return
		}
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		errs = append(errs, yamldoc.Invalid(path, v, fmt.Sprintf("want one of %v", allowed)))
	}
	oneOf("format", o.Format, FormatCSV, FormatCounts, FormatAccessLog, FormatPromJSON)
	oneOf("time_format", o.CSV.TimeFormat, TimeISO8601, TimeUnix, TimeUnixMillis, TimeSeconds, TimeIndex)
	oneOf("values", o.CSV.Values, "count", "rate")
	errs = append(errs,
		yamldoc.InRange("bucket", o.CSV.Bucket, 0, maxLoadBucket),
		yamldoc.InRange("counts_bucket", o.CountsBucket, 0, maxLoadBucket),
		yamldoc.InRange("max_malformed", o.AccessLog.MaxMalformed, -1, 1<<40),
		yamldoc.InRange("max_bytes", o.MaxBytes, -1, 1<<50))
	return errors.Join(errs...)
}

// Name is what the source is called: the built-in's name, the file's name without
// directory and extension, or the synthetic spec's name.
func (s *Source) Name() string {
	switch {
	case s.Builtin != "":
		return s.Builtin
	case s.File != "":
		return baseName(filepath.Base(s.File))
	case s.Synth != nil && s.Synth.Name != "":
		return s.Synth.Name
	}
	return "synthetic"
}

// Trace validates the source and builds its trace: loaded (or synthesized), then
// resampled, cropped and rescaled as the source says. A crop that does not fall
// inside the trace is an error naming the field.
func (s Source) Trace() (*Trace, error) {
	return s.trace(nil)
}

// trace is Trace telling n what the load and the shaping chose or dropped.
func (s Source) trace(n notes) (*Trace, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var (
		tr  *Trace
		err error
	)
	switch {
	case s.Builtin != "":
		spec, _ := DefaultSpec(s.Builtin)
		tr, err = Synthesize(spec, s.Seed)
	case s.Synth != nil:
		tr, err = Synthesize(*s.Synth, s.Seed)
	default:
		tr, err = loadFile(s.File, s.Load, n)
		var fe *yamldoc.FieldError
		if errors.As(err, &fe) && fe == err {
			err = yamldoc.Within("load", err) // an option the file's format does not read
		}
		if errors.Is(err, fs.ErrNotExist) {
			// A file not found whose path holds a "$" ResolvePath could not expand:
			// name the reference, which is the likelier mistake.
			if _, verr := expandEnv(s.File, os.Getenv); verr != nil {
				return nil, yamldoc.Invalid("file", s.File, fmt.Sprintf("no such file, and %v", verr))
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return s.shape(tr, n)
}

// TraceNotes is Trace that also tells note what the load and the shaping chose or
// dropped that the trace does not show, and what they warn of (a rescale that makes
// each request a burst), one *yamldoc.FieldError each: its Path is the Source field
// it concerns ("scale_mean"), or "" for the loader's, which name the file. A config
// lifts them (yamldoc.Within) and locates them as its own errors.
func (s Source) TraceNotes(note func(error)) (*Trace, error) {
	return s.trace(func(field, text string) {
		if field != "" {
			text = nameFields(text, func(p string) string { return p + ":" })
		}
		note(&yamldoc.FieldError{Path: field, Err: errors.New(text)})
	})
}

// CropStart is where the crop of s begins in the trace read, rounded down to a
// whole bucket of tr, the trace s built (after any resample, as the crop is); 0
// without a crop.
func (s Source) CropStart(tr *Trace) time.Duration {
	if tr.Bucket <= 0 {
		return 0
	}
	return s.Start / tr.Bucket * tr.Bucket
}

// CropOffset is CropStart when tr, the trace s built, has no wall-clock start, and
// 0 when it has one (Start then moved with the crop). A trace without timestamps
// is taken to start at midnight; from the crop's offset its time of day runs on
// from the start of what was read instead of starting again at midnight, in sim
// --start as in an experiment's trace cropped with start:.
func (s Source) CropOffset(tr *Trace) time.Duration {
	if !tr.Start.IsZero() {
		return 0
	}
	return s.CropStart(tr)
}

// Shape applies the source's resample, crop and scale to tr, a trace that came from
// elsewhere (a metrics query, say); the source's origin fields are ignored.
func (s Source) Shape(tr *Trace) (*Trace, error) {
	if err := s.validateShape(); err != nil {
		return nil, err
	}
	return s.shape(tr, nil)
}

func (s Source) shape(tr *Trace, n notes) (*Trace, error) {
	missing := tr.missing
	tr.missing = nil
	var err error
	if s.Resample > 0 {
		in := tr
		if tr, err = Resample(in, s.Resample); err != nil {
			return nil, yamldoc.Within("resample", err)
		}
		if left := in.Duration() - tr.Duration(); left > 0 {
			n.add("resample", "%s: dropped the last %s of the trace (%.6g requests), less than a whole bucket", yamldoc.Duration(s.Resample), yamldoc.Duration(left), max(0, in.Total()-tr.Total()))
		}
	}
	var from time.Duration // where the crop starts in the trace read
	if tr, from, err = s.crop(tr, n); err != nil {
		return nil, err
	}
	if missing != nil {
		to := from + tr.Duration()
		// A bucket with no row reads as no requests; a scrape or logging outage
		// looks the same, and a policy run over it is judged on traffic that was
		// never zero. A run of SuspectZeroRun or more is warned of with every long
		// run of zeros (Stats.ZeroRunWarning); this tells of the shorter ones.
		if count, longest, line := missing.within(from, to); count > 0 && time.Duration(longest)*missing.bucket < SuspectZeroRun {
			n.add("", "%s: %d of the %d buckets read have no row and are taken as zero requests (the longest run, %s, ends before line %d): if the data is missing there rather than zero, crop around it",
				missing.file, count, int64((to-from)/missing.bucket), yamldoc.Duration(time.Duration(longest)*missing.bucket), line)
		}
	}
	in := tr
	switch {
	case s.ScaleMean > 0:
		if tr, err = ScaleMean(tr, s.ScaleMean); err != nil {
			return nil, yamldoc.Within("scale_mean", err)
		}
		s.burstNote(n, "scale_mean", s.ScaleMean, in, tr)
	case s.ScalePeak > 0:
		if tr, err = ScalePeak(tr, s.ScalePeak); err != nil {
			return nil, yamldoc.Within("scale_peak", err)
		}
		s.burstNote(n, "scale_peak", s.ScalePeak, in, tr)
	}
	return tr, nil
}

// Thresholds of burstNote's warning. A file's whole counts are a sample of the
// traffic, not its rate: a bucket holding m requests varies by about √m of them, and
// a rescale by f keeps that relative spread where traffic at f times the rate would
// vary by √(fm), f² times the variance for f times the requests, every request
// becoming f of them in its bucket.
const (
	// burstMedianCount: the median count of the buckets holding any request below
	// which they are warned of, 5. Below it a bucket's count varies by more than 45%
	// (√5/5) and one request is a fifth of it or more; above it lie the real traces
	// this project uses, whose median counts per bucket are 26 and more (NASA per
	// minute) to thousands (NYC taxi per 30 min). The buckets holding none are left
	// out: an outage (NASA's 38 h of zeros) is no sparse traffic.
	burstMedianCount = 5
	// burstFactor: the rescale above which it is warned of, 10: a request becomes
	// a burst of more than 10, and the spread is over √10 ≈ 3 times that of traffic
	// at the new rate; below it the trace stays near the scale it was counted at.
	burstFactor = 10
)

// burstNote tells n, under field (scale_mean or scale_peak, want), when rescaling
// in to out multiplied by more than burstFactor the whole counts of a file whose
// buckets holding any request hold a median below burstMedianCount: each request
// is then a burst of that many requests within its bucket, which no policy can
// follow, and a coarser bucket (resample) spreads them. Synthesized rates are the
// rate itself, not a count drawn from it: they are not warned of.
func (s Source) burstNote(n notes, field string, want float64, in, out *Trace) {
	if n == nil || s.Builtin != "" || s.Synth != nil {
		return
	}
	k := 0 // in's peak bucket, whose rate is not 0: all zeros are not rescaled
	for i, r := range in.Rates {
		if r > in.Rates[k] {
			k = i
		}
	}
	f := out.Rates[k] / in.Rates[k]
	if !(f > burstFactor) {
		return
	}
	// below[c] counts the buckets holding c < burstMedianCount requests.
	var below [burstMedianCount]int
	sec, busy := in.Bucket.Seconds(), 0
	for _, r := range in.Rates {
		c := r * sec
		whole := math.Round(c)
		if math.Abs(c-whole) > 1e-6*max(1, c) {
			return // rates, or counts a resample shared out: no sample of whole requests
		}
		if whole > 0 {
			busy++
		}
		if whole < burstMedianCount {
			below[int(whole)]++
		}
	}
	// median is the median count (nearest rank, as Info's P50) of the m buckets
	// holding from requests or more, or burstMedianCount when it is that or more.
	median := func(from, m int) int {
		rank, seen := (m+1)/2, 0
		for c := from; c < burstMedianCount; c++ {
			if seen += below[c]; seen >= rank {
				return c
			}
		}
		return burstMedianCount
	}
	mb := median(1, busy)
	if mb >= burstMedianCount {
		return
	}
	b := yamldoc.Duration(in.Bucket)
	fix := ""
	for _, d := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
		if d > in.Bucket && d%in.Bucket == 0 {
			fix = fmt.Sprintf(" ({resample} %s, say)", yamldoc.Duration(d))
			if d == time.Minute {
				fix = " ({resample} 1m, say, or the control interval)"
			}
			break
		}
	}
	n.add(field, "%g: warning: multiplies the whole counts of the %s buckets by %.4g, and they are few (median %d per bucket, %d in the buckets holding any): each request becomes a burst of about %.0f requests within one %s bucket, which no autoscaling policy can follow; resample to a coarser bucket first%s",
		want, b, f, median(0, len(in.Rates)), mb, f, b, fix)
}

// nameFields writes each {field} of a note's text ("{resample}", another field of the
// source) as name(field) gives it: the flag (--resample) or the YAML key.
func nameFields(text string, name func(string) string) string {
	var out strings.Builder
	for {
		i := strings.IndexByte(text, '{')
		j := strings.IndexByte(text[max(i, 0):], '}')
		if i < 0 || j < 0 {
			break
		}
		j += i
		if p := text[i+1 : j]; p != "" && strings.Trim(p, "abcdefghijklmnopqrstuvwxyz_") == "" {
			out.WriteString(text[:i])
			out.WriteString(name(p))
		} else {
			out.WriteString(text[:j+1])
		}
		text = text[j+1:]
	}
	out.WriteString(text)
	return out.String()
}

// crop cuts tr to [Start, End) or [Start, Start+Length), rounded outwards to whole
// buckets (with lengthAtMost, to [Start, min(Start+Length, end of the trace))), and
// tells n when it rounded. It also returns where the cut starts in tr.
func (s Source) crop(tr *Trace, n notes) (*Trace, time.Duration, error) {
	if s.Start == 0 && s.End == 0 && s.Length == 0 {
		return tr, 0, nil
	}
	d := tr.Duration()
	show := yamldoc.Duration
	if s.Start >= d {
		return nil, 0, yamldoc.Invalid("start", s.Start, fmt.Sprintf("not inside the trace %q (%s long)", tr.Name, show(d)))
	}
	end, field := d, ""
	switch {
	case s.End > 0:
		end, field = s.End, "end"
	case s.Length > 0:
		end, field = s.Start+s.Length, "length"
		if s.lengthAtMost {
			if s.Length < tr.Bucket {
				return nil, 0, yamldoc.Invalid("length", s.Length, fmt.Sprintf("shorter than one bucket (%s) of the trace %q (%s long)", show(tr.Bucket), tr.Name, show(d)))
			}
			end = min(end, d)
		}
	}
	if end > d {
		v := s.End
		if field == "length" {
			v = s.Length
		}
		return nil, 0, yamldoc.Invalid(field, v, fmt.Sprintf("ends at %s, after the end of the trace %q (%s long)", show(end), tr.Name, show(d)))
	}
	from := s.Start / tr.Bucket * tr.Bucket
	to := min(d, (end+tr.Bucket-1)/tr.Bucket*tr.Bucket)
	switch {
	case to != end:
		v := s.End
		if field == "length" {
			v = s.Length
		}
		n.add(field, "%s: the window [%s, %s) rounded out to [%s, %s), whole buckets of %s", show(v), show(s.Start), show(end), show(from), show(to), show(tr.Bucket))
	case from != s.Start:
		n.add("start", "%s rounded down to %s, whole buckets of %s", show(s.Start), show(from), show(tr.Bucket))
	}
	out, err := Slice(tr, from, to)
	return out, from, err
}

// notes is told what reading or shaping a trace chose or dropped that the trace
// itself does not show (Flags.Notes): field is the Source field it concerns, as a
// FieldError path ("start", "resample"), and text then starts with the field's
// value, and names any other field it mentions as {field} ("{resample}"), which
// the flags write as a flag and a config as a key (nameFields); or field is "" and
// text, from the file's loader, names the file. A nil notes drops them.
type notes func(field, text string)

func (n notes) add(field, format string, args ...any) {
	if n != nil {
		n(field, fmt.Sprintf(format, args...))
	}
}

// ResolvePath makes a trace file path named in a config usable: environment
// variables written $NAME or ${NAME} are expanded and a relative result is taken from
// base, the config file's directory. $INTELLISCALE_TRACES, when unset, is the shared
// traces folder beside the checkout holding base. Only set variables are expanded
// (an empty one counts as unset): a reference to an unset variable, and a "$" that
// starts no reference ("$1", "$$", a trailing "$"), is left as written, never
// dropped, so that a file really named with a "$" still loads and a mistaken
// reference fails in Source.Trace with an error naming it ("$NOPE_VAR is not set").
// ExpandPath is the same with that error up front. "" stays "".
func ResolvePath(p, base string) string {
	p, _ = ExpandPath(p, base)
	return p
}

// ExpandPath is ResolvePath that also returns an error naming the first reference it
// left as written ("$NOPE_VAR is not set").
func ExpandPath(p, base string) (string, error) {
	if p == "" {
		return "", nil
	}
	p, err := expandEnv(p, func(k string) string {
		v := os.Getenv(k)
		if k == "INTELLISCALE_TRACES" && v == "" {
			if root, rerr := repo.Root(base); rerr == nil {
				return filepath.Join(root, "..", "shared", "traces")
			}
		}
		return v
	})
	switch {
	case filepath.IsAbs(p):
	case err != nil:
		// Not cleaned: "$NOPE_VAR/../day.csv" must not become "day.csv". A leading
		// "./" of p, and a base of ".", add nothing but noise to the message.
		p = strings.TrimPrefix(p, "."+string(filepath.Separator))
		if base != "" && base != "." {
			p = strings.TrimSuffix(base, string(filepath.Separator)) + string(filepath.Separator) + p
		}
	default:
		p = filepath.Join(base, p)
	}
	return p, err
}

// expandEnv replaces each $NAME and ${NAME} in p (NAME letters, digits and
// underscores, not starting with a digit) by its value from lookup, where "" means
// unset. Every other "$" is kept as written; the error names the first of them.
func expandEnv(p string, lookup func(string) string) (string, error) {
	var (
		b     strings.Builder
		first error
	)
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	for i := 0; i < len(p); {
		if p[i] != '$' {
			b.WriteByte(p[i])
			i++
			continue
		}
		ref, name := p[i:i+1], ""
		switch _, n := utf8.DecodeRuneInString(p[i+1:]); {
		case strings.HasPrefix(p[i:], "${"):
			if j := strings.IndexByte(p[i:], '}'); j > 0 {
				ref, name = p[i:i+j+1], p[i+2:i+j]
			} else {
				ref = p[i:]
			}
		case i+1 < len(p) && isNameStart(p[i+1]):
			j := i + 2
			for j < len(p) && (isNameStart(p[j]) || '0' <= p[j] && p[j] <= '9') {
				j++
			}
			ref, name = p[i:j], p[i+1:j]
		default:
			ref = p[i : i+1+n] // "$1", "$$", "$" at the end
		}
		i += len(ref)
		if !validName(name) {
			b.WriteString(ref)
			fail(fmt.Errorf("%q is not a variable reference ($NAME or ${NAME}, NAME letters, digits and _ not starting with a digit)", ref))
			continue
		}
		v := lookup(name)
		if v == "" {
			b.WriteString(ref)
			fail(fmt.Errorf("$%s is not set", name))
			continue
		}
		b.WriteString(v)
	}
	return b.String(), first
}

func isNameStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// validName reports whether name is an environment variable name expandEnv expands.
func validName(name string) bool {
	if name == "" || !isNameStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isNameStart(c) && !('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
