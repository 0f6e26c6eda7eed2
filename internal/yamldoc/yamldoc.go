// Package yamldoc is the one configuration convention of IntelliScale: every
// configuration (sim, env, ppo, dqn, train, experiments, the params of a policy)
// decodes with the same strict YAML helper and reports bad values with one error
// type, FieldError, that names the file, the line and the YAML path of the field.
//
// # The contract
//
// A configuration type T follows raft's Config.validate():
//
//   - It has one method, func (c *T) Validate() error, that fills every unset field
//     with its default in place and rejects bad values and bad combinations, in one
//     place. Validate is idempotent: a validated config validates again unchanged.
//   - Its errors are *FieldError values (several joined with errors.Join) whose Path
//     is relative to T ("control_interval"). A config holding another lifts the inner
//     errors with Within ("sim" + "control_interval" = "sim.control_interval").
//     Validate never wraps a FieldError with fmt.Errorf: the path is rewritten later.
//   - A field's zero value means "use the default" only where zero is never a valid
//     value (a control interval, a concurrency). Where zero means something (min
//     replicas 0 for scale to zero, a zero-length queue, a zero reward weight), the
//     field is a pointer, nil meaning unset, as Kubernetes' *int32 replicas; after
//     Validate such a pointer is never nil. In Go, new(0) says "zero".
//   - Every field has bounds that a real user never meets but that keep a typo from
//     crashing or exhausting the machine (InRange: "sim.control_interval: 1ns: must
//     be at least 100ms"). The bounds are documented on the field.
//
// Decoding a file is Load (or Decode, then Validate, then Locate): the YAML is read
// strictly (an unknown key is an error naming its line), validated, and every
// FieldError gets the file name and the line of its path:
//
//	default.yaml line 14: sim.control_interval: 1ns: must be at least 100ms
//
// A sub-document that is decoded later (the params of a policy) is decoded with
// DecodeNode, which reports the lines of the original file, not of the fragment.
package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxBytes is the largest configuration Decode reads: 1 MiB.
const MaxBytes = 1 << 20

// FieldError is a configuration value that cannot be accepted. Path is the YAML path
// of the field ("policies[3].params.target_utilization"); File and Line say where it
// stands when known (Locate fills them).
type FieldError struct {
	File string // file name; "" when unknown
	Line int    // 1-based line; 0 when unknown
	Path string // YAML path; "" for the whole document
	// Value is the rejected value, shown before the reason (nil: not shown).
	Value any
	Err   error // what is wrong
}

// ErrUnknownKey is the reason of a FieldError for a key the target type does not
// have (its message: unknown key "evry"); test for it with errors.Is.
var ErrUnknownKey = errors.New("unknown key")

// UnknownKey returns the reason of a FieldError for the unknown key k (errors.Is(err,
// ErrUnknownKey) holds), here and in decoders that check keys of their own.
func UnknownKey(k string) error { return fmt.Errorf("%w %q", ErrUnknownKey, k) }

// KindError is the reason of a FieldError for a value of the wrong YAML kind, such
// as a mapping where a number belongs ("a mapping is not a valid float").
type KindError struct {
	Kind string // "a mapping", "a list", ...
	Want string // the type wanted
}

func (e *KindError) Error() string { return fmt.Sprintf("%s is not a valid %s", e.Kind, e.Want) }

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, " line %d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Value != nil {
		switch v := e.Value.(type) {
		case time.Duration:
			fmt.Fprintf(&b, "%s: ", Duration(v))
		case string:
			fmt.Fprintf(&b, "%q: ", v)
		default:
			fmt.Fprintf(&b, "%v: ", v)
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Invalid is the error for field path holding value, rejected for reason.
func Invalid(path string, value any, reason string) error {
	return &FieldError{Path: path, Value: value, Err: errors.New(reason)}
}

// Errorf is the error for field path with a formatted reason and no value.
func Errorf(path, format string, args ...any) error {
	return &FieldError{Path: path, Err: fmt.Errorf(format, args...)}
}

// Errors returns the errors err joins (errors.Join), or err alone; none for nil.
func Errors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// Within returns err with prefix prepended to the path of every FieldError in it
// (joined errors included); any other error becomes a FieldError at prefix. nil
// stays nil.
func Within(prefix string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Within(prefix, e))
		}
		return joinAll(out)
	}
	var fe *FieldError
	if errors.As(err, &fe) && fe == err {
		c := *fe
		c.Path = join(prefix, fe.Path)
		return &c
	}
	return &FieldError{Path: prefix, Err: err}
}

