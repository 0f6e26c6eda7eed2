package outpath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
}

// Every refused output names the flag and the path and says why; every accepted one
// passes. The guard never touches the files it checks.
func TestGuardFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "trace.csv")
	write(t, in, "seconds,rate\n0,1\n")
	other := filepath.Join(dir, "other.csv")
	write(t, other, "x")
	ro := filepath.Join(dir, "ro.csv")
	write(t, ro, "read-only")
	if err := os.Chmod(ro, 0o444); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.csv")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	toIn := filepath.Join(dir, "to-input.csv")
	symlink(t, in, toIn)
	toOther := filepath.Join(dir, "to-other.csv")
	symlink(t, other, toOther)
	dangling := filepath.Join(dir, "dangling.csv")
	symlink(t, filepath.Join(dir, "missing.csv"), dangling)
	linkDir := filepath.Join(t.TempDir(), "alias")
	symlink(t, dir, linkDir)
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}

	newGuard := func() *Guard {
		var g Guard
		g.Input("--trace", in)
		g.Input("--config", "")                                                 // ignored
		g.Input("--synth", "-")                                                 // ignored
		g.Protect("the run's checkpoint", filepath.Join(run, "checkpoint.bin")) // does not exist yet
		return &g
	}
	for _, tc := range []struct {
		name, path, want string // want: "" when accepted, else a part of the message
	}{
		{"the input itself", in, "is the input --trace"},
		{"the input spelled differently", filepath.Join(dir, "run", "..", ".", "trace.csv"), "is the input --trace"},
		{"a hard link to the input", hard, "is the input --trace"},
		{"a symbolic link to the input", toIn, "is the input --trace " + in + " (after resolving symbolic links)"},
		{"the input through a linked directory", filepath.Join(linkDir, "trace.csv"), "is the input --trace"},
		{"a protected file that does not exist yet", filepath.Join(run, "checkpoint.bin"), "is the run's checkpoint"},
		{"a protected file through a linked directory", filepath.Join(linkDir, "run", "checkpoint.bin"), "is the run's checkpoint (after resolving symbolic links)"},
		{"a symbolic link to another file", toOther, "is a symbolic link (to " + other + ")"},
		{"a dangling symbolic link", dangling, "is a symbolic link"},
		{"a read-only file", ro, "is read-only"},
		{"a directory", run, "is a directory"},
		{"a new file", filepath.Join(dir, "new.csv"), ""},
		{"a new file in a new directory", filepath.Join(dir, "a", "b", "new.csv"), ""},
		{"an existing writable file", other, ""},
		{"standard output", "-", ""},
		{"none", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(in)
			err := newGuard().File("--out", tc.path)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("err = %v, want an *Error containing %q", err, tc.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "--out "+tc.path+": ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q: want the flag, the path and %q", msg, tc.want)
			}
			if after, _ := os.ReadFile(in); string(after) != string(before) {
				t.Fatal("the input changed")
			}
		})
	}
	if b, _ := os.ReadFile(ro); string(b) != "read-only" {
		t.Fatal("read-only file changed")
	}
}

// NewFile, for outputs written into an existing directory, also refuses before any
// work a path whose directory is missing or is a file; otherwise it is File.
func TestGuardNewFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "trace.csv")
	write(t, in, "seconds,rate\n0,1\n")
	for _, tc := range []struct {
		name, path, want string // want: "" when accepted, else a part of the message
	}{
		{"a new file in an existing directory", filepath.Join(dir, "new.csv"), ""},
		{"a new file in a missing directory", filepath.Join(dir, "a", "b", "new.csv"), "directory " + filepath.Join(dir, "a", "b") + " does not exist"},
		{"a path under a file", filepath.Join(in, "new.csv"), in + " is not a directory"},
		{"the input", in, "is the input --trace"},
		{"standard output", "-", ""},
		{"none", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g Guard
			g.Input("--trace", in)
			err := g.NewFile("--out", tc.path)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var oe *Error
			if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), "--out "+tc.path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an *Error naming --out, the path and %q", err, tc.want)
			}
		})
	}
}

