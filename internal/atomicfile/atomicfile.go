// Package atomicfile writes files so that a reader sees the old content or the new,
// never a half-written file: the data goes to a temporary file in the same directory,
// is synced, and is renamed into place.
package atomicfile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write replaces path with data (mode 0644).
func Write(path string, data []byte) error {
	return WriteFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteThrough is Write for a path that may be a symbolic link (a README kept in
// another directory and linked): the link is followed to its final target, and
// the target is replaced as Write replaces a file, the temporary file beside it, so
// the link stays a link. A link whose target does not exist is an error and
// nothing is written.
func WriteThrough(path string, data []byte) error {
	li, err := os.Lstat(path)
	if err != nil || li.Mode()&os.ModeSymlink == 0 {
		return Write(path, data)
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("writing %s: following the symbolic link: %w", path, err)
	}
	return Write(target, data)
}

// WriteFunc replaces path with what write writes (mode 0644). When write or any step
// fails, path is left as it was and the temporary file is removed.
func WriteFunc(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteContext is WriteFunc for long writes that must stop when ctx is done (a
// Ctrl-C): what write writes is buffered, every flush fails with ctx's error once
// ctx is done, and then path is left as it was and the temporary file removed.
func WriteContext(ctx context.Context, path string, write func(io.Writer) error) error {
	return WriteFunc(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(ctxWriter{ctx, w}, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return ctx.Err()
	})
}

// ContextWriter returns a writer to w that fails every write once ctx is done, so
// that a long write stops at a Ctrl-C.
func ContextWriter(ctx context.Context, w io.Writer) io.Writer { return ctxWriter{ctx, w} }

// ctxWriter fails every write once its context is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
