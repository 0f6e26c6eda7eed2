package yamldoc

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The YAML library decodes a number with a fraction into an integer field by
// truncating it (concurrency: 4.5 became 4, seeds: [1.5] became [1]). fractions walks
// the document beside the type it was decoded into and reports every such number as
// the library reports a value of the wrong type, so that a typo is an error naming
// its line instead of a silently different configuration. Integral numbers written
// as floats (1e6, 4.0) stay accepted.
//
// The same walk refuses an explicit zero for a field tagged `yamldoc:"nozero"`: a
// field whose zero value stands for "unset" and is replaced by a default (steps: 0
// trained the default 200,000 steps, seed: 0 ran seed 1), so that writing the zero
// is an error naming its line rather than a run of another value.

var (
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	nodeType        = reflect.TypeOf(yaml.Node{})
	durationType    = reflect.TypeOf(time.Duration(0))
)

// fractions returns a FieldError (several joined) for every number with a fraction
// that n holds where t, the type n was decoded into, has an integer, every written
// zero of a nozero field, and every list whose length is not that of the fixed-size
// array it is decoded into (which the library reports without a line); path is n's.
func fractions(n *yaml.Node, t reflect.Type, path string) error {
	var out []error
	collectFractions(n, t, path, 0, &out)
	return joinAll(out)
}

func collectFractions(n *yaml.Node, t reflect.Type, path string, depth int, out *[]error) {
	if n == nil || t == nil || depth > 100 {
		return
	}
	line := n.Line // an alias is reported where it stands, not at its anchor
	for n.Kind == yaml.AliasNode && n.Alias != nil && depth <= 100 {
		n, depth = n.Alias, depth+1
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) > 0 {
			collectFractions(n.Content[0], t, path, depth+1, out)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// Types that decode themselves (and yaml.Node, decoded later with DecodeNode,
	// which checks it then) are theirs to check.
	if t == nodeType || t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if t == durationType || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!float" {
			return
		}
		if v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && v == math.Trunc(v) {
			return
		}
		*out = append(*out, &FieldError{Line: line, Path: path, Value: n.Value, Err: fmt.Errorf("not a valid %s", typeName(t.String()))})
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		if t.Kind() == reflect.Array && len(n.Content) != t.Len() {
			*out = append(*out, &FieldError{Line: line, Path: path, Err: fmt.Errorf("want a list of %d values, got %d", t.Len(), len(n.Content))})
			return
		}
		for i, c := range n.Content {
			collectFractions(c, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1, out)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			collectFractions(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), depth+1, out)
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a merge key: the merged mapping's keys are the struct's
				collectFractions(v, t, path, depth+1, out)
				continue
			}
			if f, ok := field(t, k.Value); ok {
				if z, ok := isZero(v); ok && f.Tag.Get("yamldoc") == "nozero" {
					hint := ""
					if h := f.Tag.Get("nozero"); h != "" {
						hint = "; " + h
					}
					*out = append(*out, &FieldError{Line: v.Line, Path: join(path, k.Value),
						Err: fmt.Errorf("%s: 0 stands for unset here, which takes the default: leave the key out for the default, or give another value%s", z, hint)})
				}
				collectFractions(v, f.Type, join(path, k.Value), depth+1, out)
			}
		}
	}
}

// isZero returns the text of n, an alias followed, and whether it is zero: a scalar
// number or duration such as 0s, or a list of them all zero ([0, 0]).
func isZero(n *yaml.Node) (string, bool) {
	for d := 0; n.Kind == yaml.AliasNode && n.Alias != nil && d <= 100; d++ {
		n = n.Alias
	}
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		texts := make([]string, len(n.Content))
		for i, c := range n.Content {
			t, ok := isZero(c)
			if !ok {
				return "", false
			}
			texts[i] = t
		}
		return "[" + strings.Join(texts, ", ") + "]", true
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", false
	}
	v := strings.ReplaceAll(n.Value, "_", "")
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return n.Value, f == 0
	}
	d, err := time.ParseDuration(v)
	return n.Value, err == nil && d == 0
}

// fieldType returns the type of the field of struct t that the YAML key decodes
// into, looking into inline structs as the library does.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	f, ok := field(t, key)
	return f.Type, ok
}

// field returns the field of struct t that the YAML key decodes into.
func field(t reflect.Type, key string) (f reflect.StructField, ok bool) {
	eachKey(t, 0, func(name string, sf reflect.StructField) bool {
		if name == key {
			f, ok = sf, true
		}
		return !ok
	})
	return f, ok
}

// eachKey calls fn with the YAML key and the field of each field of struct t, in
// field order, looking into inline structs as the library does, until fn returns
// false; it returns false then.
func eachKey(t reflect.Type, depth int, fn func(key string, f reflect.StructField) bool) bool {
	if depth > 10 {
		return true
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") {
			if ft := deref(f.Type); ft.Kind() == reflect.Struct && !eachKey(ft, depth+1, fn) {
				return false
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if !fn(name, f) {
			return false
		}
	}
	return true
}
