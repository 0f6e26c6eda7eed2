package traces

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// LoadCounts reads whitespace-separated request counts, one per bucket of the given
// length, in order (the NASA per-second workload.txt is one line of 5 million of
// them). Numbers may have a fraction; each must be finite and >= 0, and at most
// MaxRate requests per second once divided by the bucket length. A '#' starts a
// comment running to the end of its line. The input is streamed: memory is the rates
// plus a small buffer, whatever the line length; a number longer than MaxTokenBytes is
// an error. name is used in error messages and, without extension, as the trace name.
func LoadCounts(r io.Reader, name string, bucket time.Duration) (*Trace, error) {
	return loadCounts(r, name, bucket, DefaultMaxBuckets)
}

func loadCounts(r io.Reader, name string, bucket time.Duration, maxBuckets int) (*Trace, error) {
	if bucket <= 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("bucket length %v: must be > 0", bucket)}
	}
	s := bucket.Seconds()
	br := skipBOM(r)
	var (
		rates   []float64
		tok     [MaxTokenBytes]byte
		n       int // bytes in tok
		line    = 1
		tokLine = 1
		comment bool
	)
	flush := func() error {
		if n == 0 {
			return nil
		}
		b := tok[:n]
		n = 0
		var v float64
		if d, ok := parseDigits(b); ok {
			v = float64(d)
		} else {
			f, err := strconv.ParseFloat(string(b), 64)
			if err != nil {
				if len(rates) == 0 {
					return lineErr(name, tokLine, "count %q: not a number (a table with a header? give --format csv)", b)
				}
				return lineErr(name, tokLine, "count %q: not a number", b)
			}
			v = f
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return lineErr(name, tokLine, "count %q: must be finite and >= 0", b)
		}
		if err := checkRate(name, tokLine, "count", string(b), v/s); err != nil {
			return err
		}
		if len(rates) >= maxBuckets {
			return lineErr(name, tokLine, "more than %d counts: %w", maxBuckets, ErrTooLarge)
		}
		rates = append(rates, v)
		return nil
	}
	for {
		c, err := br.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return nil, &ParseError{Name: name, Line: line, Err: err}
			}
			break
		}
		switch {
		case c == '\n':
			if err := flush(); err != nil {
				return nil, err
			}
			line++
			comment = false
		case comment:
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			if err := flush(); err != nil {
				return nil, err
			}
		case c == '#':
			if err := flush(); err != nil {
				return nil, err
			}
			comment = true
		default:
			if n == 0 {
				tokLine = line
			}
			if n == len(tok) {
				return nil, lineErr(name, line, "number longer than %d bytes: %w", MaxTokenBytes, ErrLineTooLong)
			}
			tok[n] = c
			n++
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(rates) == 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("no counts: %w", ErrEmpty)}
	}
	for i := range rates {
		rates[i] /= s
	}
	return &Trace{Name: baseName(name), Bucket: bucket, Rates: rates}, nil
}

// parseDigits is the fast path for plain non-negative integers of up to 15 digits.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
