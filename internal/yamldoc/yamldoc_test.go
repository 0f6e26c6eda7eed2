package yamldoc

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

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
	// A fraction for an integer is an error at its line, not truncated.
	var frac yaml.Node
	if err := yaml.Unmarshal([]byte("b: two\na: 1.5\n"), &frac); err != nil {
		t.Fatal(err)
	}
	err := DecodeNode(frac.Content[0], &ok)
	if want := `line 2: a: "1.5": not a valid integer (int)`; err == nil || err.Error() != want {
		t.Fatalf("fraction: %v, want %s (decoded %+v)", err, want, ok)
	}
}

type inner struct {
	Rate  float64       `yaml:"rate"`
	Every time.Duration `yaml:"every"`
}

type outer struct {
	Name   string         `yaml:"name"`
	Sim    inner          `yaml:"sim"`
	List   []inner        `yaml:"list"`
	Params yaml.Node      `yaml:"params"`
	Ptr    *int           `yaml:"ptr"`
	M      map[string]int `yaml:"m"`
	Frac   [3]float64     `yaml:"frac"`
}

func (o *outer) Validate() error {
	if o.Ptr == nil {
		o.Ptr = new(7)
	}
	return Within("sim", InRange("every", o.Sim.Every, 100*time.Millisecond, time.Hour))
}

func TestDecodeErrorsNameFileLineAndPath(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		// An unknown key is named with the key it likely meant, or the known keys.
		{"unknown key", "name: a\nsim:\n  rate: 1\n  rat: 2\n", `c.yaml line 4: sim.rat: unknown key "rat" (did you mean "rate"?)`},
		{"unknown key in list", "list:\n  - rate: 1\n  - every: 1s\n    evry: 2s\n", `c.yaml line 4: list[1].evry: unknown key "evry" (did you mean "every"?)`},
		{"unknown key in flow mapping", "sim: {rate: 1, bogus: 2}\n", `c.yaml line 1: sim.bogus: unknown key "bogus" (known keys: rate, every)`},
		{"unknown key at the top", "nam: a\n", `c.yaml line 1: nam: unknown key "nam" (did you mean "name"?)`},
		{"unknown key far from any", "sim:\n  latency: 1s\n", `c.yaml line 2: sim.latency: unknown key "latency" (known keys: rate, every)`},
		{"bad duration", "sim:\n  every: fast\n", `c.yaml line 2: sim.every: "fast": not a valid duration (for example "15s")`},
		// A scalar where a mapping goes names the mapping's keys.
		{"scalar for a mapping", "sim: 5\n", `c.yaml line 1: sim: "5": want a mapping (keys: rate, every)`},
		{"scalar for a mapping in a list", "list:\n  - fast\n", `c.yaml line 2: list[0]: "fast": want a mapping (keys: rate, every)`},
		{"bad number", "name: a\nsim:\n  rate: [1]\n", `c.yaml line 3: sim.rate: a list is not a valid number`},
		{"syntax", "name: a\n  b: c\n", `c.yaml line 2: mapping values are not allowed in this context`},
		// The library itself names the line where the top-level mapping starts,
		// counted from zero (line 1 here); the line is where parsing stops.
		{"key out of its block", "# c\nname: a\nsim:\n  rate: 1\npolicies:\n    sweep: {a: 1}\n\n  - name: hpa\n", `c.yaml line 8: did not find expected key`},
		{"sequence under a mapping", "name: a\nlist:\n  rate: 1\n - every: 1s\n", `c.yaml line 4: `},
		{"fraction for an integer", "name: a\nptr: 2.5\n", `c.yaml line 2: ptr: "2.5": not a valid integer (int)`},
		{"fraction for an integer in a map", "m:\n  a: 1\n  b: 1e-3\n", `c.yaml line 3: m.b: "1e-3": not a valid integer (int)`},
		{"fraction for an integer through an alias", "list:\n  - rate: &half 0.5\nptr: *half\n", `c.yaml line 3: ptr: "0.5": not a valid integer (int)`},
		// A fixed-size list of another length: the library names neither line nor key.
		{"short fixed-size list", "name: a\nfrac: [0.5, 0.5]\n", `c.yaml line 2: frac: want a list of 3 values, got 2`},
		{"long fixed-size list", "frac:\n  - 0.1\n  - 0.1\n  - 0.1\n  - 0.7\n", `c.yaml line 2: frac: want a list of 3 values, got 4`},
		{"two documents", "name: a\n---\nname: b\n", `c.yaml line 2: more than one YAML document`},
		{"bound", "name: a\nsim:\n  every: 1ns\n", `c.yaml line 3: sim.every: 1ns: must be at least 100ms`},
		{"top level scalar", "hello\n", `c.yaml line 1: `},
		{"too large", strings.Repeat("#", MaxBytes+1), `c.yaml: larger than`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o outer
			o.Sim.Every = time.Second
			_, err := Load([]byte(tc.src), "c.yaml", &o)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant prefix %s", err, tc.want)
			}
			// LoadReader reads the same bytes (more than MaxBytes too) and fails alike.
			var o2 outer
			o2.Sim.Every = time.Second
			if err2 := LoadReader(strings.NewReader(tc.src), "c.yaml", &o2); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("LoadReader: %v, Load: %v", err2, err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.File != "c.yaml" {
				t.Fatalf("not a FieldError naming the file: %#v", err)
			}
		})
	}
}

