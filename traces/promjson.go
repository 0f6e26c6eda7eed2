package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PromJSONOptions says how LoadPromJSON reads a Prometheus range-query answer.
type PromJSONOptions struct {
	// MaxBuckets bounds the steps between the first and the last point, gaps
	// included. Default DefaultMaxBuckets.
	MaxBuckets int `yaml:"-"`
}

// promWant is what a promjson file should hold, for the errors of files that do not.
const promWant = `want the answer of Prometheus' /api/v1/query_range, {"status":"success","data":{"resultType":"matrix","result":[{"metric":{...},"values":[[<unix seconds>,"<value>"],...]}]}}`

// LoadPromJSON reads the JSON answer of a Prometheus range query
// (/api/v1/query_range), as `curl -G .../api/v1/query_range --data-urlencode
// query=... -d start=... -d end=... -d step=15s` saves it. The values are request
// rates (requests per second, what rate() gives); several series are summed per
// timestamp, as PromQL's sum() would. The step is the smallest gap between two
// timestamps and every point must fall on that grid; the trace is FromSamples' of
// the summed points from one step before the first point to the last, so a step with
// no point in any series is a gap (rate 0). An error answer, an instant query
// (resultType vector or scalar), no points, a raw counter (a series still named
// *_total or *_count), a value that is not a number, NaN, infinite, negative or above
// MaxRate, and malformed JSON (by line and column) are errors naming the file.
func LoadPromJSON(r io.Reader, name string, opt PromJSONOptions) (*Trace, error) {
	doc, err := io.ReadAll(skipBOM(r))
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, &ParseError{Name: name, Err: err}
	}
	maxBuckets := opt.MaxBuckets
	if maxBuckets <= 0 {
		maxBuckets = DefaultMaxBuckets
	}
	return loadPromJSON(doc, name, maxBuckets)
}

// promResponse is the envelope of every Prometheus HTTP API answer.
type promResponse struct {
	Status    *string `json:"status"`
	ErrorType string  `json:"errorType"`
	Error     string  `json:"error"`
	Data      *struct {
		ResultType string     `json:"resultType"`
		Result     promResult `json:"result"`
	} `json:"data"`
}

// promResult is data.result. Its shape depends on data.resultType, which may come
// after it, so it keeps the matrix it decoded or the reason it could not.
type promResult struct {
	series []promSeries
	err    error
}

func (r *promResult) UnmarshalJSON(b []byte) error {
	r.err = json.Unmarshal(b, &r.series)
	return nil
}

// promSeries is one series of a matrix.
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Values []promPoint       `json:"values"`
}

// promPoint is one [<unix seconds>, "<value>"] pair as written; bad says why it is
// not one.
type promPoint struct {
	t   float64
	v   string
	bad string
}

func (p *promPoint) UnmarshalJSON(b []byte) error {
	*p = promPoint{}
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		p.bad = fmt.Sprintf("%s: want a [<unix seconds>, \"<value>\"] pair", clip(b))
		return nil
	}
	if err := json.Unmarshal(pair[0], &p.t); err != nil {
		p.bad = fmt.Sprintf("time %s: want Unix seconds, a number", clip(pair[0]))
		return nil
	}
	if err := json.Unmarshal(pair[1], &p.v); err != nil {
		p.bad = fmt.Sprintf("value %s: want a string holding a number, as Prometheus writes it (\"12.5\")", clip(pair[1]))
	}
	return nil
}

