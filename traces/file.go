package traces

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Formats accepted in LoadOptions.Format.
const (
	FormatCSV       = "csv"       // LoadCSV
	FormatCounts    = "counts"    // LoadCounts
	FormatAccessLog = "accesslog" // LoadAccessLog
)

// LoadOptions says how LoadFile reads a file. The zero value picks everything itself.
type LoadOptions struct {
	// Format is csv, counts or accesslog. Default: from the extension (.csv; .txt,
	// .dat, .counts; .log), else from the first line: an access log when it has
	// `[...] "`, CSV when it has a comma, counts otherwise. An archive (.tbz2,
	// .tar.bz2) must hold exactly one regular file, whose name is sniffed the same way.
	Format string `yaml:"format,omitempty"`
	// CSV options for CSV files (YAML: time_column, value_column, time_format,
	// bucket, values).
	CSV CSVOptions `yaml:",inline"`
	// CountsBucket is the bucket length of a count file. Default CSV.Bucket when set,
	// else 1s.
	CountsBucket time.Duration `yaml:"counts_bucket,omitempty"`
	// AccessLog options for access logs (YAML: max_malformed).
	AccessLog AccessLogOptions `yaml:",inline"`
	// MaxBytes refuses files (and decompressed archive members) larger than this
	// many bytes. Default DefaultMaxBytes (1 GiB); -1 means no limit.
	MaxBytes int64 `yaml:"max_bytes,omitempty"`
}

// LoadFile loads a trace from a file, choosing the format as LoadOptions.Format says.
// Errors name the file and line (`nasa.csv line 812: rate "-3": must be finite and
// >= 0`); a file larger than MaxBytes is refused before it is read. The trace is named
// after the file without directory and extension.
func LoadFile(path string, opt LoadOptions) (*Trace, error) {
	name := filepath.Base(path)
	limit := opt.MaxBytes
	if limit == 0 {
		limit = DefaultMaxBytes
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &ParseError{Name: name, Err: errors.New("is a directory, want a trace file")}
	}
	if !fi.Mode().IsRegular() {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("not a regular file (%v)", fi.Mode().Type())}
	}
	if limit > 0 && fi.Size() > limit {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("%s: larger than the %s limit (LoadOptions.MaxBytes): %w", byteSize(fi.Size()), byteSize(limit), ErrTooLarge)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	member := name
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".tbz2") || strings.HasSuffix(lower, ".tar.bz2") {
		tr := tar.NewReader(bzip2.NewReader(bufio.NewReaderSize(f, 64<<10)))
		hdr, err := nextRegular(tr)
		if err == io.EOF {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("archive holds no regular file: %w", ErrEmpty)}
		}
		if err != nil {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("reading archive: %w", err)}
		}
		if limit > 0 && hdr.Size > limit {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("member %s is %s: larger than the %s limit (LoadOptions.MaxBytes): %w", hdr.Name, byteSize(hdr.Size), byteSize(limit), ErrTooLarge)}
		}
		member = name + ":" + hdr.Name
		data := &limitedReader{r: tr, n: limit, limit: limit, name: member}
		t, err := loadFormat(data, member, hdr.Name, opt)
		if err != nil {
			return nil, err
		}
		if _, err := nextRegular(tr); err != io.EOF {
			if err == nil {
				err = errors.New("archive holds more than one regular file")
			}
			return nil, &ParseError{Name: name, Err: err}
		}
		t.Name = baseName(name)
		return t, nil
	}
	t, err := loadFormat(&limitedReader{r: f, n: limit, limit: limit, name: name}, name, name, opt)
	if err != nil {
		return nil, err
	}
	t.Name = baseName(name)
	return t, nil
}

func nextRegular(tr *tar.Reader) (*tar.Header, error) {
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			return h, nil
		}
	}
}

// loadFormat reads r in the format opt.Format names, or the one fileName and the
// first line suggest.
func loadFormat(r io.Reader, name, fileName string, opt LoadOptions) (*Trace, error) {
	format := opt.Format
	if format == "" {
		switch ext := strings.ToLower(filepath.Ext(fileName)); ext {
		case ".csv":
			format = FormatCSV
		case ".txt", ".dat", ".counts":
			format = FormatCounts
		case ".log":
			format = FormatAccessLog
		default:
			br := bufio.NewReaderSize(r, 64<<10)
			head, _ := br.Peek(4 << 10)
			if i := bytes.IndexByte(head, '\n'); i >= 0 {
				head = head[:i]
			}
			switch {
			case bytes.Contains(head, []byte(`] "`)) && bytes.IndexByte(head, '[') >= 0:
				format = FormatAccessLog
			case bytes.IndexByte(head, ',') >= 0:
				format = FormatCSV
			default:
				format = FormatCounts
			}
			r = br
		}
	}
	switch format {
	case FormatCSV:
		return LoadCSV(r, name, opt.CSV)
	case FormatCounts:
		b := opt.CountsBucket
		if b == 0 {
			b = opt.CSV.Bucket
		}
		if b == 0 {
			b = time.Second
		}
		return LoadCounts(r, name, b)
	case FormatAccessLog:
		return LoadAccessLog(r, name, opt.AccessLog)
	}
	return nil, &ParseError{Name: name, Err: fmt.Errorf("format %q: want csv, counts or accesslog", format)}
}

// limitedReader fails with ErrTooLarge after n bytes (n < 0: no limit), so that a
// small archive cannot expand without bound.
type limitedReader struct {
	r     io.Reader
	n     int64 // bytes left
	limit int64
	name  string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		// Allow a clean EOF exactly at the limit.
		var one [1]byte
		if k, err := l.r.Read(one[:]); k == 0 {
			return 0, err
		}
		return 0, &ParseError{Name: l.name, Err: fmt.Errorf("more than %s: %w", byteSize(l.limit), ErrTooLarge)}
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// utf8BOM is the byte order mark that some editors and spreadsheet exports put
// before the first line. The loaders skip it, so that it does not stick to the first
// header name or number.
const utf8BOM = "\ufeff"

// skipBOM returns r buffered and positioned after a leading UTF-8 byte order mark.
func skipBOM(r io.Reader) *bufio.Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	if b, err := br.Peek(len(utf8BOM)); err == nil && string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	return br
}

// byteSize formats a byte count for messages (2.0 GiB, 512 B).
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