func TestLoadKeepsDefaultsAndPointers(t *testing.T) {
	o := outer{Name: "default", Sim: inner{Rate: 3, Every: time.Second}}
	if _, err := Load([]byte("sim: {rate: 5}\nptr: 0\n"), "c.yaml", &o); err != nil {
		t.Fatal(err)
	}
	if o.Name != "default" || o.Sim.Rate != 5 || o.Sim.Every != time.Second || o.Ptr == nil || *o.Ptr != 0 {
		t.Fatalf("got %+v (ptr %v)", o, o.Ptr)
	}
	o = outer{Sim: inner{Every: time.Second}}
	if _, err := Load(nil, "c.yaml", &o); err != nil || o.Ptr == nil || *o.Ptr != 7 {
		t.Fatalf("empty document: %v, ptr %v", err, o.Ptr)
	}
}

func TestDecodeNodeReportsTheDocumentsLines(t *testing.T) {
	src := "name: a\nparams:\n  rate: 1\n  every: 2s\n  evry: 3s\n"
	var o outer
	root, err := Decode([]byte(src), "c.yaml", &o)
	if err != nil {
		t.Fatal(err)
	}
	var in inner
	err = Locate(Within("params", DecodeNode(&o.Params, &in)), "c.yaml", root)
	if err == nil || err.Error() != `c.yaml line 5: params.evry: unknown key "evry" (did you mean "every"?)` {
		t.Fatalf("got %v", err)
	}
	in = inner{}
	if err := DecodeNode(&yaml.Node{}, &in); err != nil || in != (inner{}) {
		t.Fatalf("empty node: %v %+v", err, in)
	}
}

// TestDecodeNodeRepeatedKey: a key given twice in a node is reported at the second
// one, with the document's lines (not those of the copy DecodeNode decodes).
func TestDecodeNodeRepeatedKey(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{"name: a\nparams:\n  rate: 1\n  every: 2s\n  rate: 3\n", `c.yaml line 5: params.rate: mapping key "rate" already defined at line 3`},
		{"name: a\nparams:\n  list:\n    - rate: 1\n      rate: 2\n", `c.yaml line 5: params.list[0].rate: mapping key "rate" already defined at line 4`},
	} {
		var o outer
		root, err := Decode([]byte(tc.src), "c.yaml", &o)
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			Rate  float64 `yaml:"rate"`
			Every string  `yaml:"every"`
			List  []inner `yaml:"list"`
		}
		err = Locate(Within("params", DecodeNode(&o.Params, &in)), "c.yaml", root)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v\nwant %s", err, tc.want)
		}
	}
}

func TestWithinAndLocateJoined(t *testing.T) {
	err := errors.Join(Invalid("a", 1, "bad"), Errorf("b[2].c", "worse"), errors.New("plain"))
	err = Within("x", err)
	root := &yaml.Node{}
	if err := yaml.Unmarshal([]byte("x:\n  a: 1\n  b:\n    - 1\n    - 2\n    - c: 3\n"), root); err != nil {
		t.Fatal(err)
	}
	got := Locate(err, "f.yaml", root).Error()
	want := "f.yaml line 2: x.a: 1: bad\nf.yaml line 6: x.b[2].c: worse\nf.yaml line 1: x: plain"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestInRange(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{InRange("d", time.Nanosecond, 100*time.Millisecond, time.Hour), "d: 1ns: must be at least 100ms"},
		{InRange("d", 2*time.Hour, time.Second, time.Hour), "d: 2h: must be at most 1h"},
		{InRange("n", 0, 1, 10), "n: 0: must be at least 1"},
		{InRange("f", math.NaN(), 0, 1), "f: NaN: must be a finite number in [0, 1]"},
		{InRange("f", math.Inf(1), 0, 1), "f: +Inf: must be a finite number in [0, 1]"},
	} {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("got %v, want %s", tc.err, tc.want)
		}
	}
	if err := InRange("n", 5, 1, 10); err != nil {
		t.Error(err)
	}
}

