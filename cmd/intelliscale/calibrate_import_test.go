package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTraceImportDumpNamesTheDump: what trace import --dump says of the traffic it
// read (a query without data or with several series, a long run of zero buckets)
// names the dump it came from, not a Prometheus server.
func TestTraceImportDumpNamesTheDump(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "outage.csv")
	// An hour of traffic, an hour without a request, an hour of traffic.
	var csv strings.Builder
	csv.WriteString("seconds,rate\n")
	for i := range 180 {
		rate := 20
		if i >= 60 && i < 120 {
			rate = 0
		}
		csv.WriteString(strconv.Itoa(60*i) + "," + strconv.Itoa(rate) + "\n")
	}
	if err := os.WriteFile(tr, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dump := simDump(t, dir, "prod.om", "--trace", tr)
	cases := []struct {
		name  string
		query string
		code  int
		want  string
	}{
		{"outage", "", 0, "the dump " + dump + " has no request for "},
		{"no data", "sum(rate(nonexistent_total[1m]))", 1, "the dump " + dump + ": query sum(rate(nonexistent_total[1m])): no data"},
		{"several series", "rate(http_requests_total[1m])", 1, "the dump " + dump + ": query rate(http_requests_total[1m]): 3 series where one was expected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"trace", "import", "--dump", dump, "--out", filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".csv")}
			if c.query != "" {
				args = append(args, "--query", c.query)
			}
			var so, se bytes.Buffer
			code := run(args, &so, &se)
			if code != c.code || !strings.Contains(se.String(), c.want) || strings.Contains(se.String(), "prometheus") {
				t.Errorf("trace import %v: exit %d, stderr:\n%s\nwant exit %d and %q, no mention of prometheus", args[2:], code, se.String(), c.code, c.want)
			}
		})
	}
}
