package traces

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// Time formats accepted in CSVOptions.TimeFormat.
const (
	TimeISO8601 = "iso8601" // 2015-02-26 21:42:53, 2015-02-26T21:42:53Z, RFC 3339; no zone means UTC
	TimeUnix    = "unix"    // seconds since 1970-01-01 UTC, optionally with a decimal fraction
	// TimeUnixMillis is milliseconds since 1970-01-01 UTC (JavaScript, Grafana and
	// many exporters), optionally with a decimal fraction.
	TimeUnixMillis = "unix_ms"
	TimeSeconds    = "seconds" // seconds since the start of the trace (what WriteCSV writes)
	TimeIndex      = "index"   // bucket number; needs CSVOptions.Bucket
)

// Value kinds accepted in CSVOptions.Values.
const (
	ValuesCount = "count" // requests per bucket; divided by the bucket length
	ValuesRate  = "rate"  // requests per second, taken as is
)

// CSVOptions says how to read a CSV trace. The zero value auto-detects everything,
// which reads the NASA, NAB and WriteCSV layouts as they are.
type CSVOptions struct {
	// TimeColumn is the header name (case-insensitive) or the 0-based index ("0") of
	// the time column. Default: the first column named timestamp, time, date, datetime,
	// seconds, unix, epoch, minute_index, second_index or index, or after a unit
	// (timeUnit: minute, hours, ms_index, ...); else column 0.
	TimeColumn string `yaml:"time_column,omitempty"`
	// ValueColumn is the header name or 0-based index of the value column. Default: the
	// first column named value, requests, rate, rps, count or requests_per_second, else
	// the first whose name speaks of requests (http_requests_total, req_count, hits:
	// isCountName), else the one column besides the time column holding a number in
	// the first data row; two or more such columns are an error. Without a header,
	// column 1 (or 0 when the time column is 1).
	ValueColumn string `yaml:"value_column,omitempty"`
	// TimeFormat is iso8601, unix, unix_ms, seconds or index. Default: index for a
	// column named *index; for a column named after a unit (ms, sec, second(s),
	// min, minute(s), hour(s)) an offset from the start in that unit, or with
	// _index (minute_index) a bucket number; unix for "unix" or "epoch"; otherwise
	// iso8601 when the first time value is not a number, and when it is, unix_ms
	// from 1e12 (September 2001 in milliseconds), unix from 1e9 (September 2001 in
	// seconds; 31 years as an offset), else seconds.
	TimeFormat string `yaml:"time_format,omitempty"`
	// Bucket is the bucket length. Required for index, except that a column named
	// after a unit and _index implies it (minute_index 60s, second_index 1s). For the
	// other formats a zero Bucket is inferred from the first two rows. Default 0
	// (infer).
	Bucket time.Duration `yaml:"bucket,omitempty"`
	// Values is count (per bucket) or rate (requests per second). Default: rate for a
	// column named rate, rps or *per_second, one named after a PromQL rate expression
	// (holding "rate(", which irate( also does: Grafana's CSV export names the column
	// after the query, "rate(http_requests_total[5m])") and one whose name ends in
	// "/s"; count otherwise.
	Values string `yaml:"values,omitempty"`
	// MaxBuckets bounds the trace length, gaps included. Default DefaultMaxBuckets.
	MaxBuckets int `yaml:"-"`
}

// LoadCSV reads a trace from CSV. The first row is a header when none of its fields is
// a number. Timestamps must be strictly increasing and fall on the bucket grid counted
// from the first row; buckets with no row (gaps) get rate 0. Values must be finite and
// >= 0. name is used in error messages (`name line N: ...`) and, without its
// directory and extension, as the trace name.
func LoadCSV(r io.Reader, name string, opt CSVOptions) (*Trace, error) {
	return loadCSV(r, name, opt, nil)
}

