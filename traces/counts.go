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
	return loadCounts(r, name, bucket, DefaultMaxBuckets, true)
}

// loadCounts is LoadCounts with a bucket limit. Unless chosen (the counts format was
// asked for, not guessed), it refuses a table: two or more lines that all hold the
// same number k >= 2 of numbers (0 5 / 1 7 / 2 9) are k columns, not counts.
func loadCounts(r io.Reader, name string, bucket time.Duration, maxBuckets int, chosen bool) (*Trace, error) {
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
		// Numbers on the current line, lines that hold any, and the number on each
		// of those lines while they all hold as many (-1 once two differ).
		onLine, lines, perLine int
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
					return lineErr(name, tokLine, "count %q: not a number (a table with a header? give --format csv; one count per line under a header? make the header a comment, # %s, or delete it)", b, b)
				}
				return lineErr(name, tokLine, "count %q: not a number", b)
			}
			v = f
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return lineErr(name, tokLine, "count %q: must be finite and >= 0", b)
		}
		if v == 0 {
			v = 0 // -0 reads as 0
		}
		if err := checkRate(name, tokLine, "count", string(b), v/s); err != nil {
			return err
		}
		if len(rates) >= maxBuckets {
			return lineErr(name, tokLine, "more than %d counts: %w", maxBuckets, ErrTooLarge)
		}
		rates = append(rates, v)
		onLine++
		return nil
	}
	endLine := func() {
		if onLine == 0 {
			return
		}
		lines++
		switch {
		case lines == 1:
			perLine = onLine
		case onLine != perLine:
			perLine = -1
		}
		onLine = 0
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
			endLine()
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
	endLine()
	if len(rates) == 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("no counts: %w", ErrEmpty)}
	}
	if !chosen && lines >= 2 && perLine >= 2 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("each of its %d lines holds %d numbers: it looks like a table of %d columns, not counts in order; "+
			"give it as CSV with a header row naming the columns (time,requests), or --format counts to read every number as the count of the next bucket", lines, perLine, perLine)}
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
