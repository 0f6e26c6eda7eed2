package atomicfile

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := Write(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("content %q, want two", b)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the directory, want 1 (no temporary left)", len(ents))
	}
}

func TestWriteFuncFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := Write(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFunc(p, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("content %q after a failed write, want old", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the directory, want 1 (temporary removed)", len(ents))
	}
	if err := Write(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

// A write stopped by its context (a Ctrl-C midway) leaves the old file in place and
// no temporary beside it, whether it stops in the first chunk, midway or at the end;
// an uncancelled one replaces the file.
func TestWriteContext(t *testing.T) {
	big := make([]byte, 1<<20)
	for _, tc := range []struct {
		name     string
		cancelAt int // cancel before the write call with this index; -1 never
		want     string
	}{
		{"cancelled before writing", 0, "old"},
		{"cancelled midway", 5, "old"},
		{"cancelled after the last write", 16, "old"},
		{"not cancelled", -1, "new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "timeline.csv")
			if err := Write(p, []byte("old")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := WriteContext(ctx, p, func(w io.Writer) error {
				for i := 0; i < 16; i++ {
					if i == tc.cancelAt {
						cancel()
					}
					if _, err := w.Write(big[:64<<10]); err != nil {
						return err
					}
				}
				if tc.cancelAt == 16 {
					cancel()
				}
				return nil
			})
			if tc.want == "old" && !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if tc.want == "new" && err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(p)
			if got := string(b); (tc.want == "old" && got != "old") || (tc.want == "new" && len(b) != 16<<16) {
				t.Fatalf("file holds %d bytes, want %s", len(b), tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Fatalf("%d files in the directory, want 1 (no temporary left)", len(ents))
			}
		})
	}
}

// WriteThrough replaces a linked file's target (through a chain of links, one of
// them relative) and leaves every link a link; its temporary file goes beside the
// target. A plain path is written as Write writes it; a dangling link is an error
// that creates nothing.
func TestWriteThrough(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "README.md")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	mid := filepath.Join(dir, "mid.md")
	link := filepath.Join(dir, "README.md")
	if err := os.Symlink(target, mid); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	if err := os.Symlink("mid.md", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteThrough(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, mid} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link: %v, %v", p, fi, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q, want new", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("%d files beside the links, want the 2 links", len(ents))
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 1 {
		t.Errorf("%d files beside the target, want 1 (no temporary left)", len(ents))
	}

	plain := filepath.Join(dir, "plain.md")
	if err := WriteThrough(plain, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(plain); string(b) != "x" {
		t.Errorf("plain file holds %q", b)
	}

	dangling := filepath.Join(dir, "dangling.md")
	if err := os.Symlink(filepath.Join(elsewhere, "missing.md"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := WriteThrough(dangling, []byte("x")); err == nil {
		t.Error("a dangling link was written through")
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "missing.md")); !os.IsNotExist(err) {
		t.Errorf("the missing target was created: %v", err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the dangling link was replaced: %v", err)
	}
}