// clip shortens a JSON fragment for a message.
func clip(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// jsonKind names the type of the JSON value that starts doc (which is valid JSON).
func jsonKind(doc []byte) string {
	doc = bytes.TrimLeft(doc, " \t\r\n")
	if len(doc) == 0 {
		return "nothing"
	}
	switch doc[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// promUnixMin and promUnixMax bound the point times taken as Unix seconds: 1970 to 9999.
const (
	promUnixMin = 0
	promUnixMax = 253402300799
)

// loadPromJSON is LoadPromJSON on the whole answer, doc, with a bucket limit.
func loadPromJSON(doc []byte, name string, maxBuckets int) (*Trace, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("empty file: %w", ErrEmpty)}
	}
	var resp promResponse
	if err := json.Unmarshal(doc, &resp); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineColumn(doc, se.Offset)
			hint := ""
			if se.Offset >= int64(len(doc)) {
				hint = " (is the file cut short?)"
			}
			return nil, lineErr(name, line, "column %d: malformed JSON: %v%s", col, se, hint)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("a JSON %s, not a Prometheus API answer: %s", jsonKind(doc), promWant)}
		}
		return nil, &ParseError{Name: name, Err: fmt.Errorf("not a Prometheus API answer: %s: %s", typeErrorText(err), promWant)}
	}
	switch {
	case resp.Status == nil && resp.Data == nil && jsonKind(doc) != "object":
		return nil, &ParseError{Name: name, Err: fmt.Errorf("a JSON %s, not a Prometheus API answer: %s", jsonKind(doc), promWant)}
	case resp.Status == nil && resp.Data == nil:
		return nil, &ParseError{Name: name, Err: fmt.Errorf(`a JSON object without "status" or "data", not a Prometheus API answer: %s`, promWant)}
	case resp.Status != nil && *resp.Status == "error":
		return nil, &ParseError{Name: name, Err: fmt.Errorf("Prometheus answered with an error (%s): %s", orNone(resp.ErrorType), orNone(resp.Error))}
	case resp.Status != nil && *resp.Status != "success":
		return nil, &ParseError{Name: name, Err: fmt.Errorf(`status %q: want "success"`, *resp.Status)}
	case resp.Data == nil:
		return nil, &ParseError{Name: name, Err: fmt.Errorf(`no "data" in the answer: %s`, promWant)}
	}
	switch rt := resp.Data.ResultType; rt {
	case "matrix":
	case "vector", "scalar", "string":
		return nil, &ParseError{Name: name, Err: fmt.Errorf("resultType %q: the answer of an instant query (/api/v1/query), one point per series; save a range query instead (/api/v1/query_range with start, end and step)", rt)}
	case "":
		return nil, &ParseError{Name: name, Err: fmt.Errorf(`no "resultType" in "data": %s`, promWant)}
	default:
		return nil, &ParseError{Name: name, Err: fmt.Errorf(`resultType %q: want "matrix", the answer of a range query (/api/v1/query_range)`, rt)}
	}
	res := resp.Data.Result
	if res.err != nil {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("data.result: %s: %s", typeErrorText(res.err), promWant)}
	}
	if len(res.series) == 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("no series in data.result: %w: the query matched nothing in the window", ErrEmpty)}
	}

	// Check every point and sum the series per timestamp (milliseconds, Prometheus'
	// resolution).
	sums := make(map[int64]float64)
	points := 0
	for i, s := range res.series {
		if metric := s.Metric["__name__"]; strings.HasSuffix(metric, "_total") || strings.HasSuffix(metric, "_count") {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("series %d is the counter %s, running totals rather than a rate: query sum(rate(%s[1m])) instead", i, seriesName(s.Metric), metric)}
		}
		seen := make(map[int64]bool, len(s.Values))
		for j, p := range s.Values {
			if p.bad != "" {
				return nil, &ParseError{Name: name, Err: fmt.Errorf("series %d point %d: %s", i, j, p.bad)}
			}
			if math.IsNaN(p.t) || p.t < promUnixMin || p.t > promUnixMax {
				return nil, &ParseError{Name: name, Err: fmt.Errorf("series %d point %d: time %v: want Unix seconds between 1970 and 9999", i, j, p.t)}
			}
			ms := int64(math.Round(p.t * 1000))
			v, err := strconv.ParseFloat(p.v, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, &ParseError{Name: name, Err: fmt.Errorf("series %d at %s: value %q: not a number", i, stamp(ms), p.v)}
			}
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, &ParseError{Name: name, Err: fmt.Errorf("series %d at %s: value %q: must be finite and >= 0", i, stamp(ms), p.v)}
			}
			if v > MaxRate {
				return nil, &ParseError{Name: name, Err: fmt.Errorf("series %d at %s: value %q: %.4g requests/s, above the limit of %g (traces.MaxRate)", i, stamp(ms), p.v, v, MaxRate)}
			}
			if seen[ms] {
				return nil, &ParseError{Name: name, Err: fmt.Errorf("series %d: two points at %s", i, stamp(ms))}
			}
			seen[ms] = true
			sums[ms] += v
			points++
		}
	}
	if points == 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("the %d series in data.result have no points: %w", len(res.series), ErrEmpty)}
	}

	times := make([]int64, 0, len(sums))
	for ms := range sums {
		times = append(times, ms)
	}
	slices.Sort(times)
	first, last := times[0], times[len(times)-1]
	if len(times) == 1 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("every point is at %s: the step cannot be inferred; save a range query over at least two steps", stamp(first))}
	}
	step, at := times[1]-times[0], 0 // the smallest gap, after times[at]
	for k := 2; k < len(times); k++ {
		if d := times[k] - times[k-1]; d < step {
			step, at = d, k-1
		}
	}
	if step > maxLoadBucket.Milliseconds() {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("step %v (the smallest gap between two points, after %s): longer than %v",
			time.Duration(step)*time.Millisecond, stamp(times[at]), maxLoadBucket)}
	}
	if span := last - first + step; span > MaxOffset.Milliseconds() {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("points from %s to %s: longer than %v: %w",
			stamp(first), stamp(last), MaxOffset, ErrTooLarge)}
	}
	if n := (last-first)/step + 1; n > int64(maxBuckets) {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("%d steps of %v from %s to %s: %w (at most %d)", n, time.Duration(step)*time.Millisecond,
			stamp(first), stamp(last), ErrTooLarge, maxBuckets)}
	}
	samples := make([]Sample, 0, len(times))
	for _, ms := range times {
		at := time.UnixMilli(ms).UTC()
		if (ms-first)%step != 0 {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("point at %s: off the step grid of %v from the first point at %s (the step is the smallest gap between two points)",
				at.Format(time.RFC3339Nano), time.Duration(step)*time.Millisecond, stamp(first))}
		}
		if sums[ms] > MaxRate {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("the sum of the series at %s: %.4g requests/s, above the limit of %g (traces.MaxRate)", at.Format(time.RFC3339Nano), sums[ms], MaxRate)}
		}
		samples = append(samples, Sample{T: at, V: sums[ms]})
	}
	d := time.Duration(step) * time.Millisecond
	start, end := time.UnixMilli(first).UTC().Add(-d), time.UnixMilli(last).UTC()
	t, _, err := FromSamples(name, samples, start, end, d)
	if err != nil {
		return nil, &ParseError{Name: name, Err: unprefixed{err, name + ": "}}
	}
	return t, nil
}

