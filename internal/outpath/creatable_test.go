package outpath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An output in a directory that takes no new files (/proc, a read-only directory)
// is refused by File, NewFile and NewFileThroughLink before any work, naming the
// flag, the path and the directory; an accepted output's probe leaves nothing
// behind.
func TestGuardRefusesUnwritableDirectory(t *testing.T) {
	if fi, err := os.Stat("/proc"); err != nil || !fi.IsDir() {
		t.Skip("no /proc")
	}
	for _, tc := range []struct {
		name, path, want string
		check            func(g *Guard, flag, path string) error
	}{
		{"NewFile in /proc", "/proc/x.csv", "cannot write in /proc: ", (*Guard).NewFile},
		{"File in /proc", "/proc/x.csv", "cannot write in /proc: ", (*Guard).File},
		{"File in a new directory under /proc", "/proc/new/dir/x.csv", "cannot write in /proc: ", (*Guard).File},
		{"NewFileThroughLink in /proc", "/proc/x.md", "cannot write in /proc: ", (*Guard).NewFileThroughLink},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g Guard
			err := tc.check(&g, "--timeline", tc.path)
			var oe *Error
			if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), "--timeline "+tc.path+": "+tc.want) {
				t.Fatalf("err = %v, want an *Error starting %q", err, "--timeline "+tc.path+": "+tc.want)
			}
		})
	}

	// A read-only directory: refused unless the user may write anyway (root).
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	var g Guard
	err := g.NewFile("--out", filepath.Join(ro, "tl.csv"))
	if f, cerr := os.CreateTemp(ro, "root-*"); cerr == nil {
		f.Close()
		os.Remove(f.Name())
		if err != nil {
			t.Errorf("a directory this user can write in refused: %v", err)
		}
	} else if err == nil || !strings.Contains(err.Error(), "cannot write in "+ro+": permission denied") {
		t.Errorf("read-only directory: err = %v, want cannot write in %s: permission denied", err, ro)
	}

	// The probe leaves no file behind, and the link's target directory is probed.
	ok := t.TempDir()
	if err := new(Guard).NewFile("--out", filepath.Join(ok, "tl.csv")); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(ok); len(ents) != 0 {
		t.Errorf("the probe left %d files in the output directory", len(ents))
	}
	link := filepath.Join(ok, "README.md")
	symlink(t, "/proc/self/comm", link)
	if err := new(Guard).NewFileThroughLink("--readme", link); err == nil || !strings.Contains(err.Error(), "cannot write in /proc/") {
		t.Errorf("a link to a file in /proc: err = %v, want cannot write in its directory", err)
	}
}
