package traces

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/internal/repo"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// TestExpandPath: set variables are expanded, $INTELLISCALE_TRACES defaults to the
// shared traces beside the checkout, and an unset variable or a "$" starting no
// reference is kept as written (never dropped) with an error naming it.
func TestExpandPath(t *testing.T) {
	t.Setenv("TRACES_TEST_DIR", "/data/traces")
	t.Setenv("TRACES_TEST_EMPTY", "")
	os.Unsetenv("NOPE_VAR")
	t.Setenv("INTELLISCALE_TRACES", "")
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	base := "/configs"
	for _, c := range []struct{ in, want, err string }{
		{"day.csv", "/configs/day.csv", ""},
		{"/abs/day.csv", "/abs/day.csv", ""},
		{"$TRACES_TEST_DIR/day.csv", "/data/traces/day.csv", ""},
		{"${TRACES_TEST_DIR}/day.csv", "/data/traces/day.csv", ""},
		{"${TRACES_TEST_DIR}_old/day.csv", "/data/traces_old/day.csv", ""},
		{"$NOPE_VAR/day.csv", "/configs/$NOPE_VAR/day.csv", "$NOPE_VAR is not set"},
		{"${NOPE_VAR}/day.csv", "/configs/${NOPE_VAR}/day.csv", "$NOPE_VAR is not set"},
		{"$TRACES_TEST_EMPTY/day.csv", "/configs/$TRACES_TEST_EMPTY/day.csv", "$TRACES_TEST_EMPTY is not set"},
		{"pr$1.csv", "/configs/pr$1.csv", `"$1" is not a variable reference`},
		{"a$$b.csv", "/configs/a$$b.csv", `"$$" is not a variable reference`},
		{"day.csv$", "/configs/day.csv$", `"$" is not a variable reference`},
		{"${TRACES_TEST_DIR/day.csv", "/configs/${TRACES_TEST_DIR/day.csv", `"${TRACES_TEST_DIR/day.csv" is not a variable reference`},
		{"${}/day.csv", "/configs/${}/day.csv", `"${}" is not a variable reference`},
		// The first reference that cannot be expanded is named; the others still are.
		{"$TRACES_TEST_DIR/$NOPE_VAR/x.csv", "/data/traces/$NOPE_VAR/x.csv", "$NOPE_VAR is not set"},
	} {
		got, err := ExpandPath(c.in, base)
		if got != c.want {
			t.Errorf("ExpandPath(%q) = %q, want %q", c.in, got, c.want)
		}
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ExpandPath(%q): error %v, want %q", c.in, err, c.err)
		}
		if r := ResolvePath(c.in, base); r != got {
			t.Errorf("ResolvePath(%q) = %q, want %q as ExpandPath", c.in, r, got)
		}
	}
	// A config in the working directory ("." as base) and a leading "./" add no noise
	// to the path an unset variable leaves: it was "././$NOPE_VAR/day.csv".
	for _, b := range []string{".", ""} {
		if got, _ := ExpandPath("./$NOPE_VAR/day.csv", b); got != "$NOPE_VAR/day.csv" {
			t.Errorf("ExpandPath(./$NOPE_VAR/day.csv, %q) = %q, want $NOPE_VAR/day.csv", b, got)
		}
	}
	if got, _ := ExpandPath("./$NOPE_VAR/day.csv", "sub"); got != "sub/$NOPE_VAR/day.csv" {
		t.Errorf("ExpandPath(./$NOPE_VAR/day.csv, sub) = %q, want sub/$NOPE_VAR/day.csv", got)
	}
	// $INTELLISCALE_TRACES unset: the shared traces beside the checkout holding base.
	got, err := ExpandPath("${INTELLISCALE_TRACES}/nasa.csv", ".")
	if want := filepath.Join(root, "..", "shared", "traces", "nasa.csv"); got != want || err != nil {
		t.Errorf("INTELLISCALE_TRACES unset: %q, %v; want %q", got, err, want)
	}
	// Outside a checkout there is no default: kept as written, and named.
	got, err = ExpandPath("${INTELLISCALE_TRACES}/nasa.csv", "/")
	if got != "/${INTELLISCALE_TRACES}/nasa.csv" || err == nil || !strings.Contains(err.Error(), "$INTELLISCALE_TRACES is not set") {
		t.Errorf("INTELLISCALE_TRACES unset outside a checkout: %q, %v", got, err)
	}
	t.Setenv("INTELLISCALE_TRACES", "/elsewhere")
	if got, err := ExpandPath("$INTELLISCALE_TRACES/nasa.csv", "."); got != "/elsewhere/nasa.csv" || err != nil {
		t.Errorf("INTELLISCALE_TRACES set: %q, %v", got, err)
	}
	if got := ResolvePath("", base); got != "" {
		t.Errorf(`ResolvePath("") = %q, want ""`, got)
	}
}

// TestSourceUnsetVariable: a config file path naming an unset variable is refused
// when the trace is loaded, naming the field and the variable, instead of loading
// another file; a file really named with a "$" loads.
func TestSourceUnsetVariable(t *testing.T) {
	os.Unsetenv("NOPE_VAR")
	dir := t.TempDir()
	csv := []byte("time,rate\n0,1\n60,2\n")
	// What the old expansion would have read instead ($NOPE_VAR and $1 dropped).
	for _, p := range []string{"day.csv", "pr.csv"} {
		if err := os.WriteFile(filepath.Join(dir, p), csv, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ file, want string }{
		{"$NOPE_VAR/../day.csv", `file: "` + dir + `/$NOPE_VAR/../day.csv": no such file, and $NOPE_VAR is not set`},
		{"pr$1.csv", `file: "` + dir + `/pr$1.csv": no such file, and "$1" is not a variable reference`},
	} {
		s := Source{File: ResolvePath(c.file, dir)}
		_, err := s.Trace()
		var fe *yamldoc.FieldError
		if !errors.As(err, &fe) || fe.Path != "file" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("file %q: error %v, want a FieldError at file containing %q", c.file, err, c.want)
		}
	}
	// A file whose name holds a literal "$" loads.
	if err := os.WriteFile(filepath.Join(dir, "pr$1.csv"), csv, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := Source{File: ResolvePath("pr$1.csv", dir)}.Trace()
	if err != nil || len(tr.Rates) != 2 {
		t.Errorf(`file "pr$1.csv" present: %v, want its 2 buckets`, err)
	}
}