// stamp writes a time in Unix milliseconds for a message.
func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// unprefixed drops the source name that FromSamples puts before its errors, which
// ParseError adds again.
type unprefixed struct {
	err    error
	prefix string
}

func (e unprefixed) Error() string { return strings.TrimPrefix(e.err.Error(), e.prefix) }
func (e unprefixed) Unwrap() error { return e.err }

// lineColumn is the 1-based line and column (in bytes) of the byte of doc at which a
// decoder that had read offset bytes stopped.
func lineColumn(doc []byte, offset int64) (line, col int) {
	pos := int(max(0, min(offset-1, int64(len(doc)))))
	before := doc[:pos]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = pos - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// typeErrorText says which field of the answer has the wrong JSON type.
func typeErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the value"
		}
		return fmt.Sprintf("%s is a JSON %s", field, te.Value)
	}
	return err.Error()
}

// seriesName writes a series as PromQL does: name{label="value",...}, labels sorted.
func seriesName(metric map[string]string) string {
	var labels []string
	for k, v := range metric {
		if k != "__name__" {
			labels = append(labels, fmt.Sprintf("%s=%q", k, v))
		}
	}
	if len(labels) == 0 {
		return metric["__name__"]
	}
	slices.Sort(labels)
	return metric["__name__"] + "{" + strings.Join(labels, ",") + "}"
}

func orNone(s string) string {
	if s == "" {
		return "none given"
	}
	return s
}
