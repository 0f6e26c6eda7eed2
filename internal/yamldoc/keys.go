package yamldoc

import (
	"fmt"
	"reflect"
	"strings"
)

// maxListedKeys is the most keys an unknown-key error lists when none is close.
const maxListedKeys = 10

// unknownKeyAt is the reason for the unknown key k at path (its last element k) of
// a document decoding into t: UnknownKey, with the closest known key of the mapping
// it stands in when one is a likely typo ("did you mean"), else the known keys when
// they are few.
func unknownKeyAt(t reflect.Type, path, k string) error {
	if path == "" { // the key was not found in the document: no mapping to read
		return UnknownKey(k)
	}
	keys := keysAt(t, parentPath(path))
	if len(keys) == 0 {
		return UnknownKey(k)
	}
	if near := closest(k, keys); near != "" {
		return fmt.Errorf("%w %q (did you mean %q?)", ErrUnknownKey, k, near)
	}
	if len(keys) <= maxListedKeys {
		return fmt.Errorf("%w %q (known keys: %s)", ErrUnknownKey, k, strings.Join(keys, ", "))
	}
	return UnknownKey(k)
}

// parentPath is path without its last key ("sim.rat" -> "sim", "a[1].b" -> "a[1]").
func parentPath(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// keysAt returns the YAML keys of the struct that path (keys joined by '.', list
// indices as [i]) reaches from t, in field order; nil when path does not reach a
// struct.
func keysAt(t reflect.Type, path string) []string {
	for _, seg := range strings.Split(path, ".") {
		name, _, _ := strings.Cut(seg, "[")
		t = deref(t)
		if t == nil {
			return nil
		}
		if name != "" {
			switch t.Kind() {
			case reflect.Struct:
				ft, ok := fieldType(t, name)
				if !ok {
					return nil
				}
				t = ft
			case reflect.Map:
				t = t.Elem()
			default:
				return nil
			}
		}
		for range strings.Count(seg, "[") {
			if t = deref(t); t == nil || t.Kind() != reflect.Slice && t.Kind() != reflect.Array && t.Kind() != reflect.Map {
				return nil
			}
			t = t.Elem()
		}
	}
	// A yaml.Node holds any mapping: its Go fields are no keys of the document.
	if t = deref(t); t == nil || t.Kind() != reflect.Struct || t == nodeType {
		return nil
	}
	var keys []string
	eachKey(t, 0, func(key string, _ reflect.StructField) bool {
		keys = append(keys, key)
		return true
	})
	return keys
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// closest returns the key of keys nearest to k by edit distance when that is a
// likely typo (at most 2 edits, and at most a third of k's length), else "".
func closest(k string, keys []string) string {
	best, bestD := "", 1<<30
	for _, c := range keys {
		if d := editDistance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= 2 && bestD*3 <= len(k) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