// NewFileThroughLink accepts a symbolic link to a writable file (its target is
// what will be written) and refuses what NewFile refuses, links to an input, to a
// read-only file or to nothing included, naming the path as given.
func TestGuardNewFileThroughLink(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "trace.csv")
	write(t, in, "seconds,rate\n0,1\n")
	readme := filepath.Join(t.TempDir(), "README.md")
	write(t, readme, "# x\n")
	ro := filepath.Join(dir, "ro.md")
	write(t, ro, "read-only")
	if err := os.Chmod(ro, 0o444); err != nil {
		t.Fatal(err)
	}
	toReadme, toIn, toRO, toDir, dangling := filepath.Join(dir, "README.md"), filepath.Join(dir, "to-input.md"),
		filepath.Join(dir, "to-ro.md"), filepath.Join(dir, "to-dir.md"), filepath.Join(dir, "dangling.md")
	symlink(t, readme, toReadme)
	symlink(t, in, toIn)
	symlink(t, ro, toRO)
	symlink(t, t.TempDir(), toDir)
	symlink(t, filepath.Join(dir, "missing.md"), dangling)
	for _, tc := range []struct {
		name, path, want string // want: "" when accepted, else a part of the message
	}{
		{"a link to a writable file", toReadme, ""},
		{"a plain file", readme, ""},
		{"a new file", filepath.Join(dir, "new.md"), ""},
		{"a link to the input", toIn, "is the input --trace " + in + " (after resolving symbolic links)"},
		{"a link to a read-only file", toRO, "is read-only"},
		{"a link to a directory", toDir, "is a directory"},
		{"a dangling link", dangling, "is a symbolic link to " + filepath.Join(dir, "missing.md") + ", which does not exist"},
		{"a new file in a missing directory", filepath.Join(dir, "a", "new.md"), "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g Guard
			g.Input("--trace", in)
			err := g.NewFileThroughLink("--readme", tc.path)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var oe *Error
			if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), "--readme "+tc.path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an *Error naming --readme, the path and %q", err, tc.want)
			}
		})
	}
	// File and NewFile still refuse the link.
	var g Guard
	if err := g.NewFile("--readme", toReadme); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("NewFile on a link: %v", err)
	}
}

// Two outputs of one command may not be the same file.
func TestGuardOutputsDistinct(t *testing.T) {
	dir := t.TempDir()
	var g Guard
	tl := filepath.Join(dir, "timeline.csv")
	if err := g.File("--timeline", tl); err != nil {
		t.Fatal(err)
	}
	err := g.File("--openmetrics", filepath.Join(dir, ".", "timeline.csv"))
	if err == nil || !strings.Contains(err.Error(), "is also an output (--timeline)") {
		t.Fatalf("err = %v, want a clash with --timeline", err)
	}
	if err := g.File("--openmetrics", filepath.Join(dir, "run.om")); err != nil {
		t.Fatal(err)
	}
}

// Dir refuses an input directory, a file where a directory is wanted, and a
// directory whose files the command writes would replace an input.
func TestGuardDir(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(run, "config.yaml")
	write(t, cfg, "algorithm: ppo\n")
	prepared := filepath.Join(dir, "prepared")
	if err := os.Mkdir(prepared, 0o755); err != nil {
		t.Fatal(err)
	}
	var g Guard
	g.Input("--config", cfg)
	g.Input("--prepared", prepared)
	for _, tc := range []struct{ name, dir, want string }{
		{"the config's own run directory", run, "is the input --config"},
		{"an input directory", prepared, "is the input --prepared"},
		{"a file", cfg, "is the input --config"},
		{"another file", filepath.Join(dir, "f"), "is a file"},
		{"a new directory", filepath.Join(dir, "new"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "another file" {
				write(t, tc.dir, "x")
			}
			err := (&Guard{known: append([]known(nil), g.known...)}).Dir("--out", tc.dir, "config.yaml", "progress.csv")
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "--out ")):
				t.Fatalf("err = %v, want --out and %q", err, tc.want)
			}
		})
	}
}
