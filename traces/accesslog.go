package traces

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// AccessLogOptions says how to read an access log. The zero value is strict.
type AccessLogOptions struct {
	// MaxMalformed is how many malformed lines are skipped before the load fails;
	// -1 skips any number. Default 0: the first malformed line is an error.
	MaxMalformed int `yaml:"max_malformed,omitempty"`
	// MaxBuckets bounds the seconds between the first and last request. Default
	// DefaultMaxBuckets.
	MaxBuckets int `yaml:"-"`
}

// clfTime is the timestamp layout of the Common and Combined Log Formats.
const clfTime = "02/Jan/2006:15:04:05 -0700"

// LoadAccessLog reads an Apache or Nginx access log in Common Log Format
//
//	127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326
//
// or Combined Log Format (the same followed by "referer" "user-agent"), and counts
// requests per second. Lines may be out of order (servers log on completion); the
// trace starts at the earliest second, in UTC, and seconds without requests get rate
// 0. The log has one-second resolution, so the trace holds per-second rates and no
// Arrivals: the simulator draws arrivals within each second. Blank lines are ignored.
//
// A second holding more than MaxRate requests is an error naming it.
func LoadAccessLog(r io.Reader, name string, opt AccessLogOptions) (*Trace, error) {
	return loadAccessLog(r, name, opt, MaxRate)
}

func loadAccessLog(r io.Reader, name string, opt AccessLogOptions, maxRate float64) (*Trace, error) {
	return loadAccessLogLimits(r, name, opt, maxRate, MaxLineBytes, nil)
}

// loadAccessLogLimits is LoadAccessLog with limits, telling n how many malformed
// lines it skipped.
func loadAccessLogLimits(r io.Reader, name string, opt AccessLogOptions, maxRate float64, maxLine int, n notes) (*Trace, error) {
	maxBuckets := opt.MaxBuckets
	if maxBuckets <= 0 {
		maxBuckets = DefaultMaxBuckets
	}
	br := skipBOM(r)
	var (
		secs      []int64
		line      int
		lines     int // not blank
		bad       int
		firstBad  string // the first malformed line's number and error
		lastTS    string
		lastSec   int64
		minS      int64
		maxS      int64
		firstLine int
	)
	for {
		text, err := readLine(br, maxLine)
		if err == io.EOF {
			break
		}
		line++
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			return nil, &ParseError{Name: name, Line: line, Err: err}
		}
		if err == nil && strings.TrimSpace(text) == "" {
			continue
		}
		lines++
		var ts string
		if err == nil {
			ts, err = parseCLF(text)
		}
		var sec int64
		if err == nil {
			if ts == lastTS {
				sec = lastSec
			} else {
				t, perr := time.Parse(clfTime, ts)
				if perr != nil {
					err = fmt.Errorf("timestamp [%s]: want like [10/Oct/2000:13:55:36 -0700]", ts)
				} else {
					sec, lastTS, lastSec = t.Unix(), ts, t.Unix()
				}
			}
		}
		if err != nil {
			bad++
			if opt.MaxMalformed >= 0 && bad > opt.MaxMalformed {
				if opt.MaxMalformed > 0 {
					err = fmt.Errorf("%w (more than %d malformed lines)", err, opt.MaxMalformed)
				}
				return nil, &ParseError{Name: name, Line: line, Err: err}
			}
			if bad == 1 {
				firstBad = fmt.Sprintf("line %d: %v", line, err)
			}
			continue
		}
		if len(secs) == 0 {
			minS, maxS, firstLine = sec, sec, line
		}
		minS, maxS = min(minS, sec), max(maxS, sec)
		if maxS-minS >= int64(maxBuckets) {
			return nil, lineErr(name, line, "requests span %ds (%.1f days) from line %d: more than %d one-second buckets: %w", maxS-minS+1, float64(maxS-minS+1)/86400, firstLine, maxBuckets, ErrTooLarge)
		}
		secs = append(secs, sec)
	}
	skipped := ""
	if bad > 0 {
		skipped = fmt.Sprintf("skipped %d malformed lines of %d (first at %s)", bad, lines, firstBad)
	}
	if len(secs) == 0 {
		if bad > 0 {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("no requests: %w: %s", ErrEmpty, skipped)}
		}
		return nil, &ParseError{Name: name, Err: fmt.Errorf("no requests: %w", ErrEmpty)}
	}
	rates := make([]float64, maxS-minS+1)
	for _, s := range secs {
		rates[s-minS]++
	}
	for i, r := range rates {
		if r > maxRate {
			at := time.Unix(minS+int64(i), 0).UTC().Format(time.RFC3339)
			return nil, &ParseError{Name: name, Err: fmt.Errorf("second %s: %.0f requests, above the limit of %g requests/s (traces.MaxRate)", at, r, maxRate)}
		}
	}
	if bad > 0 {
		n.add("", "%s: %s", name, skipped)
	}
	return &Trace{Name: baseName(name), Bucket: time.Second, Rates: rates, Start: time.Unix(minS, 0).UTC()}, nil
}