// loadCSV is LoadCSV telling n, for a file with a header, which columns it read.
func loadCSV(r io.Reader, name string, opt CSVOptions, n notes) (*Trace, error) {
	lr := &lineLimitReader{r: r, name: name, line: 1, max: MaxLineBytes}
	br := skipBOM(bufio.NewReaderSize(lr, 64<<10))
	var src io.Reader = br
	comma := sniffComma(br)
	if c, ok := excelSep(br); ok {
		// Excel's "sep=;" line names the separator; it is read as a comment, so that
		// line numbers stay those of the file.
		comma = c
		br.ReadString('\n')
		src = io.MultiReader(strings.NewReader("#\n"), br)
	}
	cr := csv.NewReader(src)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	cr.ReuseRecord = true

	readRecord := func() ([]string, error) {
		rec, err := cr.Read()
		if err == nil || err == io.EOF {
			return rec, err
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, err
		}
		var ce *csv.ParseError
		if errors.As(err, &ce) {
			if ce.StartLine > 0 && ce.StartLine < ce.Line {
				// An unbalanced quote: the row it opens in is the one to fix.
				return nil, lineErr(name, ce.StartLine, "%v: a quoted field of this row runs on to line %d", ce.Err, ce.Line)
			}
			return nil, lineErr(name, ce.Line, "%v", ce.Err)
		}
		return nil, &ParseError{Name: name, Err: err}
	}

	first, err := readRecord()
	if err == io.EOF {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("empty file: %w", ErrEmpty)}
	}
	if err != nil {
		return nil, err
	}
	firstLine, _ := cr.FieldPos(0)
	var header []string
	if isHeader(first) {
		for _, f := range first {
			header = append(header, strings.ToLower(strings.TrimSpace(f)))
		}
	}
	width := len(first)
	tc, err := pickColumn(opt.TimeColumn, "time", header, width, timeColumnNames, -1)
	if err != nil {
		return nil, &ParseError{Name: name, Line: firstLine, Err: err}
	}
	// The first data row, read now: with a header that names no value column, the
	// columns holding numbers in it are the candidates.
	rec, rerr := first, error(nil)
	if header != nil {
		rec, rerr = readRecord()
	}
	var vc int
	if opt.ValueColumn == "" && header != nil {
		var row []string
		if rerr == nil && len(rec) == width {
			row = rec
		}
		vc, err = valueColumn(header, tc, row)
	} else {
		vc, err = pickColumn(opt.ValueColumn, "value", header, width, valueColumnNames, tc)
	}
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, &ParseError{Name: name, Line: firstLine, Err: err}
	}
	if tc == vc {
		return nil, lineErr(name, firstLine, "time and value are both column %d", tc)
	}
	tname, vname := "", ""
	if header != nil {
		tname, vname = header[tc], header[vc]
	}

	format := opt.TimeFormat
	bucket := opt.Bucket
	if bucket < 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("bucket %v: must be >= 0", bucket)}
	}
	// A column named for a unit holds offsets in it (minutes), or with _index bucket
	// numbers (minute_index); seconds stays what WriteCSV writes.
	unit, unitIndex := timeUnit(tname)
	scale := time.Second // of seconds offsets
	switch {
	case format != "":
	case unit != 0 && unitIndex:
		format = TimeIndex
	case unit != 0:
		format, scale = TimeSeconds, unit
	case strings.HasSuffix(tname, "index"):
		format = TimeIndex
	case tname == "unix" || tname == "epoch":
		format = TimeUnix
	}
	if bucket == 0 && format == TimeIndex && unitIndex {
		bucket = unit
	}
	switch format {
	case "", TimeISO8601, TimeUnix, TimeUnixMillis, TimeSeconds:
	case TimeIndex:
		if bucket == 0 {
			if opt.TimeFormat == "" {
				return nil, &ParseError{Name: name, Err: fmt.Errorf("time column %q: bucket numbers (index), and its name gives no unit (like minute_index): give the bucket length (--bucket)", tname)}
			}
			return nil, &ParseError{Name: name, Err: errors.New("time format index needs a bucket length: give it (--bucket)")}
		}
	default:
		return nil, &ParseError{Name: name, Err: fmt.Errorf("time format %q: want iso8601, unix, unix_ms, seconds or index", format)}
	}
	values := opt.Values
	if values == "" {
		values = ValuesCount
		if isRateColumn(vname) {
			values = ValuesRate
		}
	}
	if values != ValuesCount && values != ValuesRate {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("values %q: want count or rate", values)}
	}
	// Which columns were read is said where it was a guess: a value column not
	// named as one (hits, req_count), or a time column read in a unit it names.
	if header != nil && (!slices.Contains(valueColumnNames, vname) || unit != 0 && !unitIndex && tname != "seconds") {
		n.add("", "%s: time from column %q, %ss from column %q", name, tname, values, vname)
	}
	maxBuckets := opt.MaxBuckets
	if maxBuckets <= 0 {
		maxBuckets = DefaultMaxBuckets
	}

	var (
		rates    []float64
		rows     int
		prevLine int
		prevOff  int64 // off of the previous row
		start    time.Time
		t0       time.Time // iso8601: time of the first row
		n0       int64     // unix, seconds (ns) and index (bucket number) of the first row
		first0   float64   // count of the first row, while the bucket is not known yet
		firstRaw string    // as written
		layout   = -1
		gaps     []missingRun // buckets with no row
	)
	for err = rerr; err == nil; rec, err = readRecord() {
		line, _ := cr.FieldPos(0)
		if header != nil && slices.EqualFunc(rec, header, func(f, h string) bool { return strings.EqualFold(strings.TrimSpace(f), h) }) {
			return nil, lineErr(name, line, "the header row again (first at line %d): files joined together? keep only the first header", firstLine)
		}
		if len(rec) != width {
			return nil, lineErr(name, line, "%d fields, but the first row (line %d) has %d: every row needs the same columns", len(rec), firstLine, width)
		}
		ts := strings.TrimSpace(rec[tc])
		if ts == "" {
			return nil, lineErr(name, line, "timestamp is empty: every row needs a time; delete the row (a spreadsheet's empty rows, \",,\", at the end?)")
		}
		if rows == 0 && format == "" {
			format = numericTimeFormat(ts)
		}
		// off is the row's distance from the first row: nanoseconds, or buckets for index.
		var off int64
		switch format {
		case TimeISO8601:
			t, perr := parseISO8601(ts, &layout)
			if perr != nil {
				return nil, lineErr(name, line, "timestamp %q: not ISO 8601 (like 2015-02-26 21:42:53 or 2015-02-26T21:42:53Z)", ts)
			}
			if rows == 0 {
				t0, start = t, t
			}
			off = int64(t.Sub(t0))
		case TimeUnix, TimeUnixMillis, TimeSeconds:
			parse := parseSeconds
			switch {
			case format == TimeUnixMillis, scale == time.Millisecond:
				parse = parseMillis
			case scale > time.Second:
				parse = func(s string) (int64, error) { return parseUnits(s, scale) }
			}
			ns, perr := parse(ts)
			if perr != nil {
				hint := ""
				if rows == 0 && scale == time.Second {
					hint = epochHint(ts, format) // later rows of another size are a mix
				}
				return nil, lineErr(name, line, "timestamp %q: %v%s", ts, perr, hint)
			}
			if rows == 0 {
				n0 = ns
				if format == TimeUnix || format == TimeUnixMillis {
					start = time.Unix(0, ns).UTC()
				}
				if opt.TimeFormat == "" && unit == 0 && format == TimeSeconds && ns >= int64(epochLike) {
					// Guessed from the number (below 1e9): a Unix time before September
					// 2001 reads as an offset, and the trace loses its wall-clock start.
					col := strconv.Quote(tname)
					if header == nil {
						col = strconv.Itoa(tc)
					}
					n.add("", "%s: time column %s: read as seconds from the start of the trace, whose date is then unknown; if they are Unix seconds (the first, %s, would be %s), give --time-format unix",
						name, col, ts, time.Unix(0, ns).UTC().Format(time.RFC3339))
				}
			}
			off = ns - n0
		case TimeIndex:
			k, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || k < -1<<53 || k > 1<<53 {
				return nil, lineErr(name, line, "bucket index %q: not an integer", ts)
			}
			if rows == 0 {
				n0 = k
			}
			off = k - n0
		}
		if rows > 0 && off <= prevOff {
			hint := ""
			switch {
			case rows == 1 && off < 0:
				hint = " (newest first? sort them oldest first)"
			case format == TimeISO8601 && !isoLayouts[layout].zoned && prevOff-off <= int64(time.Hour):
				hint = " (if these are local times, daylight saving time repeats an hour: export UTC or times with an offset)"
			}
			return nil, lineErr(name, line, "timestamp %q: not after the previous row (line %d): rows must be strictly increasing%s", ts, prevLine, hint)
		}
		var i int64
		if format == TimeIndex {
			i = off
		} else {
			if rows == 1 && bucket == 0 {
				bucket = time.Duration(off)
				if bucket > maxLoadBucket {
					return nil, lineErr(name, line, "timestamp %q: %v after the first row: a bucket longer than %v; give the bucket length (--bucket) if the rows are that far apart", ts, bucket, yamldoc.Duration(maxLoadBucket))
				}
				if values == ValuesCount {
					if err := checkRate(name, prevLine, values, firstRaw, first0/bucket.Seconds()); err != nil {
						return nil, err
					}
				}
			}
			if bucket > 0 {
				if off%int64(bucket) != 0 {
					return nil, lineErr(name, line, "timestamp %q: %v after the first row, not a multiple of the bucket %v", ts, time.Duration(off), bucket)
				}
				i = off / int64(bucket)
			}
		}
		if rows > 0 && i <= int64(len(rates)-1) {
			return nil, lineErr(name, line, "timestamp %q: not after the previous row (line %d): rows must be strictly increasing", ts, prevLine)
		}
		if i >= int64(maxBuckets) {
			return nil, lineErr(name, line, "timestamp %q: bucket %d: trace longer than %d buckets: %w", ts, i, maxBuckets, ErrTooLarge)
		}
		vs := strings.TrimSpace(rec[vc])
		v, perr := strconv.ParseFloat(vs, 64)
		if perr != nil {
			if vs == "" {
				return nil, lineErr(name, line, "%s is empty: leave the row out (a missing bucket reads as 0) or write 0", values)
			}
			if strings.ContainsAny(vs, ",'") {
				return nil, lineErr(name, line, "%s %q: not a number: write numbers with a decimal point and no thousands separators", values, vs)
			}
			return nil, lineErr(name, line, "%s %q: not a number", values, vs)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, lineErr(name, line, "%s %q: must be finite and >= 0", values, vs)
		}
		if v == 0 {
			v = 0 // -0 reads as 0
		}
		switch {
		case values == ValuesRate:
			err = checkRate(name, line, values, vs, v)
		case bucket > 0:
			err = checkRate(name, line, values, vs, v/bucket.Seconds())
		default: // the first row of counts: checked once the second row gives the bucket
			first0, firstRaw = v, vs
		}
		if err != nil {
			return nil, err
		}
		if g := i - int64(len(rates)); g > 0 {
			gaps = append(gaps, missingRun{from: int64(len(rates)), n: g, line: line})
		}
		for int64(len(rates)) < i {
			rates = append(rates, 0)
		}
		rates = append(rates, v)
		rows++
		prevLine, prevOff = line, off
	}
	if err != io.EOF {
		return nil, err
	}
	if rows == 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("no data rows: %w", ErrEmpty)}
	}
	if bucket == 0 {
		return nil, &ParseError{Name: name, Err: errors.New("one data row: cannot infer the bucket length; give it (--bucket)")}
	}
	if values == ValuesCount {
		s := bucket.Seconds()
		for i := range rates {
			rates[i] /= s
		}
	}
	t := &Trace{Name: baseName(name), Bucket: bucket, Rates: rates, Start: start}
	if err := t.Validate(); err != nil {
		return nil, &ParseError{Name: name, Err: err}
	}
	if gaps != nil {
		// A bucket with no row reads as no requests; a scrape or logging outage
		// looks the same. Source's shaping says so of the buckets it keeps.
		t.missing = &missingRows{file: name, bucket: bucket, runs: gaps}
	}
	return t, nil
}

