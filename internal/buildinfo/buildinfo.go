// Package buildinfo says which code produced a result: the module version and the
// VCS revision the binary was built from, read from the build information the Go
// toolchain embeds. Results directories, training runs and policy files record it
// so a figure can be traced back to its code.
package buildinfo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/intelliscale/intelliscale/internal/atomicfile"
)

// File is the name of the file a results directory or training run records the
// build in, beside its config.
const File = "build.txt"

// Unknown stands for a field the build information does not hold (a binary built
// outside a VCS checkout, or by go test).
const Unknown = "unknown"

// Info describes one build.
type Info struct {
	// Version of the main module: a tag, a pseudo-version, or "(devel)".
	Version string
	// Revision is the VCS commit (Unknown when not recorded).
	Revision string
	// Modified is set when the working tree had uncommitted changes.
	Modified bool
	// Time is the commit time, RFC 3339 (Unknown when not recorded).
	Time string
	// Go is the toolchain version.
	Go string
}

// Read returns the running binary's build.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: Unknown, Revision: Unknown, Time: Unknown, Go: Unknown}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Version: bi.Main.Version, Revision: Unknown, Time: Unknown, Go: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	if in.Go == "" {
		in.Go = Unknown
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the one-line form printed by `intelliscale version` and recorded in
// File and policy files:
//
//	intelliscale v1.2.0 revision=0123abcd... modified=false time=2026-12-02T16:00:00Z go=go1.26.8
func (in Info) String() string {
	return fmt.Sprintf("intelliscale %s revision=%s modified=%t time=%s go=%s",
		field(in.Version), field(in.Revision), in.Modified, field(in.Time), field(in.Go))
}

// field keeps a value one token long, so that String's output always parses.
func field(s string) string {
	if s == "" {
		return Unknown
	}
	return strings.Join(strings.Fields(s), "_")
}

// Short is the version and the first 12 characters of the revision, with
// "+modified" for a dirty tree: "(devel) 0123abcd4567+modified".
func (in Info) Short() string {
	rev := in.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if in.Modified {
		rev += "+modified"
	}
	return field(in.Version) + " " + field(rev)
}

// Parse reads a line written by String.
func Parse(line string) (Info, error) {
	f := strings.Fields(strings.TrimSpace(line))
	if len(f) != 6 || f[0] != "intelliscale" {
		return Info{}, fmt.Errorf("build %q: want \"intelliscale VERSION revision=R modified=BOOL time=T go=V\"", line)
	}
	in := Info{Version: f[1]}
	var errs []error
	for i, key := range []string{"revision", "modified", "time", "go"} {
		v, ok := strings.CutPrefix(f[2+i], key+"=")
		if !ok || v == "" {
			errs = append(errs, fmt.Errorf("build %q: field %d: want %s=VALUE, got %q", line, 3+i, key, f[2+i]))
			continue
		}
		switch key {
		case "revision":
			in.Revision = v
		case "modified":
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("build %q: modified=%s: want true or false", line, v))
			}
			in.Modified = b
		case "time":
			in.Time = v
		case "go":
			in.Go = v
		}
	}
	return in, errors.Join(errs...)
}

// Record adds the running binary's build to dir/File, one line per distinct build
// that wrote into dir (a resumed run may be finished by another build), written
// atomically.
func Record(dir string) error {
	return RecordLines(dir, Read().String())
}

// RecordLines adds each of lines not yet in dir/File to it, atomically.
func RecordLines(dir string, lines ...string) error {
	have, err := Lines(dir)
	if err != nil {
		return err
	}
	n := len(have)
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(have, l) {
			have = append(have, l)
		}
	}
	if len(have) == n {
		return nil
	}
	return atomicfile.Write(filepath.Join(dir, File), []byte(strings.Join(have, "\n")+"\n"))
}

// Lines returns the builds recorded in dir/File, none when it does not exist.
func Lines(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}
