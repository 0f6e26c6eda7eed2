// Package outpath keeps a command's outputs from destroying its inputs. A Guard is
// told the command's input files and the files it must never write (a run
// directory's own checkpoint and config); each output path is checked against them
// before any work, so a typo or a shared name fails with an error naming the flag and
// the path instead of silently replacing a file.
package outpath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Guard checks output paths. The zero Guard knows no inputs; it still refuses
// symbolic links, directories and read-only files as outputs, and outputs in a
// directory where no file can be created (outputs are written through a temporary
// file beside them, so the directory must take new files even when the output
// exists).
type Guard struct {
	known []known
}

// known is a path the outputs must not be: an input, a protected file, or an
// output already checked (two outputs must not be the same file either).
type known struct {
	kind string // "input", "protected" or "output"
	flag string // the flag or role that names it ("--trace", "the run's checkpoint")
	path string
	// resolved is the absolute path with every symbolic link resolved (of the
	// parent directory when the file does not exist).
	resolved string
	info     os.FileInfo // nil when the file does not exist
}

// Input registers path, named by flag, as one of the command's inputs. An empty path
// and "-" (standard input) are ignored.
func (g *Guard) Input(flag, path string) {
	g.add("input", flag, path)
}

// Protect registers path as a file the command must never write, described by what
// ("the run's checkpoint"), whether or not it exists yet.
func (g *Guard) Protect(what, path string) {
	g.add("protected", what, path)
}

func (g *Guard) add(kind, flag, path string) {
	if path == "" || path == "-" {
		return
	}
	k := known{kind: kind, flag: flag, path: path, resolved: resolve(path)}
	if fi, err := os.Stat(path); err == nil {
		k.info = fi
	}
	g.known = append(g.known, k)
}

// Error is a refused output path.
type Error struct {
	Flag   string // the flag naming the output ("--timeline")
	Path   string // the output path as given
	Reason string // what is wrong and what to do
}

func (e *Error) Error() string { return fmt.Sprintf("%s %s: %s", e.Flag, e.Path, e.Reason) }

// File checks that path, named by flag, may be written as a file: it is not one of
// the inputs, a protected file or an output already checked (the same file after
// resolving symbolic links, or the same resolved name when it does not exist yet),
// and it is not a symbolic link, a directory or a read-only file; and a file can be
// created in its directory, or, when that does not exist yet, in the deepest
// ancestor that does (checked by creating and removing a hidden file there). On
// success path is remembered as an output. An empty path and "-" (standard
// output) pass.
func (g *Guard) File(flag, path string) error {
	return g.file(flag, path, false)
}

// file is File; with follow, a symbolic link is followed and its target checked
// in its place.
func (g *Guard) file(flag, path string, follow bool) error {
	if path == "" || path == "-" {
		return nil
	}
	if err := g.clash(flag, path); err != nil {
		return err
	}
	// where is the directory the temporary file goes into: the target's when a
	// link is followed.
	where := filepath.Dir(path)
	li, err := os.Lstat(path)
	if follow && err == nil && li.Mode()&os.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		if li, err = os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return &Error{flag, path, fmt.Sprintf("is a symbolic link to %s, which does not exist", target)}
		}
		if final, err := filepath.EvalSymlinks(path); err == nil {
			where = filepath.Dir(final)
		}
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return &Error{flag, path, err.Error()}
	case li.Mode()&os.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return &Error{flag, path, fmt.Sprintf("is a symbolic link (to %s): refusing to write through it; name the target itself or remove the link", target)}
	case li.IsDir():
		return &Error{flag, path, "is a directory, want a file path"}
	case !li.Mode().IsRegular():
		return &Error{flag, path, "is not a regular file: refusing to replace it"}
	case li.Mode().Perm()&0o200 == 0:
		return &Error{flag, path, "is read-only: refusing to replace it; make it writable (chmod u+w) or choose another path"}
	}
	if err := creatable(where); err != nil {
		return &Error{flag, path, err.Error()}
	}
	g.add("output", flag, path)
	return nil
}

// creatable checks that a file can be created in dir or, when dir does not exist
// yet, in its deepest existing ancestor (where the command will create it), by
// creating a hidden empty file there and removing it: a read-only directory, a
// read-only file system or /proc is found before any work rather than when the
// result is written.
func creatable(dir string) error {
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", dir)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
	f, err := os.CreateTemp(dir, ".intelliscale-probe-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// NewFile is File for an output the command writes into an existing directory (it
// creates none): it also refuses a path whose directory does not exist or is not a
// directory, before any work rather than after it.
func (g *Guard) NewFile(flag, path string) error {
	return g.newFile(flag, path, false)
}

// NewFileThroughLink is NewFile for an output written through a symbolic link (a
// README kept in another directory and linked, which atomicfile.WriteThrough
// replaces at its target): a link is followed and its target checked as NewFile
// checks a path. A link to an input is still refused, and a dangling one too.
// Errors name the path as given.
func (g *Guard) NewFileThroughLink(flag, path string) error {
	return g.newFile(flag, path, true)
}

func (g *Guard) newFile(flag, path string, follow bool) error {
	if path == "" || path == "-" {
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &Error{flag, path, fmt.Sprintf("directory %s does not exist: create it first or choose another path", dir)}
	case err != nil:
		return &Error{flag, path, err.Error()}
	case !fi.IsDir():
		return &Error{flag, path, fmt.Sprintf("%s is not a directory", dir)}
	}
	return g.file(flag, path, follow)
}

// Dir checks that dir, named by flag, may be used as an output directory into which
// the command writes the named files: dir is not an input (file or directory), and
// each file passes File. The files are remembered as outputs.
func (g *Guard) Dir(flag, dir string, files ...string) error {
	if err := g.clash(flag, dir); err != nil {
		return err
	}
	if li, err := os.Lstat(dir); err == nil && !li.IsDir() && li.Mode()&os.ModeSymlink == 0 {
		return &Error{flag, dir, "is a file, want a directory"}
	}
	for _, f := range files {
		if err := g.File(flag, filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// clash reports path when it is a known path.
func (g *Guard) clash(flag, path string) error {
	fi, statErr := os.Stat(path)
	res := resolve(path)
	for _, k := range g.known {
		same := res == k.resolved
		if !same && statErr == nil && k.info != nil {
			same = os.SameFile(fi, k.info)
		}
		if !same {
			continue
		}
		how := ""
		if res != filepath.Clean(absolute(path)) || k.resolved != filepath.Clean(absolute(k.path)) {
			how = " (after resolving symbolic links)"
		}
		switch k.kind {
		case "input":
			return &Error{flag, path, fmt.Sprintf("is the input %s %s%s: refusing to overwrite it", k.flag, k.path, how)}
		case "protected":
			return &Error{flag, path, fmt.Sprintf("is %s%s: refusing to overwrite it", k.flag, how)}
		default:
			return &Error{flag, path, fmt.Sprintf("is also an output (%s)%s: give each output its own path", k.flag, how)}
		}
	}
	return nil
}

// resolve returns the absolute path with symbolic links resolved: of the whole path
// when it exists, else of its deepest existing ancestor with the rest appended.
func resolve(path string) string {
	abs := absolute(path)
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	dir, rest := filepath.Dir(abs), filepath.Base(abs)
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}

func absolute(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}
