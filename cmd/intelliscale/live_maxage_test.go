package main

import (
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/env"
)

// A --max-age below the control interval is refused at start, naming the flag and
// the interval it is compared with (the default, --interval, or the one a policy file
// was trained at): the newest sample ages up to the scrape interval between scrapes,
// and a bound below it held the controller for ever. One interval or more is let
// through (here to the wait for Prometheus, which does not answer).
func TestLiveControllerMaxAgeAtLeastTheInterval(t *testing.T) {
	file := writeLinearPolicy(t, t.TempDir(), "p.policy.json", env.ActionTarget, []int{40, 60}, []float64{0, 0}, false)
	ctl := func(args ...string) []string {
		return append([]string{"live", "controller", "--prometheus", "http://127.0.0.1:1", "--startup-timeout", "0s", "--listen", "127.0.0.1:0", "--project", "p"}, args...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{ctl("--max-age", "10s"), "--max-age 10s: must be at least the control interval (15s)"},
		{ctl("--max-age", "2s", "--interval", "5s"), "--max-age 2s: must be at least the control interval (5s)"},
		{ctl("--max-age", "999ms", "--interval", "1s"), "--max-age 999ms: must be at least the control interval (1s)"},
		{ctl("--max-age", "10s", "--policy-file", file), "--max-age 10s: must be at least the control interval (15s)"},
		{ctl("--max-age", "5s", "--interval", "5s"), "policy threshold refused"},
		{ctl("--max-age", "15s"), "policy threshold refused"},
		{ctl("--max-age", "15s", "--policy-file", file), "policy " + file + " refused"},
		{ctl("--max-age", "0s", "--interval", "5s"), "policy threshold refused"},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args[10:], code, stdout, stderr, tc.want)
		}
		if !strings.HasPrefix(tc.want, "--max-age") && strings.Contains(stderr, "--max-age") {
			t.Errorf("%v: refused by --max-age: %q", tc.args[10:], stderr)
		}
	}
}
