package traces

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// promT is the time of the first point of the answers below (Unix seconds).
const promT = 1767225600 // 2026-01-01T00:00:00Z

// promPair is one point of a series: seconds after promT and the value as written.
type promPair struct {
	sec float64
	v   string
}

// promSeriesJSON writes one series of a matrix with the labels metric (a JSON
// object's inside).
func promSeriesJSON(metric string, points ...promPair) string {
	var vals []string
	for _, p := range points {
		vals = append(vals, fmt.Sprintf("[%.3f,%q]", promT+p.sec, p.v))
	}
	return fmt.Sprintf(`{"metric":{%s},"values":[%s]}`, metric, strings.Join(vals, ","))
}

// promAnswer writes a successful range-query answer holding series.
func promAnswer(series ...string) string {
	return `{"status":"success","data":{"resultType":"matrix","result":[` + strings.Join(series, ",") + `]}}`
}

// Two series are summed per step; a step where neither has a point is a gap.
func TestLoadPromJSONSumsSeries(t *testing.T) {
	doc := promAnswer(
		promSeriesJSON(`"job":"api","instance":"a"`, promPair{0, "1.5"}, promPair{15, "2"}, promPair{45, "4"}),
		promSeriesJSON(`"job":"api","instance":"b"`, promPair{0, "0.5"}, promPair{45, "1e1"}, promPair{60, "3"}),
	)
	tr, err := LoadFile(writeTemp(t, "traffic.json", doc), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ratesAre(15*time.Second, 2, 2, 0, 14, 3)(tr); err != nil {
		t.Error(err)
	}
	if want := time.Unix(promT-15, 0).UTC(); !tr.Start.Equal(want) {
		t.Errorf("start %v, want %v (one step before the first point)", tr.Start, want)
	}
	if tr.Name != "traffic" {
		t.Errorf("name %q, want traffic", tr.Name)
	}

	// The trace is what FromSamples builds from the summed points, as trace import
	// --prometheus does.
	at := func(sec int64) time.Time { return time.Unix(promT+sec, 0).UTC() }
	want, info, err := FromSamples("traffic", []Sample{{at(0), 2}, {at(15), 2}, {at(45), 14}, {at(60), 3}}, at(-15), at(60), 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if info.Gaps != 1 {
		t.Errorf("FromSamples: %d gaps, want 1", info.Gaps)
	}
	if tr.Name != want.Name || tr.Bucket != want.Bucket || !tr.Start.Equal(want.Start) || fmt.Sprint(tr.Rates) != fmt.Sprint(want.Rates) {
		t.Errorf("loaded %+v\nFromSamples %+v", tr, want)
	}
}

// Without the .json extension a file whose first byte (not blank) is '{' is
// sniffed as a Prometheus answer; --format promjson forces it; gzip is read.
func TestLoadPromJSONSniffed(t *testing.T) {
	doc := "\ufeff\n  " + promAnswer(promSeriesJSON(`"job":"api"`, promPair{0, "1"}, promPair{60, "2"}))
	for _, tc := range []struct {
		file string
		opt  LoadOptions
	}{
		{"export", LoadOptions{}},
		{"export.out", LoadOptions{}},
		{"export.dat", LoadOptions{Format: FormatPromJSON}},
	} {
		tr, err := LoadFile(writeTemp(t, tc.file, doc), tc.opt)
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if err := ratesAre(time.Minute, 1, 2)(tr); err != nil {
			t.Errorf("%s: %v", tc.file, err)
		}
	}
	if got := sniffFormat([]byte(" \r\n\t{\"status\"")); got != FormatPromJSON {
		t.Errorf("sniffed %s, want promjson", got)
	}
	if got := sniffFormat([]byte("# {json}\nseconds,rate\n")); got != FormatCSV {
		t.Errorf("a '{' in a comment sniffed %s, want csv", got)
	}
}

// Bad answers fail with an error naming the file and what is wrong.
func TestLoadPromJSONErrors(t *testing.T) {
	ok := promPair{0, "1"}
	for _, tc := range []struct {
		name, doc, want string
		is              error
	}{
		{"prometheus error", `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:6: parse error: unclosed left parenthesis"}`,
			`p.json: Prometheus answered with an error (bad_data): invalid parameter "query": 1:6: parse error: unclosed left parenthesis`, nil},
		{"instant query, vector", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,"5"]}]}}`,
			`p.json: resultType "vector": the answer of an instant query (/api/v1/query), one point per series; save a range query instead (/api/v1/query_range with start, end and step)`, nil},
		{"instant query, scalar", `{"status":"success","data":{"resultType":"scalar","result":[1767225600,"5"]}}`,
			`p.json: resultType "scalar": the answer of an instant query (/api/v1/query)`, nil},
		{"no series", promAnswer(),
			`p.json: no series in data.result: no data: the query matched nothing in the window`, ErrEmpty},
		{"only empty series", promAnswer(promSeriesJSON(`"job":"a"`), promSeriesJSON(`"job":"b"`)),
			`p.json: the 2 series in data.result have no points: no data`, ErrEmpty},
		{"empty file", " \n", `p.json: empty file: no data`, ErrEmpty},
		{"raw counter", promAnswer(promSeriesJSON(`"__name__":"http_requests_total","job":"api","code":"200"`, ok)),
			`p.json: series 0 is the counter http_requests_total{code="200",job="api"}, running totals rather than a rate: query sum(rate(http_requests_total[1m])) instead`, nil},
		{"raw histogram count", promAnswer(promSeriesJSON(`"job":"api"`, ok), promSeriesJSON(`"__name__":"http_request_duration_seconds_count"`, ok)),
			`p.json: series 1 is the counter http_request_duration_seconds_count, running totals rather than a rate: query sum(rate(http_request_duration_seconds_count[1m])) instead`, nil},
		{"value not a number", promAnswer(promSeriesJSON(`"job":"a"`, ok), promSeriesJSON(`"job":"b"`, ok, promPair{60, "12,5"})),
			`p.json: series 1 at 2026-01-01T00:01:00Z: value "12,5": not a number`, nil},
		{"value not a string", promAnswer(`{"metric":{},"values":[[1767225600,"1"],[1767225660,7]]}`),
			`p.json: series 0 point 1: value 7: want a string holding a number, as Prometheus writes it ("12.5")`, nil},
		{"NaN", promAnswer(promSeriesJSON(`"job":"a"`, ok, promPair{60, "NaN"})),
			`p.json: series 0 at 2026-01-01T00:01:00Z: value "NaN": must be finite and >= 0`, nil},
		{"Inf", promAnswer(promSeriesJSON(`"job":"a"`, promPair{0, "+Inf"})),
			`p.json: series 0 at 2026-01-01T00:00:00Z: value "+Inf": must be finite and >= 0`, nil},
		{"overflowing value", promAnswer(promSeriesJSON(`"job":"a"`, promPair{0, "1e400"})),
			`p.json: series 0 at 2026-01-01T00:00:00Z: value "1e400": must be finite and >= 0`, nil},
		{"negative", promAnswer(promSeriesJSON(`"job":"a"`, ok), promSeriesJSON(`"job":"b"`, promPair{15.5, "-0.25"})),
			`p.json: series 1 at 2026-01-01T00:00:15.5Z: value "-0.25": must be finite and >= 0`, nil},
		{"value above MaxRate", promAnswer(promSeriesJSON(`"job":"a"`, promPair{0, "2e6"})),
			`p.json: series 0 at 2026-01-01T00:00:00Z: value "2e6": 2e+06 requests/s, above the limit of 1e+06 (traces.MaxRate)`, nil},
		{"sum above MaxRate", promAnswer(promSeriesJSON(`"job":"a"`, promPair{0, "6e5"}, promPair{60, "1"}), promSeriesJSON(`"job":"b"`, promPair{0, "6e5"})),
			`p.json: the sum of the series at 2026-01-01T00:00:00Z: 1.2e+06 requests/s, above the limit of 1e+06 (traces.MaxRate)`, nil},
		{"off the step grid", promAnswer(promSeriesJSON(`"job":"a"`, ok, promPair{60, "1"}, promPair{150, "1"})),
			`p.json: point at 2026-01-01T00:02:30Z: off the step grid of 1m0s from the first point at 2026-01-01T00:00:00Z (the step is the smallest gap between two points)`, nil},
		{"two points at one time in a series", promAnswer(promSeriesJSON(`"job":"a"`, ok, promPair{60, "1"}, promPair{60, "2"})),
			`p.json: series 0: two points at 2026-01-01T00:01:00Z`, nil},
		{"one point", promAnswer(promSeriesJSON(`"job":"a"`, ok), promSeriesJSON(`"job":"b"`, ok)),
			`p.json: every point is at 2026-01-01T00:00:00Z: the step cannot be inferred; save a range query over at least two steps`, nil},
		{"time not a number", promAnswer(`{"metric":{},"values":[["1767225600","1"]]}`),
			`p.json: series 0 point 0: time "1767225600": want Unix seconds, a number`, nil},
		{"time in milliseconds", promAnswer(`{"metric":{},"values":[[1767225600000,"1"]]}`),
			`p.json: series 0 point 0: time 1.7672256e+12: want Unix seconds between 1970 and 9999`, nil},
		{"point not a pair", promAnswer(`{"metric":{},"values":[[1767225600,"1","2"]]}`),
			`p.json: series 0 point 0: [1767225600,"1","2"]: want a [<unix seconds>, "<value>"] pair`, nil},
		{"step too long", promAnswer(promSeriesJSON(`"job":"a"`, ok, promPair{40 * 86400, "1"})),
			`p.json: step 960h0m0s (the smallest gap between two points, after 2026-01-01T00:00:00Z): longer than 744h0m0s`, nil},
		{"too many steps", promAnswer(promSeriesJSON(`"job":"a"`, ok, promPair{0.001, "1"}, promPair{86400, "1"})),
			`p.json: 86400001 steps of 1ms from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z: too large (at most 33554432)`, ErrTooLarge},
		{"malformed JSON", "{\"status\":\"success\",\n \"data\":{\"resultType\":\"matrix\",\n  \"result\":[}}\n",
			`p.json line 3: column 13: malformed JSON: invalid character '}' looking for beginning of value`, nil},
		{"JSON cut short", promAnswer(promSeriesJSON(`"job":"a"`, ok))[:60],
			`p.json line 1: column 60: malformed JSON: unexpected end of JSON input (is the file cut short?)`, nil},
		{"JSON array", `[1,2,3]`,
			`p.json: a JSON array, not a Prometheus API answer: want the answer of Prometheus' /api/v1/query_range, {"status":"success","data":{"resultType":"matrix","result":[{"metric":{...},"values":[[<unix seconds>,"<value>"],...]}]}}`, nil},
		{"JSON null", "null", `p.json: a JSON null, not a Prometheus API answer: want`, nil},
		{"JSON number", "42", `p.json: a JSON number, not a Prometheus API answer: want`, nil},
		{"other JSON object", `{"foo":1}`,
			`p.json: a JSON object without "status" or "data", not a Prometheus API answer: want the answer of Prometheus' /api/v1/query_range`, nil},
		{"data of the wrong type", `{"status":"success","data":[]}`,
			`p.json: not a Prometheus API answer: data is a JSON array: want the answer of Prometheus' /api/v1/query_range`, nil},
		{"series of the wrong type", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":{}}]}}`,
			`p.json: data.result: values is a JSON object: want the answer of Prometheus' /api/v1/query_range`, nil},
		{"no resultType", `{"status":"success","data":{"result":[]}}`,
			`p.json: no "resultType" in "data": want the answer of Prometheus' /api/v1/query_range`, nil},
		{"other status", `{"status":"pending","data":{}}`,
			`p.json: status "pending": want "success"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadFile(writeTemp(t, "p.json", tc.doc), LoadOptions{})
			if err == nil {
				t.Fatalf("no error; loaded %v", tr.Rates)
			}
			if tr != nil {
				t.Errorf("a trace and an error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to start %q", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T, want a *ParseError", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

// A JSON answer is bounded by MaxBytes as every file is: refused before it is read,
// or, gzipped, once the decompressed bytes pass the limit.
func TestLoadPromJSONMaxBytes(t *testing.T) {
	var points []promPair
	for i := range 2000 {
		points = append(points, promPair{float64(15 * i), "12.5"})
	}
	doc := promAnswer(promSeriesJSON(`"job":"a"`, points...))
	dir := t.TempDir()
	plain := filepath.Join(dir, "big.json")
	if err := os.WriteFile(plain, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write([]byte(doc))
	w.Close()
	gz := filepath.Join(dir, "big.json.gz")
	if err := os.WriteFile(gz, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if tr, err := LoadFile(gz, LoadOptions{}); err != nil || len(tr.Rates) != 2000 || tr.Name != "big" {
		t.Fatalf("gzipped: %v", err)
	}
	limit := int64(len(doc) / 2)
	if z.Len() >= int(limit) {
		t.Fatalf("compressed %d bytes, not below the limit %d", z.Len(), limit)
	}
	for _, p := range []string{plain, gz} {
		if _, err := LoadFile(p, LoadOptions{MaxBytes: limit}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s, %d B limit: %v, want ErrTooLarge", filepath.Base(p), limit, err)
		}
	}
}

// A config names the format as `load: {format: promjson}`, the flags as --format.
func TestSourcePromJSONFormat(t *testing.T) {
	p := writeTemp(t, "traffic.out", promAnswer(promSeriesJSON(`"job":"a"`, promPair{0, "3"}, promPair{30, "4"})))
	var s Source
	if _, err := yamldoc.Load([]byte("file: "+p+"\nload: {format: promjson}\nscale_peak: 8\n"), "s.yaml", &s); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Trace()
	if err != nil {
		t.Fatal(err)
	}
	if err := ratesAre(30*time.Second, 6, 8)(tr); err != nil {
		t.Error(err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := BindFlags(fs, FlagLoad)
	if err := fs.Parse([]string{"--format", "promjson"}); err != nil {
		t.Fatal(err)
	}
	if tr, err := f.Trace(p); err != nil || len(tr.Rates) != 2 {
		t.Errorf("--format promjson: %v", err)
	}
}
