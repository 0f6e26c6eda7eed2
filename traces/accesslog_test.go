package traces

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// accessLog builds a log: perSecond[i] requests in second i after base, alternating
// Common and Combined format, written out of order within each second pair.
func accessLog(base time.Time, perSecond []int) string {
	var b strings.Builder
	n := 0
	for i := len(perSecond) - 1; i >= 0; i-- { // newest first: order must not matter
		ts := base.Add(time.Duration(i) * time.Second).Format(clfTime)
		for k := 0; k < perSecond[i]; k++ {
			n++
			if n%2 == 0 {
				fmt.Fprintf(&b, "10.0.0.%d - - [%s] \"GET /index.html HTTP/1.1\" 200 %d\n", k, ts, 100+k)
			} else {
				fmt.Fprintf(&b, "host%d.example.com - alice [%s] \"POST /api/v1/x?q=\\\"a\\\" HTTP/1.1\" 503 - \"https://ref.example/\" \"Mozilla/5.0 (X11)\"\n", k, ts)
			}
		}
	}
	return b.String()
}

func TestLoadAccessLog(t *testing.T) {
	base := time.Date(1995, 7, 1, 0, 0, 1, 0, time.FixedZone("", -4*3600))
	counts := []int{3, 0, 1, 5, 0, 0, 2}
	tr, err := LoadAccessLog(strings.NewReader(accessLog(base, counts)), "access.log", AccessLogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Bucket != time.Second || tr.Name != "access" || !tr.Start.Equal(base) || tr.Start.Location() != time.UTC {
		t.Fatalf("bucket %v name %q start %v (want %v in UTC)", tr.Bucket, tr.Name, tr.Start, base)
	}
	if len(tr.Rates) != len(counts) {
		t.Fatalf("rates %v, want %v", tr.Rates, counts)
	}
	for i, c := range counts {
		if tr.Rates[i] != float64(c) {
			t.Fatalf("rates %v, want %v", tr.Rates, counts)
		}
	}
}

func TestLoadAccessLogMalformed(t *testing.T) {
	good := `1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 6245` + "\n"
	tests := []struct {
		name, line, want string
	}{
		{"no brackets", "garbage line here", "line 2: no [timestamp]"},
		{"bad time", `1.2.3.4 - - [01/Jxx/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1`, "line 2: timestamp [01/Jxx/1995:00:00:01 -0400]"},
		{"unterminated request", `1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0 200 1`, `line 2: unterminated "request"`},
		{"bad status", `1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 2000 1`, `line 2: status "2000"`},
		{"bad size", `1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 12k`, `line 2: size "12k"`},
		{"missing size", `1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200`, "line 2: missing status or size"},
		{"trailing junk", `1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1 junk`, `line 2: unexpected "junk"`},
		{"no host", ` - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1`, "line 2: no host field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := good + tc.line + "\n" + good
			_, err := LoadAccessLog(strings.NewReader(in), "a.log", AccessLogOptions{})
			if err == nil || !strings.Contains(err.Error(), "a.log "+tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, "a.log "+tc.want)
			}
			// Tolerated when skipping is allowed: the two good lines are counted.
			tr, err := LoadAccessLog(strings.NewReader(in), "a.log", AccessLogOptions{MaxMalformed: 1})
			if err != nil || len(tr.Rates) != 1 || tr.Rates[0] != 2 {
				t.Fatalf("skipping one malformed line: %v, %+v", err, tr)
			}
		})
	}
	in := good + "bad\n" + good + "worse\n"
	if _, err := LoadAccessLog(strings.NewReader(in), "a.log", AccessLogOptions{MaxMalformed: 1}); err == nil || !strings.Contains(err.Error(), "a.log line 4:") || !strings.Contains(err.Error(), "more than 1 malformed") {
		t.Errorf("second malformed line with budget 1: %v", err)
	}
	if tr, err := LoadAccessLog(strings.NewReader(in), "a.log", AccessLogOptions{MaxMalformed: -1}); err != nil || tr.Rates[0] != 2 {
		t.Errorf("unlimited skipping: %v %+v", err, tr)
	}
	if _, err := LoadAccessLog(strings.NewReader("\n\n"), "a.log", AccessLogOptions{}); err == nil || !strings.Contains(err.Error(), "a.log: no requests") {
		t.Errorf("empty log: %v", err)
	}
	far := good + `1.2.3.4 - - [01/Jul/2095:00:00:01 -0400] "GET / HTTP/1.0" 200 1` + "\n"
	if _, err := LoadAccessLog(strings.NewReader(far), "a.log", AccessLogOptions{}); err == nil || !strings.Contains(err.Error(), "a.log line 2: requests span") {
		t.Errorf("century-long log: %v", err)
	}
	long := good + strings.Repeat("x", MaxLineBytes+1) + "\n"
	if _, err := LoadAccessLog(strings.NewReader(long), "a.log", AccessLogOptions{}); err == nil || !strings.Contains(err.Error(), "a.log line 2: longer than") {
		t.Errorf("long line: %v", err)
	}
}