// join joins two paths: "a" + "b" = "a.b", "a" + "[2].b" = "a[2].b".
func join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case path[0] == '[':
		return prefix + path
	}
	return prefix + "." + path
}

// Locate returns err with every FieldError in it placed in file, at the line of its
// path in root (or of the deepest ancestor present) unless it has a line already.
// An error that is not a FieldError is prefixed with the file name.
func Locate(err error, file string, root *yaml.Node) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Locate(e, file, root))
		}
		return joinAll(out)
	}
	fe, ok := err.(*FieldError)
	if !ok {
		return &FieldError{File: file, Err: err}
	}
	c := *fe
	if c.File == "" {
		c.File = file
	}
	if c.Line == 0 && root != nil {
		c.Line = Line(root, c.Path)
	}
	return &c
}

// Validator is a configuration: Validate fills defaults and rejects bad values.
type Validator interface {
	Validate() error
}

// Load decodes data strictly into out (which may hold defaults already: keys present
// in data replace them), validates it and returns every error as a FieldError naming
// file, line and path. The YAML tree is returned for callers that locate errors of
// their own later.
func Load(data []byte, file string, out Validator) (*yaml.Node, error) {
	root, err := Decode(data, file, out)
	if err != nil {
		return root, err
	}
	return root, Locate(out.Validate(), file, root)
}

// LoadReader is Load on what r holds (at most MaxBytes; more is Decode's error).
// name labels errors (a file name).
func LoadReader(r io.Reader, name string, out Validator) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = Load(data, name, out)
	return err
}

// Decode reads data, a single YAML document of at most MaxBytes, strictly into out:
// an unknown key, a value of the wrong type and a second document are errors naming
// file and line (and the field's path when it can be found), and so is a number with
// a fraction for an integer field (which the library would truncate). An empty document
// leaves out as it was. It returns the document's tree.
func Decode(data []byte, file string, out any) (root *yaml.Node, err error) {
	root = &yaml.Node{}
	if len(data) > MaxBytes {
		return root, &FieldError{File: file, Err: fmt.Errorf("larger than %d bytes", MaxBytes)}
	}
	defer func() {
		if r := recover(); r != nil { // the YAML library panics on a few inputs
			err = &FieldError{File: file, Err: fmt.Errorf("unreadable YAML: %v", r)}
		}
	}()
	if err := yaml.Unmarshal(data, root); err != nil {
		return root, syntaxError(file, err, data)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return root, nil
		}
		if e := shapeErrors(err, root, reflect.TypeOf(out)); e != nil {
			return root, Locate(e, file, nil)
		}
		return root, typeErrors(err, file, root, reflect.TypeOf(out), func(path string, line int) int { return line })
	}
	if err := fractions(root, reflect.TypeOf(out), ""); err != nil {
		return root, Locate(err, file, nil)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return root, &FieldError{File: file, Line: extra.Line, Err: errors.New("more than one YAML document")}
	}
	return root, nil
}

// DecodeNode decodes n (a node of a larger document, for example a policy's
// params) strictly into out, which may hold defaults. Errors are FieldErrors with
// paths relative to n and the lines n has in its document; Within and Locate add the
// prefix and the file. A nil, empty or null node leaves out as it was.
func DecodeNode(n *yaml.Node, out any) (err error) {
	if n == nil || n.Kind == 0 {
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = &FieldError{Line: n.Line, Err: fmt.Errorf("unreadable YAML: %v", r)}
		}
	}()
	// The copy below would report a repeated key at the copy's lines: find it here.
	if err := duplicateKey(n, "", 0); err != nil {
		return err
	}
	// yaml.Node.Decode does not reject unknown keys: encode the node again and decode
	// that strictly into a scratch value, mapping the lines of the copy back to the
	// node's; then decode the node itself, so that yaml.Node fields in out keep the
	// lines of the document.
	data, err := yaml.Marshal(n)
	if err != nil {
		return &FieldError{Line: n.Line, Err: err}
	}
	scratch := reflect.New(reflect.TypeOf(out).Elem()).Interface()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(scratch); err != nil && !errors.Is(err, io.EOF) {
		if e := shapeErrors(err, n, reflect.TypeOf(out)); e != nil {
			return e
		}
		var copyRoot yaml.Node
		if yaml.Unmarshal(data, &copyRoot) != nil {
			return &FieldError{Line: n.Line, Err: err}
		}
		return typeErrors(err, "", &copyRoot, reflect.TypeOf(out), func(path string, line int) int {
			if l := Line(n, path); l > 0 {
				return l
			}
			return n.Line
		})
	}
	if err := fractions(n, reflect.TypeOf(out), ""); err != nil {
		return err
	}
	if err := n.Decode(out); err != nil {
		return &FieldError{Line: n.Line, Err: err}
	}
	return nil
}