// TestParseInline: blank is no parameters; a mapping decodes strictly like any
// other params; bad YAML is an error quoting the string.
func TestParseInline(t *testing.T) {
	for _, s := range []string{"", "  \t"} {
		if n, err := ParseInline(s); n != nil || err != nil {
			t.Errorf("%q: %v, %v; want nil, nil", s, n, err)
		}
	}
	n, err := ParseInline("{a: 2}")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ A int }
	if err := DecodeNode(n, &v); err != nil || v.A != 2 {
		t.Errorf("decoded %+v, %v", v, err)
	}
	var w struct{ B int }
	if err := DecodeNode(n, &w); err == nil || !strings.Contains(err.Error(), "field a not found") {
		t.Errorf("strict decode: %v", err)
	}
	if _, err := ParseInline("{a: [1"); err == nil || !strings.Contains(err.Error(), `params "{a: [1"`) {
		t.Errorf("bad YAML: %v", err)
	}
}

func TestOverlay(t *testing.T) {
	parse := func(s string) *yaml.Node {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			t.Fatal(err)
		}
		return n.Content[0]
	}
	base := parse("env: {fidelity: fluid, actions: [40, 90], shield: {scale_down_window: 10m}}\nppo: {gamma: 0.95}\n")
	over := parse("env:\n  actions: [50]\n  shield: {max_down_percent: 5}\nselection: {every: 100}\n")
	got := Overlay(base, over)
	var m map[string]any
	if err := got.Decode(&m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"env": map[string]any{"fidelity": "fluid", "actions": []any{50},
			"shield": map[string]any{"scale_down_window": "10m", "max_down_percent": 5}},
		"ppo":       map[string]any{"gamma": 0.95},
		"selection": map[string]any{"every": 100},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("overlay: %v\nwant %v", m, want)
	}
	// Over's nodes keep their lines (errors point into the user's file); base's
	// copies have none; base itself is untouched.
	if v, _ := Child(got, "env", "actions"); v.Line != 2 {
		t.Errorf("over's line: %d, want 2", v.Line)
	}
	if v, _ := Child(got, "env", "fidelity"); v.Line != 0 {
		t.Errorf("base's copy keeps line %d", v.Line)
	}
	var b map[string]any
	if err := base.Decode(&b); err != nil || len(b["env"].(map[string]any)["actions"].([]any)) != 2 {
		t.Errorf("base changed: %v %v", b, err)
	}
	// Nothing laid on: a copy of base; a scalar over a mapping: the scalar.
	if g := Overlay(base, nil); g == base || g.Kind != yaml.MappingNode || len(g.Content) != 4 {
		t.Errorf("nil over: %+v", g)
	}
	if g := Overlay(base, parse("3")); g.Value != "3" {
		t.Errorf("scalar over: %+v", g)
	}
}

