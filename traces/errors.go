package traces

import (
	"errors"
	"fmt"
)

// Limits that keep a malformed or hostile input from exhausting memory.
const (
	// DefaultMaxBytes is the largest file LoadFile reads unless LoadOptions.MaxBytes
	// says otherwise: 1 GiB. It also bounds the decompressed size of an archive member.
	DefaultMaxBytes int64 = 1 << 30
	// DefaultMaxBuckets is the longest trace a loader builds unless told otherwise:
	// 2^25 buckets (about 388 days at 1 s, 256 MiB of rates). Gaps between far-apart
	// timestamps are filled with zeros, so this also bounds what a gap may cost.
	DefaultMaxBuckets = 1 << 25
	// MaxLineBytes is the longest line a CSV file or an access log may have: 1 MiB.
	MaxLineBytes = 1 << 20
	// MaxTokenBytes is the longest number a whitespace count file may hold: 64 bytes.
	MaxTokenBytes = 64
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrTooLarge: a file, archive member or trace exceeds a size limit.
	ErrTooLarge = errors.New("too large")
	// ErrLineTooLong: a line (or a count token) exceeds MaxLineBytes (MaxTokenBytes).
	ErrLineTooLong = errors.New("line too long")
	// ErrEmpty: the input holds no data.
	ErrEmpty = errors.New("no data")
)

// ParseError reports bad input at a line of a named source, for example
// `nasa.csv line 812: rate "-3": must be >= 0`. Line is 0 when the problem is not
// tied to one line (an empty file, a size limit).
type ParseError struct {
	Name string // file or source name
	Line int    // 1-based line number, or 0
	Err  error  // what is wrong
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

func lineErr(name string, line int, format string, args ...any) error {
	return &ParseError{Name: name, Line: line, Err: fmt.Errorf(format, args...)}
}
