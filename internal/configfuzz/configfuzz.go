// Package configfuzz is the fuzz property every configuration decoder of the project
// shares: bad input is an error naming its file, good input decodes the same way twice,
// and validating a validated configuration neither fails nor changes it.
package configfuzz

import (
	"reflect"
	"strings"
	"testing"
)

// CrashInputs are inputs that have crashed the YAML library (go-yaml issues 744, 666,
// 560); every decoder's corpus starts with them.
var CrashInputs = []string{"#\n - - QI\xd7", "0: [:!00 \xef", "a:\n.\n-\n", "! !00 \xf6"}

// File is the file name the fuzzed decoders are given; their errors must name it.
const File = "fuzz.yaml"

// Run adds seeds and CrashInputs to f's corpus and fuzzes decode (which is given File
// as the file name) against the shared property. validate validates a decoded
// configuration again, in place.
func Run[T any](f *testing.F, seeds []string, decode func(data []byte) (T, error), validate func(*T) error) {
	for _, s := range append(append([]string(nil), seeds...), CrashInputs...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := decode(data)
		if err != nil {
			if v := reflect.ValueOf(cfg); v.Kind() == reflect.Pointer && !v.IsNil() {
				t.Fatalf("a config and an error: %v", err)
			}
			if !strings.Contains(err.Error(), File) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		again, err := decode(data)
		if err != nil {
			t.Fatalf("accepted once, refused the second time: %v", err)
		}
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("two decodings differ:\n%+v\n%+v", cfg, again)
		}
		if err := validate(&again); err != nil {
			t.Fatalf("a validated config fails Validate again: %v", err)
		}
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("Validate changed a validated config:\n%+v\n%+v", cfg, again)
		}
	})
}
