package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/env"
)

// composeVar is the interpolation docker-compose 1.x applies: ${NAME} and
// ${NAME:-default} (the default when NAME is unset or empty).
var composeVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// composeControllerArgs returns the controller's command in deploy/docker-compose.yml
// with the variables of vars filled in as docker-compose does.
func composeControllerArgs(t *testing.T, vars map[string]string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	cmd := f.Services["controller"].Command
	if len(cmd) < 2 || cmd[0] != "live" || cmd[1] != "controller" {
		t.Fatalf("controller command %q: want live controller ...", cmd)
	}
	var out []string
	for _, a := range cmd {
		a = composeVar.ReplaceAllStringFunc(a, func(m string) string {
			sub := composeVar.FindStringSubmatch(m)
			if v := vars[sub[1]]; v != "" || sub[2] == "" {
				return v
			}
			return strings.TrimPrefix(sub[2], ":-")
		})
		if strings.Contains(a, "$") {
			t.Fatalf("controller argument %q: an interpolation docker-compose 1.x does not do", a)
		}
		out = append(out, a)
	}
	return out
}

// The Compose file passes the controller one policy: the rule IS_POLICY or the file
// IS_POLICY_FILE, the other flag empty (not given). It used to pass
// --policy=threshold beside every file, which the controller now refuses. With the
// variables of the end-to-end tests, of the Compose file's own usage and of neither,
// the controller runs the policy meant (here refused only because Prometheus does not
// answer, after the policy was built or loaded); with both set it refuses them.
func TestComposeControllerGetsOnePolicy(t *testing.T) {
	file := writeLinearPolicy(t, t.TempDir(), "p.policy.json", env.ActionTarget, []int{40, 60}, []float64{0, 0}, false)
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"live e2e", map[string]string{"IS_POLICY": "threshold", "IS_POLICY_PARAMS": "{upper: 0.7, lower: 0.3, cooldown_up: 0s, cooldown_down: 10s}", "IS_POLICY_FILE": "", "IS_INTERVAL": "5s"}, "policy threshold refused"},
		{"calibrate e2e", map[string]string{"IS_POLICY": "static", "IS_POLICY_PARAMS": "{n: 3}", "IS_POLICY_FILE": ""}, "policy static refused"},
		{"a rule", map[string]string{"IS_POLICY": "hpa"}, "policy hpa refused"},
		{"nothing set", map[string]string{}, "policy threshold refused"},
		{"a policy file", map[string]string{"IS_POLICY_FILE": file}, "policy " + file + " refused"},
		{"both", map[string]string{"IS_POLICY": "hpa", "IS_POLICY_FILE": file}, "--policy hpa and --policy-file " + file + ": give one"},
	} {
		tc.vars["COMPOSE_PROJECT_NAME"] = "p"
		args := composeControllerArgs(t, tc.vars)
		given := 0
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "--policy="); ok && v != "" {
				given++
			}
			if v, ok := strings.CutPrefix(a, "--policy-file="); ok && v != "" {
				given++
			}
		}
		if tc.name != "both" && given > 1 {
			t.Errorf("%s: %d policy flags with a value: %q", tc.name, given, args)
		}
		// Where the test can reach: no Prometheus answers, none is waited for, and
		// the listener takes a free port.
		args = append(args, "--prometheus=http://127.0.0.1:1", "--startup-timeout=0s", "--listen=127.0.0.1:0")
		code, stdout, stderr := runCmd(args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%s: %q: exit %d, stdout %q, stderr %q; want 1 and %q", tc.name, args, code, stdout, stderr, tc.want)
		}
	}
}
