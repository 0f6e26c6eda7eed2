// Package yamldoc helps read YAML configuration strictly: it decodes a node with
// unknown keys as errors, and finds where a field path such as "policies[3].kind"
// stands so that validation errors can name the line.
package yamldoc

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Line returns the line of the node at path (keys separated by dots, a sequence
// index in brackets), or of its deepest ancestor present; 0 when not even the first
// key is.
func Line(doc *yaml.Node, path string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			v, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil {
				return line
			}
			key, idx = part[:i], v
		}
		var next *yaml.Node
		if n.Kind == yaml.MappingNode {
			for k := 0; k+1 < len(n.Content); k += 2 {
				if n.Content[k].Value == key {
					next, line = n.Content[k+1], n.Content[k].Line
					break
				}
			}
		}
		if next == nil {
			return line
		}
		if idx >= 0 {
			if next.Kind != yaml.SequenceNode || idx >= len(next.Content) {
				return line
			}
			next = next.Content[idx]
			line = next.Line
		}
		n = next
	}
	return line
}

// DecodeNode decodes n into out with unknown keys as errors, which yaml.Node's own
// Decode does not check: the node is encoded again and decoded strictly. An empty
// document leaves out as it was.
func DecodeNode(n *yaml.Node, out any) error {
	data, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
