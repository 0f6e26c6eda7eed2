package yamlpath

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLine(t *testing.T) {
	src := "name: x\npolicies:\n  - name: a\n    kind: hpa\n  - name: b\n    kind: ppo\n    train:\n      steps: 5\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"name", 1},
		{"policies", 2},
		{"policies[0]", 3},
		{"policies[1].kind", 6},
		{"policies[1].train.steps", 8},
		{"policies[1].train.missing", 7}, // deepest ancestor present
		{"policies[9].kind", 2},          // index out of range: the sequence's key
		{"policies[x].kind", 0},          // malformed index
		{"seeds", 0},                     // not there at all
	} {
		if got := Line(&doc, tc.path); got != tc.want {
			t.Errorf("Line(%q) = %d, want %d", tc.path, got, tc.want)
		}
	}
}
