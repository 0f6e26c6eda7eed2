package yamldoc

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"time"
)

// InRange returns nil when lo <= v <= hi, else a FieldError at path naming the bound
// that v passes: "control_interval: 1ns: must be at least 100ms". A NaN or infinite
// float is always out of range.
func InRange[T cmp.Ordered](path string, v, lo, hi T) error {
	if f, ok := any(v).(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return &FieldError{Path: path, Value: v, Err: fmt.Errorf("must be a finite number in [%v, %v]", show(lo), show(hi))}
	}
	switch {
	case v < lo:
		return &FieldError{Path: path, Value: v, Err: fmt.Errorf("must be at least %v", show(lo))}
	case v > hi:
		return &FieldError{Path: path, Value: v, Err: fmt.Errorf("must be at most %v", show(hi))}
	}
	return nil
}

// show prints durations as a user writes them (1h, not 1h0m0s).
func show(v any) any {
	d, ok := v.(time.Duration)
	if !ok {
		return v
	}
	return shortDuration(d)
}

type shortDuration time.Duration

func (d shortDuration) String() string { return Duration(time.Duration(d)) }

// Duration formats d without zero units: 1h, 1h30m, 100ms, 2m30s.
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