// duplicateKey returns an error at the second of two equal keys of a mapping in n,
// with the lines n has in its document.
func duplicateKey(n *yaml.Node, path string, depth int) error {
	if n == nil || depth > 100 {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				if l, ok := seen[k.Value]; ok {
					return &FieldError{Line: k.Line, Path: join(path, k.Value), Err: fmt.Errorf("mapping key %q already defined at line %d", k.Value, l)}
				}
				seen[k.Value] = k.Line
			}
			if err := duplicateKey(n.Content[i+1], join(path, k.Value), depth+1); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := duplicateKey(c, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// DecodeParams decodes the params of a policy (a document or a node of one)
// strictly into out, as DecodeNode does, after checking that they are a mapping:
// nil, empty or null is no change; anything else is an error at the node's line.
func DecodeParams(n *yaml.Node, out any) error {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n != nil && n.Kind != 0 && n.Kind != yaml.MappingNode && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return &FieldError{Line: n.Line, Err: errors.New("must be a mapping")}
	}
	return DecodeNode(n, out)
}

// joinAll is errors.Join that returns a single error as it is.
func joinAll(errs []error) error {
	var list []error
	for _, e := range errs {
		if e != nil {
			list = append(list, e)
		}
	}
	if len(list) == 1 {
		return list[0]
	}
	return errors.Join(list...)
}

var (
	lineMsg     = regexp.MustCompile(`^line (\d+): (.*)$`)
	syntaxLine  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	notFound    = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	unmarshalTo = regexp.MustCompile("^cannot unmarshal (\\S+) `(.*)` into (\\S+)$")
	unmarshalOf = regexp.MustCompile(`^cannot unmarshal !!(\w+) into (\S+)$`)
)

// syntaxError turns the YAML library's syntax error into a FieldError. For some
// errors (a key indented wrongly in a block mapping: "did not find expected key")
// the library reports the line where the enclosing block starts, counted from zero,
// which can be far from the mistake; with the document's bytes at hand, the line is
// the first one at which a prefix of the document fails with the same message, the
// line the parser could not go past.
func syntaxError(file string, err error, data []byte) error {
	m := syntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &FieldError{File: file, Err: errors.New(strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	line, _ := strconv.Atoi(m[1])
	if at := failingLine(data, m[2]); at > 0 {
		line = at
	}
	return &FieldError{File: file, Line: line, Err: errors.New(m[2])}
}

// maxScan bounds the bytes failingLine parses in all (configurations are small).
const maxScan = 64 << 20

// failingLine is the first line (from 1) at which the document's prefix of whole
// lines fails to parse with the message msg, or 0 when none does within maxScan
// bytes of parsing.
func failingLine(data []byte, msg string) int {
	spent := 0
	for end, line := 0, 1; end < len(data); line++ {
		next := bytes.IndexByte(data[end:], '\n')
		if next < 0 {
			end = len(data)
		} else {
			end += next + 1
		}
		if spent += end; spent > maxScan {
			return 0
		}
		if err := parsePrefix(data[:end]); err != nil {
			if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil && m[2] == msg {
				return line
			}
		}
	}
	return 0
}

func parsePrefix(b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil { // the YAML library panics on a few inputs
			err = fmt.Errorf("unreadable YAML: %v", r)
		}
	}()
	var n yaml.Node
	return yaml.Unmarshal(b, &n)
}

// shapeErrors locates an error the YAML library reports without a line (a list
// of the wrong length for a fixed-size array: "invalid array: want 3 elements but
// got 2") by walking tree beside t; nil when err is a TypeError or the walk finds
// nothing.
func shapeErrors(err error, tree *yaml.Node, t reflect.Type) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return nil
	}
	return fractions(tree, t, "")
}

