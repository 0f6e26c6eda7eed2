package live

import (
	"strings"
	"testing"
	"time"
)

// A staleness bound below the control interval is refused where the controller's
// configuration is checked: between scrapes the newest sample ages up to the scrape
// interval, which the controller does not know, and a bound below it held for ever.
// With the freshness check off, MaxAge means nothing and is not checked.
func TestControllerConfigMaxAgeAtLeastTheInterval(t *testing.T) {
	for _, tc := range []struct {
		cfg     ControllerConfig
		want    string        // error substring; empty: accepted
		wantAge time.Duration // MaxAge after defaults, when accepted
	}{
		{ControllerConfig{Interval: 15 * time.Second, MaxAge: 10 * time.Second}, "controller: max age 10s: must be at least the control interval (15s)", 0},
		{ControllerConfig{MaxAge: 14 * time.Second}, "max age 14s: must be at least the control interval (15s)", 0},
		{ControllerConfig{Interval: time.Second, MaxAge: 999 * time.Millisecond}, "max age 999ms: must be at least the control interval (1s)", 0},
		{ControllerConfig{Interval: 5 * time.Second, MaxAge: 5 * time.Second}, "", 5 * time.Second},
		{ControllerConfig{Interval: 5 * time.Second}, "", 15 * time.Second},
		{ControllerConfig{Interval: 5 * time.Second, MaxAge: time.Second, FreshnessQuery: "none"}, "", time.Second},
	} {
		cfg := tc.cfg
		err := cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v, want it accepted", tc.cfg, err)
		case tc.want == "" && cfg.MaxAge != tc.wantAge:
			t.Errorf("%+v: max age %v, want %v", tc.cfg, cfg.MaxAge, tc.wantAge)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
