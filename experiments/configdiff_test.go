package experiments

import (
	"context"
	"strings"
	"testing"
)

// A results directory reused with a changed config, and shards of different
// configs, are refused naming the first setting that differs and where each value
// comes from, not only the file.
func TestConfigMismatchNamesTheSetting(t *testing.T) {
	out := t.TempDir()
	runTiny(t, &fakeBackend{}, out, nil)
	cfg := tinyCfg(t)
	cfg.Seeds = append(append([]uint64(nil), cfg.Seeds...), 99)
	_, err := (&Runner{Config: cfg, Out: out, Backend: (&fakeBackend{}).backend()}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "different experiment (seeds has 3 entries in the directory, 4 in this config) and") {
		t.Fatalf("reused directory: %v, want the setting that differs", err)
	}

	other := t.TempDir()
	runTiny(t, &fakeBackend{}, other, func(r *Runner) { r.Config.Seeds = []uint64{7, 2, 3} })
	_, err = Merge(t.TempDir(), []string{out, other})
	if err == nil || !strings.Contains(err.Error(), "(seeds[0] is 1 in "+out+", 7 in "+other+")") {
		t.Fatalf("merge of two configs: %v, want the setting that differs, by directory", err)
	}
	_, err = Merge(out, []string{other})
	if err == nil || !strings.Contains(err.Error(), "(seeds[0] is 1 in "+out+", 7 in the shards)") {
		t.Fatalf("merge into another experiment's directory: %v, want the setting that differs", err)
	}
}
