package calibrate

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseDumpBOMAndCRLF: a dump saved with CRLF line endings, a UTF-8 byte order
// mark or both parses exactly as the plain LF text, in both formats, and an error in
// it still names the right line.
func TestParseDumpBOMAndCRLF(t *testing.T) {
	openMetrics := "# TYPE http_requests counter\n" +
		"http_requests_total{code=\"200\"} 5 1.000\n" +
		"http_requests_total{code=\"200\"} 9 2.000\n" +
		"# TYPE http_request_duration_seconds histogram\n" +
		"http_request_duration_seconds_bucket{le=\"0.1\"} 1 1.000\n" +
		"http_request_duration_seconds_bucket{le=\"+Inf\"} 3 1.000\n" +
		"# EOF\n"
	promText := "# TYPE http_requests_total counter\n" +
		"http_requests_total{code=\"200\"} 5 1000\n" +
		"\n" +
		"http_requests_total{code=\"200\"} 9 2000\n"
	variants := map[string]func(string) string{
		"CRLF":                func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") },
		"BOM":                 func(s string) string { return "\ufeff" + s },
		"BOM and CRLF":        func(s string) string { return "\ufeff" + strings.ReplaceAll(s, "\n", "\r\n") },
		"CRLF, no final CRLF": func(s string) string { return strings.TrimSuffix(strings.ReplaceAll(s, "\n", "\r\n"), "\r\n") },
		"CR before final EOF": func(s string) string { return strings.TrimSuffix(s, "\n") + "\r" },
	}
	for format, plain := range map[string]string{"OpenMetrics": openMetrics, "Prometheus text": promText} {
		want, err := ParseDump("d.om", []byte(plain))
		if err != nil {
			t.Fatalf("%s, LF: %v", format, err)
		}
		if len(want.series) == 0 || want.MinT != 1000 || want.MaxT != 2000 {
			t.Fatalf("%s, LF: %d series over [%d, %d] ms, want some over [1000, 2000]", format, len(want.series), want.MinT, want.MaxT)
		}
		for name, v := range variants {
			text := v(plain)
			got, err := ParseDump("d.om", []byte(text))
			if err != nil {
				t.Errorf("%s, %s: %v", format, name, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %s: parsed %+v, want %+v as from the LF text", format, name, got, want)
			}
		}
	}
	// A bad line keeps its number, and the CR is not blamed.
	_, err := ParseDump("d.om", []byte("\ufeffx 1 1000\r\n\r\n\r\nx{ 2 2000\r\n"))
	if err == nil || !strings.Contains(err.Error(), "d.om line 4: ") || strings.Contains(err.Error(), `\r`) {
		t.Errorf("CRLF dump with an error at line 4: got %v, want an error at d.om line 4 not mentioning \\r", err)
	}
	// A carriage return inside a line is not a line ending and is still refused.
	if _, err := ParseDump("d.om", []byte("x 1 1000\rx 2 2000\n")); err == nil {
		t.Errorf("a lone carriage return inside a line: parsed, want an error")
	}
}
