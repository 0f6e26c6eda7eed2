package traces

import (
	"bytes"
	"testing"
	"time"
)

// The fuzz targets check that no input makes a parser panic and that whatever it
// accepts is a valid trace. `go test` runs the seeds; `go test -fuzz FuzzLoadCSV`
// explores further.

func FuzzLoadCSV(f *testing.F) {
	for _, s := range []string{
		"minute_index,requests\n0,42\n1,62\n",
		"timestamp,value\n2015-02-26 21:42:53,57\n2015-02-26 21:47:53,43\n",
		"seconds,rate\n0,1.5\n0.5,2\n",
		"timestamp,rate\n2024-03-01T08:00:00.5+01:00,3\n2024-03-01T08:00:02+01:00,4\n",
		"unix,value\n1424987000,10\n1424987010,20\n",
		"a,b\n1,\"2\n",
		"0,1\n0,1\n",
		"minute_index,requests\n0,-1\n",
		"",
	} {
		for opt := range 4 {
			f.Add([]byte(s), uint8(opt))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, opt uint8) {
		o := CSVOptions{MaxBuckets: 1 << 16}
		switch opt % 4 {
		case 1:
			o.TimeFormat, o.Bucket = TimeIndex, time.Second
		case 2:
			o.TimeColumn, o.ValueColumn, o.Values = "1", "0", ValuesRate
		case 3:
			o.TimeFormat = TimeUnix
		}
		tr, err := LoadCSV(bytes.NewReader(data), "fuzz.csv", o)
		if err != nil {
			if tr != nil {
				t.Fatalf("trace and error %v", err)
			}
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("accepted an invalid trace: %v", err)
		}
		if err := tr.checkMaxRate(); err != nil {
			t.Fatalf("accepted a rate above MaxRate: %v", err)
		}
		if len(tr.Rates) > o.MaxBuckets {
			t.Fatalf("%d buckets, limit %d", len(tr.Rates), o.MaxBuckets)
		}
	})
}

func FuzzLoadCounts(f *testing.F) {
	for _, s := range []string{"0 1 2 3", "1\n2\n# c\n3.5", "1e3 NaN", "-1", " \t\r\n", "99999999999999999999999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := loadCounts(bytes.NewReader(data), "fuzz.txt", time.Second, 1<<16)
		if err != nil {
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("accepted an invalid trace: %v", err)
		}
		if err := tr.checkMaxRate(); err != nil {
			t.Fatalf("accepted a rate above MaxRate: %v", err)
		}
	})
}

func FuzzLoadAccessLog(f *testing.F) {
	for _, s := range []string{
		`1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 6245` + "\n",
		`h - u [10/Oct/2000:13:55:36 -0700] "GET /a\"b HTTP/1.0" 404 - "ref" "ua"` + "\n",
		"garbage\n[]\"\n",
		`a - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1` + "\n" + `a - - [01/Jul/1995:00:20:01 -0400] "x" 500 2` + "\n",
	} {
		f.Add([]byte(s), int8(0))
		f.Add([]byte(s), int8(-1))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxBad int8) {
		tr, err := LoadAccessLog(bytes.NewReader(data), "fuzz.log", AccessLogOptions{MaxMalformed: int(maxBad), MaxBuckets: 1 << 16})
		if err != nil {
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("accepted an invalid trace: %v", err)
		}
		if err := tr.checkMaxRate(); err != nil {
			t.Fatalf("accepted a rate above MaxRate: %v", err)
		}
		if tr.Total() > float64(bytes.Count(data, []byte{'\n'})+1) {
			t.Fatalf("%v requests from %d lines", tr.Total(), bytes.Count(data, []byte{'\n'})+1)
		}
	})
}
