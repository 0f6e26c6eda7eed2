package docker

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/internal/repo"
)

// deploy/prometheus-image.sh picks the official Prometheus image where the engine has
// it or can pull it, and the locally built one otherwise; forced choices are honoured
// and a forced official image that cannot be had is an error. The engine is a fake
// docker that answers inspect and pull as told.
func TestPrometheusImageChoice(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "deploy", "prometheus-image.sh")
	for _, c := range []struct {
		name, mode, inspect, pull string
		wantArgs                  string // the file's content; "error": the script fails
	}{
		{"present", "auto", "0", "1", ""},
		{"pullable", "auto", "1", "0", ""},
		{"offline", "auto", "1", "1", "-f deploy/docker-compose.offline.yml"},
		{"forced local", "local", "0", "0", "-f deploy/docker-compose.offline.yml"},
		{"forced official, offline", "official", "1", "1", "error"},
		{"bad mode", "newest", "0", "0", "error"},
	} {
		dir := t.TempDir()
		fake := filepath.Join(dir, "docker")
		body := "#!/bin/sh\ncase \"$1\" in image) exit " + c.inspect + ";; pull) exit " + c.pull + ";; esac\nexit 9\n"
		if err := os.WriteFile(fake, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "bin", "live-prometheus.args")
		cmd := exec.Command("bash", script, out, c.mode)
		cmd.Env = append(os.Environ(), "DOCKER="+fake)
		msg, err := cmd.CombinedOutput()
		got, rerr := os.ReadFile(out)
		if c.wantArgs == "error" {
			if err == nil || rerr == nil {
				t.Errorf("%s: exit ok (%s), file %q; want an error and no file", c.name, msg, got)
			}
			continue
		}
		if err != nil || rerr != nil {
			t.Errorf("%s: %v %v: %s", c.name, err, rerr, msg)
			continue
		}
		if strings.TrimSpace(string(got)) != c.wantArgs {
			t.Errorf("%s: compose args %q, want %q (%s)", c.name, got, c.wantArgs, msg)
		}
		if want := map[bool]string{true: "official", false: "locally built"}[c.wantArgs == ""]; !strings.Contains(string(msg), want) {
			t.Errorf("%s: message %q does not say %q", c.name, msg, want)
		}
	}
}
