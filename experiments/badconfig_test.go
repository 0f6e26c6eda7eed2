package experiments

import (
	"slices"
	"strings"
	"testing"
)

// A key written out with nothing in it is a mistake, not a request for the
// default: it is refused at its line, as seeds: [] and eval: [] are.
func TestParseRefusesKeysWrittenEmpty(t *testing.T) {
	head := "name: x\ntraces:\n  - name: a\n    builtin: bursty\n"
	pols := "policies:\n  - {name: t, kind: hpa}\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"split empty mapping", head + "    split: {}\n" + pols,
			"c.yaml line 5: traces[0].split: no share given"},
		{"split every share zero", head + "    split: {train: 0, validation: 0, test: 0}\n" + pols,
			"c.yaml line 5: traces[0].split: no share given"},
		{"split null", head + "    split:\n" + pols,
			"c.yaml line 5: traces[0].split: no share given"},
		{"split of the second trace", head + "  - name: b\n    builtin: step\n    split: {}\n" + pols,
			"c.yaml line 7: traces[1].split: no share given"},
		{"slo_levels empty", head + pols + "slo_levels: []\n",
			"c.yaml line 7: slo_levels: at least one level is required"},
		{"slo_levels null", head + pols + "slo_levels:\n",
			"c.yaml line 7: slo_levels: at least one level is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "c.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// What the empty keys' refusal must leave alone: the keys left out (the
// defaults), a split beside windows (unused; a resolved config.yaml writes it as
// zeros) and the resolved config of every case read again.
func TestParseKeepsDefaultsOfKeysLeftOut(t *testing.T) {
	pols := "policies:\n  - {name: t, kind: hpa}\n"
	cases := []struct {
		name, yaml string
		split      Split
		levels     []float64
	}{
		{"split left out", "name: x\ntraces:\n  - {name: a, builtin: bursty}\n" + pols,
			Split{Train: 0.6, Validation: 0.2, Test: 0.2}, nil},
		{"split given", "name: x\ntraces:\n  - {name: a, builtin: bursty, split: {train: 0.5, validation: 0.25, test: 0.25}}\n" + pols + "slo_levels: [3]\n",
			Split{Train: 0.5, Validation: 0.25, Test: 0.25}, []float64{3}},
		{"zero split beside windows", "name: x\ntraces:\n  - name: a\n    builtin: bursty\n    split: {train: 0, validation: 0, test: 0}\n" +
			"    windows: {train: {start: 0h, end: 24h}, validation: {start: 24h, end: 36h}, test: {start: 36h, end: 48h}}\n" + pols,
			Split{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.yaml), "c.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Traces[0].Split; got != c.split {
				t.Errorf("split %+v, want %+v", got, c.split)
			}
			if !slices.Equal(cfg.SLOLevels, c.levels) {
				t.Errorf("slo_levels %v, want %v", cfg.SLOLevels, c.levels)
			}
			data, err := marshalConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(data, "config.yaml"); err != nil {
				t.Fatalf("the resolved config does not read again: %v\n%s", err, data)
			}
		})
	}
}