// typeErrors turns a yaml.TypeError into FieldErrors: the path is found in tree (the
// document the decoder read) at the reported line, and lineOf maps it to the line to
// report; t, the type decoded into, names the keys an unknown key could have meant.
func typeErrors(err error, file string, tree *yaml.Node, t reflect.Type, lineOf func(path string, line int) int) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return syntaxError(file, err, nil)
	}
	var out []error
	for _, msg := range te.Errors {
		fe := &FieldError{File: file}
		m := lineMsg.FindStringSubmatch(msg)
		if m == nil {
			fe.Err = errors.New(msg)
			out = append(out, fe)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		text := m[2]
		if k := notFound.FindStringSubmatch(text); k != nil {
			fe.Path, _ = pathAt(tree, line, k[1])
			fe.Err = unknownKeyAt(t, fe.Path, k[1])
		} else {
			switch u, o := unmarshalTo.FindStringSubmatch(text), unmarshalOf.FindStringSubmatch(text); {
			case u != nil:
				fe.Path, _ = pathAtValue(tree, line, u[2])
				fe.Value = u[2]
				fe.Err = fmt.Errorf("not a valid %s", typeName(u[3]))
				if keys := keysAt(t, fe.Path); len(keys) > 0 {
					// A scalar where a mapping goes: say which keys it takes.
					fe.Err = fmt.Errorf("want a mapping (keys: %s)", strings.Join(keys, ", "))
				}
			case o != nil:
				fe.Path, _ = pathAt(tree, line, "")
				kind := map[string]string{"seq": "a list", "map": "a mapping"}[o[1]]
				if kind == "" {
					kind = "a " + o[1]
				}
				fe.Err = &KindError{Kind: kind, Want: typeName(o[2])}
			default:
				fe.Path, _ = pathAt(tree, line, "")
				fe.Err = errors.New(text)
			}
		}
		fe.Line = lineOf(fe.Path, line)
		out = append(out, fe)
	}
	return joinAll(out)
}

// typeName reads a Go type as a user would: time.Duration is a duration ("15s").
func typeName(t string) string {
	switch {
	case t == "time.Duration":
		return `duration (for example "15s")`
	case strings.HasPrefix(t, "[]"):
		return "list"
	case strings.HasPrefix(t, "map["):
		return "mapping"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "integer (" + t + ")"
	case strings.HasPrefix(t, "float"):
		return "number"
	case t == "bool":
		return "boolean (true or false)"
	case t == "string":
		return "string"
	}
	return "value for this field (" + t + ")"
}

// pathAt returns the path of the mapping key at line called key (any key on that
// line when key is ""), "" when there is none.
func pathAt(tree *yaml.Node, line int, key string) (string, bool) {
	return walk(top(tree), "", func(k *yaml.Node) bool { return k.Line == line && (key == "" || k.Value == key) }, nil, 0)
}

// pathAtValue returns the path of the scalar at line whose text is value, or of the
// first key on that line.
func pathAtValue(tree *yaml.Node, line int, value string) (string, bool) {
	if p, ok := walk(top(tree), "", nil, func(v *yaml.Node) bool { return v.Line == line && v.Value == value }, 0); ok {
		return p, true
	}
	return pathAt(tree, line, "")
}

