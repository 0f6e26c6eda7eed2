package main

import (
	"strings"
	"testing"
)

// Flag values of the live commands that cannot mean anything (zero slots, a zero
// step, a negative grace, an address that is not HOST:PORT) and positional
// arguments are refused naming the flag or the argument, before any backend,
// Prometheus or listener is touched, instead of silently becoming defaults.
func TestLiveFlagValues(t *testing.T) {
	ctl := func(args ...string) []string {
		return append([]string{"live", "controller", "--prometheus", "http://127.0.0.1:1"}, args...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{ctl("extra"), `unexpected argument "extra"`},
		{ctl("--listen", "notanaddr"), `--listen "notanaddr": want HOST:PORT`},
		{ctl("--listen", "127.0.0.1:99999"), `port "99999": want a number from 0 to 65535`},
		{ctl("--slots", "0"), "--slots 0: must be >= 1"},
		{ctl("--slots", "-1"), "--slots -1: must be >= 1"},
		{ctl("--max-step", "0"), "--max-step 0: must be >= 1"},
		{ctl("--service-mean", "0s"), "--service-mean 0s: must be > 0"},
		{ctl("--max-age", "-1s"), "--max-age -1s: must be >= 0"},
		{ctl("--startup-delay", "-1s"), "--startup-delay -1s: must be >= 0"},
		{[]string{"live", "app", "--slots", "0"}, "--slots 0: must be >= 1"},
		{[]string{"live", "app", "--queue", "0"}, "--queue 0: must be >= 1"},
		{[]string{"live", "app", "--timeout", "0s"}, "--timeout 0s: must be > 0"},
		{[]string{"live", "app", "--drain-grace", "-5s"}, "--drain-grace -5s: must be >= 0"},
		{[]string{"live", "app", "--listen", "8080"}, `--listen "8080": want HOST:PORT`},
		{[]string{"live", "app", "extra"}, `unexpected argument "extra"`},
		{[]string{"live", "lb", "--listen", "x:y"}, `--listen "x:y": want HOST:PORT`},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args[1:], code, stdout, stderr, tc.want)
		}
	}
}
