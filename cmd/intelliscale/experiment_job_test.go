package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A k8s-job flag given empty is refused naming it, not silently replaced by its
// default (an empty --claim mounted intelliscale-results without a word).
func TestK8sJobRefusesEmptyFlags(t *testing.T) {
	for _, name := range []string{"claim", "phase", "cpu", "memory", "config"} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"experiment", "k8s-job", "--image", "img:1", "--" + name, ""}, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "--"+name+": empty") || stdout.Len() != 0 {
			t.Errorf("--%s '': exit %d, stderr %q, %d bytes of manifest", name, code, stderr.String(), stdout.Len())
		}
	}
}

// merge takes its flags after the shard directories too: --no-report there is a
// flag, not a shard directory named "--no-report".
func TestMergeFlagsAfterShards(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(conf, []byte(`name: tiny
seeds: [1]
traces:
  - name: wave
    synth: {duration: 2h, bucket: 1m, base_rate: 20, diurnal: {amplitude: 0.5}}
policies:
  - {name: threshold, kind: threshold}
  - {name: oracle, kind: oracle}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var shards []string
	for i := range 2 {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d", i))
		var stdout, stderr bytes.Buffer
		if code := run([]string{"experiment", "run", "--config", conf, "--out", out, "--quiet", "--shard", fmt.Sprintf("%d/2", i)}, &stdout, &stderr); code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", i, code, stderr.String())
		}
		shards = append(shards, out)
	}
	merged := filepath.Join(dir, "merged")
	var stdout, stderr bytes.Buffer
	if code := run(append(append([]string{"experiment", "merge", "--out", merged}, shards...), "--no-report"), &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "0 missing") {
		t.Fatalf("merge with a flag after the shards: exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(merged, "summary.csv")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(merged, "report")); err == nil {
		t.Error("--no-report after the shards: a report was built")
	}
}
