package traces

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileFormats(t *testing.T) {
	log := `1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 6245` + "\n"
	tests := []struct {
		file, content string
		opt           LoadOptions
		name          string
		bucket        time.Duration
		total         float64
	}{
		{"a.csv", "minute_index,requests\n0,60\n1,30\n", LoadOptions{}, "a", time.Minute, 90},
		{"b.txt", "1 2 3\n", LoadOptions{}, "b", time.Second, 6},
		{"b2.txt", "1 2 3\n", LoadOptions{CountsBucket: time.Minute}, "b2", time.Minute, 6},
		{"c.log", log + log, LoadOptions{}, "c", time.Second, 2},
		{"sniffed-log", log, LoadOptions{}, "sniffed-log", time.Second, 1},
		{"sniffed-csv", "seconds,rate\n0,1\n10,2\n", LoadOptions{}, "sniffed-csv", 10 * time.Second, 30},
		{"sniffed-counts", "4 4\n", LoadOptions{}, "sniffed-counts", time.Second, 8},
		{"forced.dat", "seconds,rate\n0,1\n10,2\n", LoadOptions{Format: FormatCSV}, "forced", 10 * time.Second, 30},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			tr, err := LoadFile(writeTemp(t, tc.file, tc.content), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Name != tc.name || tr.Bucket != tc.bucket || !approxEq(tr.Total(), tc.total, 1e-12) {
				t.Fatalf("name %q bucket %v total %v, want %q %v %v", tr.Name, tr.Bucket, tr.Total(), tc.name, tc.bucket, tc.total)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadFile(filepath.Join(dir, "missing.csv"), LoadOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadFile(dir, LoadOptions{}); err == nil || !strings.Contains(err.Error(), filepath.Base(dir)+": is a directory") {
		t.Errorf("directory: %v", err)
	}
	p := writeTemp(t, "n.csv", "minute_index,requests\n0,1\n1,-3\n")
	if _, err := LoadFile(p, LoadOptions{}); err == nil || err.Error() != `n.csv line 3: count "-3": must be finite and >= 0` {
		t.Errorf("bad value: %v", err)
	}
	if _, err := LoadFile(p, LoadOptions{Format: "xml"}); err == nil || !strings.Contains(err.Error(), `format "xml"`) {
		t.Errorf("bad format: %v", err)
	}
	small := writeTemp(t, "s.txt", strings.Repeat("1 ", 100))
	if _, err := LoadFile(small, LoadOptions{MaxBytes: 50}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "s.txt: 200 B: larger than the 50 B limit") {
		t.Errorf("size limit: %v", err)
	}
}

// TestLoadFileHuge checks the size guard on a 2 GiB sparse file: refused up front by
// default, and with the guard lifted, refused as binary data while all NUL bytes,
// then, once it starts with text, stopped by the line-length bound after reading
// about 1 MiB. The file takes (almost) no disk space.
func TestLoadFileHuge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(p, 2<<30); err != nil {
		t.Skipf("cannot make a sparse 2 GiB file here: %v", err)
	}
	_, err = LoadFile(p, LoadOptions{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "huge.csv: 2.0 GiB: larger than the 1.0 GiB limit") {
		t.Fatalf("2 GiB file: %v", err)
	}
	// All NUL bytes: not text at all.
	if _, err = LoadFile(p, LoadOptions{MaxBytes: -1}); err == nil || !strings.Contains(err.Error(), "huge.csv: binary data (a NUL byte at offset 0)") {
		t.Fatalf("2 GiB of NUL bytes: %v", err)
	}
	// Text first (more than the loaders peek at), then NUL bytes: one endless line.
	if f, err = os.OpenFile(p, os.O_WRONLY, 0); err != nil {
		t.Fatal(err)
	}
	_, err = f.Write([]byte(strings.Repeat("1", 8<<10)))
	if cerr := f.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	_, err = LoadFile(p, LoadOptions{MaxBytes: -1})
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "huge.csv line 1: longer than 1048576 bytes") {
		t.Fatalf("2 GiB file, no size limit: %v", err)
	}
	_, err = LoadFile(p, LoadOptions{MaxBytes: -1, Format: FormatCounts})
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "huge.csv line 1: number longer than 64 bytes") {
		t.Fatalf("2 GiB file as counts: %v", err)
	}
}

func TestRealNASAPerMinute(t *testing.T) {
	p := filepath.Join(sharedTraces(t), "nasa-http-1995-per-minute.csv")
	tr, err := LoadFile(p, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum, rows := sumColumn(t, p, 1)
	if len(tr.Rates) != 84333 || rows != 84333 {
		t.Fatalf("%d buckets (%d rows), want 84333", len(tr.Rates), rows)
	}
	if tr.Bucket != time.Minute || tr.Name != "nasa-http-1995-per-minute" {
		t.Errorf("bucket %v name %q", tr.Bucket, tr.Name)
	}
	if !approxEq(tr.Total(), sum, 1e-12) {
		t.Errorf("total %v requests, the file's column sums to %v", tr.Total(), sum)
	}
	// The README's outage: 2,263 zero minutes starting at minute 40,585.
	for i := 40585; i < 40585+2263; i++ {
		if tr.Rates[i] != 0 {
			t.Fatalf("minute %d: rate %v inside the documented outage", i, tr.Rates[i])
		}
	}
}

func TestRealNAB(t *testing.T) {
	dir := sharedTraces(t)
	for _, c := range []struct {
		file   string
		rows   int
		bucket time.Duration
		start  time.Time
	}{
		{"nab-twitter-volume-amzn-5min.csv", 15831, 5 * time.Minute, time.Date(2015, 2, 26, 21, 42, 53, 0, time.UTC)},
		{"nab-nyc-taxi-30min.csv", 10320, 30 * time.Minute, time.Date(2014, 7, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(c.file, func(t *testing.T) {
			p := filepath.Join(dir, c.file)
			tr, err := LoadFile(p, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sum, rows := sumColumn(t, p, 1)
			if len(tr.Rates) != c.rows || rows != c.rows || tr.Bucket != c.bucket || !tr.Start.Equal(c.start) {
				t.Fatalf("%d buckets of %v from %v; want %d of %v from %v", len(tr.Rates), tr.Bucket, tr.Start, c.rows, c.bucket, c.start)
			}
			if !approxEq(tr.Total(), sum, 1e-12) {
				t.Errorf("total %v, column sum %v", tr.Total(), sum)
			}
			// Used as a shape: rescaled to the rate under test.
			s, err := ScaleMean(tr, 100)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := Info(s)
			if !approxEq(st.Mean, 100, 1e-12) {
				t.Errorf("mean after ScaleMean(100): %v", st.Mean)
			}
		})
	}
}

// TestRealNASAPerSecond streams 5,059,950 counts out of the bzip2 tar archive and
// checks they agree with the per-minute file, which the README says was derived from
// it by summing 60-second buckets.
func TestRealNASAPerSecond(t *testing.T) {
	dir := sharedTraces(t)
	if testing.Short() {
		t.Skip("decompresses 10 MB of bzip2; skipped with -short")
	}
	tr, err := LoadFile(filepath.Join(dir, "nasa-http-1995-per-second.tbz2"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Rates) != 5059950 || tr.Bucket != time.Second || tr.Name != "nasa-http-1995-per-second" {
		t.Fatalf("%d buckets of %v named %q, want 5059950 of 1s", len(tr.Rates), tr.Bucket, tr.Name)
	}
	st, _ := Info(tr)
	if st.Peak != 20 || st.Min != 0 || !approxEq(st.Mean, 0.68, 0.01) {
		t.Errorf("peak %v min %v mean %v; the README says 0..20, mean 0.68", st.Peak, st.Min, st.Mean)
	}
	minute, err := LoadFile(filepath.Join(dir, "nasa-http-1995-per-minute.csv"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	re, err := Resample(tr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	n := min(len(re.Rates), len(minute.Rates))
	for i := 0; i < n; i++ {
		if !approxEq(re.Rates[i], minute.Rates[i], 1e-9) {
			t.Fatalf("minute %d: %v req/s from the per-second file, %v from the per-minute file", i, re.Rates[i], minute.Rates[i])
		}
	}
}
