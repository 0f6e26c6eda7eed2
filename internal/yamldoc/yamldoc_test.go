package yamldoc

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

func TestDecodeNode(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("a: 1\nb: two\n"), &doc); err != nil {
		t.Fatal(err)
	}
	var ok struct {
		A int    `yaml:"a"`
		B string `yaml:"b"`
	}
	if err := DecodeNode(doc.Content[0], &ok); err != nil || ok.A != 1 || ok.B != "two" {
		t.Fatalf("decoded %+v, %v", ok, err)
	}
	var short struct {
		A int `yaml:"a"`
	}
	if err := DecodeNode(doc.Content[0], &short); err == nil {
		t.Fatal("unknown key b accepted")
	}
}