// keysAt follows keys, list indices and map values to the struct an unknown key
// stands in, and names no keys where the document may hold any (a map, a yaml.Node).
func TestKeysAt(t *testing.T) {
	ot := reflect.TypeOf(outer{})
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"", []string{"name", "sim", "list", "params", "ptr", "m", "frac"}},
		{"sim", []string{"rate", "every"}},
		{"list[3]", []string{"rate", "every"}},
		{"params", nil},
		{"m", nil},
		{"nosuch", nil},
		{"name", nil},
	} {
		if got := keysAt(ot, tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("keysAt(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	if got := closest("evry", []string{"rate", "every"}); got != "every" {
		t.Errorf("closest(evry) = %q", got)
	}
	if got := closest("ab", []string{"rate", "every"}); got != "" {
		t.Errorf("closest(ab) = %q, want none: two edits are most of the word", got)
	}
}

// A field tagged yamldoc:"nozero" refuses a written zero (a number, a duration, through
// an alias or a merge key, and in DecodeNode alike), naming its line; left out, or
// written as another value, it decodes as before, and an untagged field takes zero.
func TestNoZero(t *testing.T) {
	type inner struct {
		Steps int           `yaml:"steps" yamldoc:"nozero"`
		Eps   float64       `yaml:"eps" yamldoc:"nozero"`
		Every time.Duration `yaml:"every" yamldoc:"nozero"`
		Seed  uint64        `yaml:"seed" yamldoc:"nozero"`
		Plain int           `yaml:"plain"`
		Range [2]float64    `yaml:"range" yamldoc:"nozero"`
		Warm  time.Duration `yaml:"warm" yamldoc:"nozero" nozero:"for none, give a negative value"`
	}
	type doc struct {
		In   inner          `yaml:"in"`
		List []inner        `yaml:"list"`
		Base map[string]int `yaml:"base"` // zeros allowed: a merge key's source
	}
	for _, tc := range []struct{ name, src, want string }{
		{"integer", "in:\n  steps: 0\n", "c.yaml line 2: in.steps: 0: 0 stands for unset here"},
		{"float", "in: {eps: 0.0}\n", "c.yaml line 1: in.eps: 0.0: 0 stands for unset"},
		{"exponent", "in: {eps: 0e5}\n", "c.yaml line 1: in.eps: 0e5: 0 stands for unset"},
		{"duration", "in:\n  every: 0s\n", "c.yaml line 2: in.every: 0s: 0 stands for unset"},
		{"unsigned in a list", "list:\n  - seed: 1\n  - seed: 0\n", "c.yaml line 3: list[1].seed: 0: 0 stands for unset"},
		{"alias", "list:\n  - plain: &z 0\nin: {steps: *z}\n", "c.yaml line 3: in.steps: 0: 0 stands for unset"},
		{"merge key", "base: &b {steps: 0}\nin:\n  <<: *b\n", "c.yaml line 1: in.steps: 0: 0 stands for unset"},
		{"list of zeros", "in: {range: [0, 0.0]}\n", "c.yaml line 1: in.range: [0, 0.0]: 0 stands for unset"},
		{"hint", "in: {warm: 0s}\n", "c.yaml line 1: in.warm: 0s: 0 stands for unset here, which takes the default: leave the key out for the default, or give another value; for none, give a negative value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			var d doc
			var err error
			_, err = Decode([]byte(src), "c.yaml", &d)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant prefix %s", err, tc.want)
			}
		})
	}
	var d doc
	if _, err := Decode([]byte("in: {steps: 3, eps: 1e-5, every: 1s, seed: 7, plain: 0, range: [0, 1], warm: -1s}\nlist: [{}]\n"), "c.yaml", &d); err != nil {
		t.Fatalf("valid values refused: %v", err)
	}
	if d.In.Steps != 3 || d.In.Seed != 7 || d.In.Every != time.Second || len(d.List) != 1 {
		t.Fatalf("decoded %+v", d)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("steps: 0\n"), &n); err != nil {
		t.Fatal(err)
	}
	if err := DecodeNode(&n, &d.In); err == nil || !strings.Contains(err.Error(), "line 1: steps: 0: 0 stands for unset") {
		t.Fatalf("DecodeNode: %v", err)
	}
}

func TestDecodeNodeFixedSizeList(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("params:\n  name: a\n  frac: [1]\n"), &doc); err != nil {
		t.Fatal(err)
	}
	var o outer
	err := DecodeNode(doc.Content[0].Content[1], &o)
	if err == nil || err.Error() != "line 3: frac: want a list of 3 values, got 1" {
		t.Fatalf("got %v", err)
	}
}

func TestErrors(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	if got := Errors(errors.Join(a, b)); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("joined: %v", got)
	}
	if got := Errors(a); len(got) != 1 || got[0] != a {
		t.Errorf("one: %v", got)
	}
	if got := Errors(nil); got != nil {
		t.Errorf("nil: %v", got)
	}
}

// Has and Child follow a path through sequences by index, as Line does.
func TestHasThroughSequences(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("traces:\n  - {name: a}\n  - {name: b, split: {}}\nsim: {slo: {latency: 1s}}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, key string
		want      bool
	}{
		{"traces[1]", "split", true},
		{"traces[0]", "split", false},
		{"traces[0]", "name", true},
		{"traces[2]", "name", false},
		{"traces[x]", "name", false},
		{"traces", "name", false},
		{"sim.slo", "latency", true},
		{"sim[0]", "slo", false},
	} {
		if got := Has(&doc, c.path, c.key); got != c.want {
			t.Errorf("Has(%q, %q) = %v, want %v", c.path, c.key, got, c.want)
		}
	}
	if k, ok := Child(&doc, "traces[1]", "split"); !ok || k.Line != 3 {
		t.Errorf("Child(traces[1], split): %v, line %d; want line 3", ok, k.Line)
	}
}