// readLine returns the next line of br without its line end (LF or CRLF). A line
// longer than max bytes is consumed to its end and reported as ErrLineTooLong, so
// that the caller may skip it; at the end of the input it returns io.EOF.
func readLine(br *bufio.Reader, max int) (string, error) {
	chunk, err := br.ReadSlice('\n')
	if err == io.EOF && len(chunk) == 0 {
		return "", io.EOF
	}
	var buf []byte
	long := false
	for err == bufio.ErrBufferFull {
		if !long {
			if len(buf)+len(chunk) > max+2 { // +2: the line end
				long, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		chunk, err = br.ReadSlice('\n')
	}
	if err != nil && err != io.EOF {
		return "", err
	}
	if !long && buf != nil {
		buf = append(buf, chunk...)
		chunk = buf
	}
	chunk = bytes.TrimSuffix(chunk, []byte{'\n'})
	chunk = bytes.TrimSuffix(chunk, []byte{'\r'})
	if long || len(chunk) > max {
		return "", fmt.Errorf("longer than %d bytes: %w", max, ErrLineTooLong)
	}
	return string(chunk), nil
}

// parseCLF checks the shape of a Common or Combined Log Format line and returns its
// bracketed timestamp.
func parseCLF(s string) (string, error) {
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		return "", errors.New("no host field: not Common or Combined Log Format")
	}
	// The host may be an IPv6 address in brackets ([2001:db8::1]): the timestamp is
	// the first bracket after it.
	open := strings.IndexByte(s[sp:], '[')
	if open < 0 {
		return "", errors.New("no [timestamp]: not Common or Combined Log Format")
	}
	open += sp
	end := strings.IndexByte(s[open:], ']')
	if end < 0 {
		return "", errors.New("unterminated [timestamp]")
	}
	ts := s[open+1 : open+end]
	rest := s[open+end+1:]
	if !strings.HasPrefix(rest, ` "`) {
		return "", errors.New(`no "request" after the timestamp`)
	}
	q := closingQuote(rest[2:])
	if q < 0 {
		return "", errors.New(`unterminated "request"`)
	}
	f := strings.Fields(rest[2+q+1:])
	if len(f) < 2 {
		return "", errors.New("missing status or size after the request")
	}
	if st := f[0]; len(st) != 3 || st[0] < '1' || st[0] > '5' || !allDigits(st) {
		return "", fmt.Errorf("status %q: want a 3-digit HTTP status", st)
	}
	if f[1] != "-" && !allDigits(f[1]) {
		return "", fmt.Errorf("size %q: want a number or -", f[1])
	}
	if len(f) > 2 && !strings.HasPrefix(f[2], `"`) {
		return "", fmt.Errorf("unexpected %q after the size: want \"referer\" \"user-agent\" or nothing", f[2])
	}
	return ts, nil
}

// closingQuote returns the index of the first '"' in s not escaped by a backslash.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