func top(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// walk returns the path of the first mapping key matching isKey or scalar value
// matching isValue, depth first.
func walk(n *yaml.Node, path string, isKey, isValue func(*yaml.Node) bool, depth int) (string, bool) {
	if n == nil || depth > 100 {
		return "", false
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if isKey != nil && isKey(k) {
				return p, true
			}
			if p2, ok := walk(v, p, isKey, isValue, depth+1); ok {
				return p2, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := walk(c, path+"["+strconv.Itoa(i)+"]", isKey, isValue, depth+1); ok {
				return p, true
			}
		}
	case yaml.ScalarNode:
		if isValue != nil && isValue(n) {
			return path, true
		}
	}
	return "", false
}

// Line returns the line of the node at path (keys separated by dots, a sequence
// index in brackets), or of its deepest ancestor present; 0 when not even the first
// key is.
func Line(doc *yaml.Node, path string) int {
	n, line, _ := follow(doc, path)
	if path == "" && n != nil {
		return n.Line
	}
	return line
}

// follow follows path (keys separated by dots, a sequence index in brackets) from
// the top of doc. It returns the node there (ok), or else ok false; line is that
// of the deepest part found (a key's line, or a sequence element's).
func follow(doc *yaml.Node, path string) (n *yaml.Node, line int, ok bool) {
	n = doc
	if n == nil {
		return nil, 0, false
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if path == "" {
		return n, 0, true
	}
	for _, part := range splitPath(path) {
		key, idx, ok := pathPart(part)
		if !ok {
			return nil, line, false
		}
		next := n
		if key != "" {
			next = nil
			if n.Kind == yaml.MappingNode {
				for k := 0; k+1 < len(n.Content); k += 2 {
					if n.Content[k].Value == key {
						next, line = n.Content[k+1], n.Content[k].Line
						break
					}
				}
			}
			if next == nil {
				return nil, line, false
			}
		}
		if idx >= 0 {
			if next.Kind != yaml.SequenceNode || idx >= len(next.Content) {
				return nil, line, false
			}
			next = next.Content[idx]
			line = next.Line
		}
		n = next
	}
	return n, line, true
}

// splitPath splits "a.b[2].c" into "a", "b[2]", "c", and "[2].c" into "[2]", "c".
func splitPath(path string) []string {
	return strings.Split(path, ".")
}

// Has reports whether the mapping at path in doc holds key (path "" is the top).
func Has(doc *yaml.Node, path, key string) bool {
	_, ok := Child(doc, path, key)
	return ok
}

// pathPart splits one part of a path into its key and sequence index: "b[2]" is
// "b" and 2, "[2]" is "" and 2, "b" is "b" and -1; ok is false for a malformed
// index.
func pathPart(part string) (key string, idx int, ok bool) {
	i := strings.IndexByte(part, '[')
	if i < 0 || !strings.HasSuffix(part, "]") {
		return part, -1, true
	}
	v, err := strconv.Atoi(part[i+1 : len(part)-1])
	if err != nil || v < 0 {
		return "", 0, false
	}
	return part[:i], v, true
}

// Child returns the key node called key of the mapping at path in doc (keys
// separated by dots, a sequence index in brackets: "traces[1]").
func Child(doc *yaml.Node, path, key string) (*yaml.Node, bool) {
	n, _, ok := follow(doc, path)
	if !ok || n.Kind != yaml.MappingNode {
		return nil, false
	}
	for k := 0; k+1 < len(n.Content); k += 2 {
		if n.Content[k].Value == key {
			return n.Content[k], true
		}
	}
	return nil, false
}

// ParseInline parses parameters given inline on a command line (for example
// `{cooldown_down: 10s}` or `headroom_scale: 0.8`) into a node for DecodeNode; an
// empty or blank string is nil (every parameter at its default). Errors say
// "params" and the string.
func ParseInline(s string) (*yaml.Node, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil {
		return nil, fmt.Errorf("params %q: %w", s, err)
	}
	return &n, nil
}

// Overlay returns base with over laid on it, as a new tree: where both are
// mappings, each key of over replaces base's value for that key, recursively;
// anywhere else over replaces base whole. Neither tree is changed; over's nodes
// (and their lines, for errors) are shared with the result, base's are copied
// with their lines cleared, since they stand in no file the user wrote.
func Overlay(base, over *yaml.Node) *yaml.Node {
	switch {
	case over == nil || over.Kind == 0:
		return unlined(base)
	case base == nil || base.Kind == 0 || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode:
		return over
	}
	out := unlined(base)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		j := 0
		for j+1 < len(out.Content) && out.Content[j].Value != k.Value {
			j += 2
		}
		if j+1 < len(out.Content) {
			out.Content[j], out.Content[j+1] = k, Overlay(out.Content[j+1], v)
		} else {
			out.Content = append(out.Content, k, v)
		}
	}
	return out
}

// unlined is a deep copy of n with every line and column cleared.
func unlined(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Line, c.Column = 0, 0
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = unlined(x)
	}
	return &c
}