// isRateColumn reports whether a value column's header (lower case) names a rate in
// requests per second: rate, rps, *per_second, a PromQL rate expression (rate( or
// irate(, as Grafana names a query's column) or a name ending in "/s" (req/s).
func isRateColumn(h string) bool {
	return h == "rate" || h == "rps" || strings.HasSuffix(h, "per_second") ||
		strings.Contains(h, "rate(") || strings.HasSuffix(h, "/s")
}

// checkRate refuses a value (a count or a rate, as read) whose rate in requests per
// second is above MaxRate, naming the line.
func checkRate(name string, line int, what, raw string, rate float64) error {
	if rate <= MaxRate {
		return nil
	}
	return lineErr(name, line, "%s %q: %.4g requests/s, above the limit of %g (traces.MaxRate)", what, raw, rate, MaxRate)
}

// WriteCSV writes t as `seconds,rate` rows: the start of each bucket in seconds from
// the start of the trace and its rate in requests per second. When t.Start is known
// the first column is instead `timestamp`, RFC 3339 with nanoseconds. LoadCSV with zero
// options reads the output back to the same Bucket, Rates and Start (a one-bucket
// trace needs CSVOptions.Bucket; a rate of -0 is written 0). Arrivals are not
// written.
func WriteCSV(w io.Writer, t *Trace) error {
	if err := t.Validate(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if t.Start.IsZero() {
		bw.WriteString("seconds,rate\n")
	} else {
		bw.WriteString("timestamp,rate\n")
	}
	var buf []byte
	for i, r := range t.Rates {
		buf = buf[:0]
		off := time.Duration(i) * t.Bucket
		if t.Start.IsZero() {
			buf = appendSeconds(buf, int64(off))
		} else {
			buf = t.Start.Add(off).AppendFormat(buf, time.RFC3339Nano)
		}
		buf = append(buf, ',')
		if r == 0 {
			r = 0 // not -0, which a file may hold and Validate lets pass
		}
		buf = strconv.AppendFloat(buf, r, 'g', -1, 64)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

var (
	timeColumnNames = []string{"timestamp", "time", "date", "datetime", "seconds", "unix", "epoch", "minute_index", "second_index", "index",
		"second", "minute", "minutes", "hour", "hours", "millisecond", "milliseconds", "seconds_index", "minutes_index", "hour_index", "hours_index",
		"millisecond_index", "milliseconds_index", "sec", "sec_index", "min", "min_index", "ms", "ms_index"}
	valueColumnNames = []string{"value", "requests", "rate", "rps", "count", "requests_per_second"}
	// countWords are the words of a column name that say it counts requests
	// (http_requests_total, req_count, hits); a word starting with req is one too.
	countWords = []string{"count", "counts", "cnt", "value", "values", "hit", "hits", "rate", "rps", "qps", "calls", "events", "arrivals"}
	// timeUnits are the units a time column's name may give, alone (an offset in
	// them) or before _index (a bucket number of that length).
	timeUnits = map[string]time.Duration{
		"ms": time.Millisecond, "millisecond": time.Millisecond, "milliseconds": time.Millisecond,
		"sec": time.Second, "second": time.Second, "seconds": time.Second,
		"min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
		"hour": time.Hour, "hours": time.Hour,
	}
)

// timeUnit returns the unit a time column's name h gives (0 if none) and whether
// h names a bucket index in it (minute_index) rather than an offset (minutes).
func timeUnit(h string) (unit time.Duration, index bool) {
	base, index := strings.CutSuffix(h, "_index")
	return timeUnits[base], index
}

// isCountName reports whether a column's header (lower case) speaks of requests or
// counts: one of its words is in countWords or starts with req, or it is a PromQL
// rate expression.
func isCountName(h string) bool {
	if strings.Contains(h, "rate(") {
		return true
	}
	for _, w := range strings.FieldsFunc(h, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if strings.HasPrefix(w, "req") || slices.Contains(countWords, w) {
			return true
		}
	}
	return false
}

// valueColumn picks the value column of a file whose header names none: the first
// column named in valueColumnNames, else the first whose name speaks of requests
// (isCountName), else the one column other than the time column tc that holds a
// number in the first data row, row (nil when there is none). Two or more such
// columns, none named for requests, are refused: which one is meant is not for the
// loader to guess. With none, it is the first column other than tc, whose values'
// errors then name their line.
func valueColumn(header []string, tc int, row []string) (int, error) {
	for _, k := range valueColumnNames {
		for i, h := range header {
			if h == k && i != tc {
				return i, unique("value", header, i)
			}
		}
	}
	for i, h := range header {
		if i != tc && isCountName(h) {
			return i, unique("value", header, i)
		}
	}
	var nums []int
	for i := range row {
		if _, err := strconv.ParseFloat(strings.TrimSpace(row[i]), 64); err == nil && i != tc {
			nums = append(nums, i)
		}
	}
	switch {
	case len(nums) == 1:
		return nums[0], nil
	case len(nums) > 1:
		var names []string
		for _, i := range nums {
			names = append(names, strconv.Quote(header[i]))
		}
		list := strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
		return 0, fmt.Errorf("value column: columns %s hold numbers, and none is named for requests (like requests, count, value, hits or rate): choose one (--value-column NAME)", list)
	}
	return pickColumn("", "value", header, len(header), nil, tc)
}

// parseUnits parses a decimal number of units longer than a second ("1.5" minutes)
// exactly, as nanoseconds.
func parseUnits(s string, unit time.Duration) (int64, error) {
	ns, err := parseSeconds(s)
	if err != nil {
		return 0, err
	}
	k := int64(unit / time.Second)
	if ns > math.MaxInt64/k || ns < -math.MaxInt64/k {
		return 0, errors.New("out of range")
	}
	return ns * k, nil
}

// sniffComma returns the field separator of a CSV file: a comma, unless the first
// line that is not blank or a comment has none but holds a semicolon or a tab (as
// spreadsheets in many locales and TSV exports write).
func sniffComma(br *bufio.Reader) rune {
	head, _ := br.Peek(4 << 10)
	line := firstDataLine(head)
	switch {
	case bytes.IndexByte(line, ',') >= 0:
	case bytes.IndexByte(line, ';') >= 0:
		return ';'
	case bytes.IndexByte(line, '\t') >= 0:
		return '\t'
	}
	return ','
}

// excelSep reports the separator named by a first line "sep=;" (as written for
// Excel), if there is one.
func excelSep(br *bufio.Reader) (rune, bool) {
	head, _ := br.Peek(8)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	} else {
		return 0, false
	}
	head = bytes.TrimRight(head, "\r")
	if len(head) != 5 || !bytes.EqualFold(head[:4], []byte("sep=")) {
		return 0, false
	}
	c := rune(head[4])
	if c == '"' || c == '#' || c <= ' ' && c != '\t' || c >= utf8.RuneSelf {
		return 0, false
	}
	return c, true
}

// isHeader reports whether a first CSV record is a header: none of its fields is a
// number or an ISO 8601 time. A first data row whose value is empty or not a number
// ("2015-02-26 20:42:53,-") is no header: its errors then name it.
func isHeader(rec []string) bool {
	for _, f := range rec {
		f = strings.TrimSpace(f)
		if _, err := strconv.ParseFloat(f, 64); err == nil {
			return false
		}
		if last := -1; f != "" {
			if _, err := parseISO8601(f, &last); err == nil {
				return false
			}
		}
	}
	return true
}

// pickColumn resolves a column given by name or index, or by default the first header
// name in known, or else the first column other than exclude.
func pickColumn(spec, what string, header []string, width int, known []string, exclude int) (int, error) {
	if spec != "" {
		if k, err := strconv.Atoi(spec); err == nil {
			if k < 0 || k >= width {
				return 0, fmt.Errorf("%s column %d: the first row has %d columns (0-based)", what, k, width)
			}
			return k, nil
		}
		if header == nil {
			return 0, fmt.Errorf("%s column %q: the file has no header row; give a 0-based index", what, spec)
		}
		for i, h := range header {
			if h == strings.ToLower(strings.TrimSpace(spec)) {
				return i, unique(what, header, i)
			}
		}
		return 0, fmt.Errorf("%s column %q: no such column (have %s)", what, spec, strings.Join(header, ", "))
	}
	for _, k := range known {
		for i, h := range header {
			if h == k && i != exclude {
				return i, unique(what, header, i)
			}
		}
	}
	for i := 0; i < width; i++ {
		if i != exclude {
			return i, nil
		}
	}
	hint := "for one count per line without times, give --format counts"
	switch {
	case len(header) == 1 && strings.ContainsAny(header[0], " \t"):
		hint = "columns separated by spaces? separate them by commas"
	case header != nil:
		// The counts format reads a header only as a comment.
		hint += " and make the header row a comment, # " + header[0] + ", or delete it"
	}
	return 0, fmt.Errorf("%s column: the first row has only %d column(s), want a time and a value column (%s)", what, width, hint)
}

// unique refuses the column header[i] when another column has its name: which
// one is meant is not for the loader to guess.
func unique(what string, header []string, i int) error {
	for j, h := range header {
		if j != i && h == header[i] {
			return fmt.Errorf("%s column %q: columns %d and %d both have this name; give a 0-based index", what, header[i], min(i, j), max(i, j))
		}
	}
	return nil
}

// isoLayouts are the ISO 8601 forms read (a fraction of a second is accepted after
// the seconds of any of them), and whether each carries a UTC offset.
var isoLayouts = []struct {
	layout string
	zoned  bool
}{
	{"2006-01-02 15:04:05", false},
	{"2006-01-02T15:04:05", false},
	{time.RFC3339Nano, true},
	{"2006-01-02 15:04:05Z07:00", true},
	{"2006-01-02T15:04", false},
	{"2006-01-02 15:04", false},
	{"2006-01-02", false},
	{"2006-01-02T15:04:05Z0700", true}, // basic offset: +0100 (Java, strftime %z)
	{"2006-01-02 15:04:05Z0700", true},
	{"2006-01-02T15:04:05Z07", true}, // hours only: +01 (PostgreSQL)
	{"2006-01-02 15:04:05Z07", true},
	{"2006-01-02 15:04:05 Z07:00", true},
	{"2006-01-02 15:04:05 Z0700", true},
	{"2006-01-02 15:04:05 UTC", true}, // BigQuery
	{"2006-01-02T15:04:05 UTC", true},
	{"2006-01-02T15:04Z07:00", true},
}

// parseISO8601 parses s with the layout that worked last time first (*last, -1 none).
func parseISO8601(s string, last *int) (time.Time, error) {
	if *last >= 0 {
		if t, err := time.Parse(isoLayouts[*last].layout, s); err == nil {
			return t, nil
		}
	}
	var err error
	for i, l := range isoLayouts {
		var t time.Time
		if t, err = time.Parse(l.layout, s); err == nil {
			*last = i
			return t, nil
		}
	}
	return time.Time{}, err
}

// numericTimeFormat is the time format of a first timestamp ts when none was
// given or implied by the column's name: iso8601 when ts is not a number; for a
// number, unix_ms from 1e12 and unix from 1e9 (both September 2001; as an offset in
// seconds, 1e9 is 31 years), else seconds since the start.
func numericTimeFormat(ts string) string {
	v, err := strconv.ParseFloat(ts, 64)
	switch {
	case err != nil:
		return TimeISO8601
	case v >= 1e12:
		return TimeUnixMillis
	case v >= 1e9:
		return TimeUnix
	}
	return TimeSeconds
}

// epochLike is the first offset, in seconds from the start, that a time column
// read as seconds is more likely to hold Unix seconds than an offset: a year.
const epochLike = 365 * 24 * time.Hour

// epochHint says, after a numeric timestamp ts of format (unix, unix_ms or
// seconds) failed to parse, which Unix time unit its size suggests and what to
// give instead: milliseconds read as seconds, or microseconds and nanoseconds,
// which no time format reads. It is "" when ts suggests none.
func epochHint(ts, format string) string {
	v, err := strconv.ParseFloat(ts, 64)
	switch {
	case err != nil:
	case v >= 1e11 && v < 4e12 && format != TimeUnixMillis:
		return ": Unix milliseconds? give --time-format unix_ms"
	case v >= 1e14 && v < 4e15:
		return ": Unix microseconds? convert them to milliseconds (divide by 1000) and give --time-format unix_ms"
	case v >= 1e17 && v < 4e18:
		return ": Unix nanoseconds? convert them to milliseconds (divide by 1e6) and give --time-format unix_ms"
	}
	return ""
}

// parseMillis parses a decimal number of milliseconds (at most 6 decimals, at
// most 4e12) exactly, as nanoseconds.
func parseMillis(s string) (int64, error) {
	return parseDecimal(s, 6, 4e12, 1e6, "milliseconds")
}

// parseSeconds parses a decimal number of seconds ("12", "-3.25", "1424987000.5")
// exactly into nanoseconds.
func parseSeconds(s string) (int64, error) {
	return parseDecimal(s, 9, 4e9, 1e9, "seconds")
}

// parseDecimal parses a decimal number of units of per = 10^decimals nanoseconds
// (at most decimals decimals, at most max units) exactly, as nanoseconds.
func parseDecimal(s string, decimals int, max, per int64, unit string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" && fp == "" || !allDigits(ip) || !allDigits(fp) {
		return 0, fmt.Errorf("not a decimal number of %s", unit)
	}
	if len(fp) > decimals {
		return 0, fmt.Errorf("more than %d decimals", decimals)
	}
	if len(ip) > 13 {
		return 0, errors.New("out of range")
	}
	var whole, frac int64
	if ip != "" {
		whole, _ = strconv.ParseInt(ip, 10, 64)
	}
	if whole > max {
		return 0, errors.New("out of range")
	}
	if fp != "" {
		frac, _ = strconv.ParseInt(fp+strings.Repeat("0", decimals-len(fp)), 10, 64)
	}
	ns := whole*per + frac
	if neg {
		ns = -ns
	}
	return ns, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendSeconds appends ns nanoseconds as exact decimal seconds ("60", "0.5").
func appendSeconds(b []byte, ns int64) []byte {
	b = strconv.AppendInt(b, ns/1e9, 10)
	if f := ns % 1e9; f != 0 {
		s := strconv.FormatInt(f+1e9, 10)[1:] // 9 digits, leading zeros kept
		b = append(b, '.')
		b = append(b, strings.TrimRight(s, "0")...)
	}
	return b
}

// baseName turns a file or source name into a trace name: no directory, no extension
// (nasa-http-1995-per-minute.csv -> nasa-http-1995-per-minute; x.tar.bz2 -> x;
// access.log.gz -> access).
func baseName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	for _, ext := range []string{".gz", ".bz2"} {
		if strings.HasSuffix(strings.ToLower(name), ext) && !strings.HasSuffix(strings.ToLower(name), ".tar"+ext) && len(name) > len(ext) {
			name = name[:len(name)-len(ext)]
		}
	}
	for _, ext := range []string{".tar.bz2", ".tbz2", ".tar.gz", ".tgz", ".csv", ".tsv", ".txt", ".log", ".dat", ".counts", ".json"} {
		if strings.HasSuffix(strings.ToLower(name), ext) && len(name) > len(ext) {
			return name[:len(name)-len(ext)]
		}
	}
	return name
}

// lineLimitReader passes bytes through, failing with ErrLineTooLong (and the line
// number) once a line exceeds max bytes, so that no parser buffers an unbounded line.
type lineLimitReader struct {
	r    io.Reader
	name string
	line int // 1-based line of the next byte
	cur  int // bytes of the current line so far
	max  int
	err  error
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	pos := 0
	for pos < len(b) {
		j := bytes.IndexByte(b[pos:], '\n')
		seg := len(b) - pos
		if j >= 0 {
			seg = j
		}
		if l.cur+seg > l.max {
			l.err = &ParseError{Name: l.name, Line: l.line, Err: fmt.Errorf("longer than %d bytes: %w", l.max, ErrLineTooLong)}
			return pos, l.err
		}
		if j < 0 {
			l.cur += seg
			break
		}
		l.line++
		l.cur = 0
		pos += j + 1
	}
	return n, err
}
