package fluid_test

import (
	"testing"

	"gopkg.in/yaml.v3"
)

type yamlNode = yaml.Node

func parseYAML(t testing.TB, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}
