package traces

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadCounts(t *testing.T) {
	tr, err := LoadCounts(strings.NewReader("3 0 6\t1.5\n# comment 99\n\n  12 # trailing 7\r\n0"), "w.txt", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.5, 0, 3, 0.75, 6, 0}
	if tr.Bucket != 2*time.Second || tr.Name != "w" || len(tr.Rates) != len(want) {
		t.Fatalf("got bucket %v name %q rates %v", tr.Bucket, tr.Name, tr.Rates)
	}
	for i := range want {
		if tr.Rates[i] != want[i] {
			t.Fatalf("rates %v, want %v", tr.Rates, want)
		}
	}
}

func TestLoadCountsErrors(t *testing.T) {
	tests := []struct {
		name, in string
		bucket   time.Duration
		want     string
	}{
		{"empty", "", time.Second, "w.txt: no counts"},
		{"only comments", "# nothing\n\n", time.Second, "w.txt: no counts"},
		{"negative", "1 2\n3\n4 -5 6", time.Second, `w.txt line 3: count "-5": must be finite and >= 0`},
		{"NaN", "1\n\nNaN", time.Second, `w.txt line 3: count "NaN": must be finite`},
		{"word", "1 2 x3", time.Second, `w.txt line 1: count "x3": not a number`},
		{"long token", "1\n" + strings.Repeat("9", 100), time.Second, "w.txt line 2: number longer than 64 bytes"},
		{"zero bucket", "1", 0, "w.txt: bucket length 0s: must be > 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCounts(strings.NewReader(tc.in), "w.txt", tc.bucket)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := loadCounts(strings.NewReader("1 2 3 4"), "w.txt", time.Second, 3, false); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("max buckets: %v, want ErrTooLarge at line 1", err)
	}
}
