package main

import (
	"strings"
	"testing"
)

// --min 0 is refused with the reason, before any backend or Prometheus is touched,
// instead of silently becoming 1; so are a negative minimum and max below min.
func TestLiveControllerReplicaBounds(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--min", "0"}, "--min 0: must be >= 1: the live controller cannot scale to zero"},
		{[]string{"--min", "0", "--backend", "kubernetes"}, "--min 0: must be >= 1"},
		{[]string{"--min", "-2"}, "--min -2: must be >= 1"},
		{[]string{"--min", "4", "--max", "3"}, "--max 3: must be >= --min (4)"},
	} {
		args := append([]string{"live", "controller", "--prometheus", "http://127.0.0.1:1"}, tc.args...)
		code, _, stderr := runCmd(args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
