package traces

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func BenchmarkLoadCounts(b *testing.B) {
	var buf bytes.Buffer
	for i := range 1_000_000 {
		buf.WriteString(strconv.Itoa(i % 21))
		buf.WriteByte(' ')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := LoadCounts(bytes.NewReader(data), "b.txt", time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/value")
}

func BenchmarkLoadCSV(b *testing.B) {
	tr, err := Synthesize(SynthSpec{Duration: 7 * 24 * time.Hour, Bucket: time.Minute, Noise: Noise{Sigma: 0.2}}, 1)
	if err != nil {
		b.Fatal(err)
	}
	tr.Start = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC) // ISO 8601 timestamps
	var buf bytes.Buffer
	if err := WriteCSV(&buf, tr); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := LoadCSV(bytes.NewReader(data), "b.csv", CSVOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tr.Rates)), "ns/row")
}

func BenchmarkSynthesizeDefault(b *testing.B) {
	spec := DefaultSpecs()[0] // diurnal-weekly, 10,080 buckets
	spec.Bursts = Bursts{PerDay: 10}
	spec.OnOff = OnOff{OnFactor: 1.5, OffFactor: 0.5, MeanOn: 10 * time.Minute, MeanOff: 10 * time.Minute}
	for b.Loop() {
		if _, err := Synthesize(spec, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10080, "ns/bucket")
}

// BenchmarkLoadNASAPerSecond measures the real 5,059,950-value bzip2 archive.
func BenchmarkLoadNASAPerSecond(b *testing.B) {
	p := filepath.Join(sharedTraces(b), "nasa-http-1995-per-second.tbz2")
	for b.Loop() {
		if _, err := LoadFile(p, LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/load")
}
