package traces

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// Formats accepted in LoadOptions.Format.
const (
	FormatCSV       = "csv"       // LoadCSV
	FormatCounts    = "counts"    // LoadCounts
	FormatAccessLog = "accesslog" // LoadAccessLog
	FormatPromJSON  = "promjson"  // LoadPromJSON
)

// LoadOptions says how LoadFile reads a file. The zero value picks everything itself.
type LoadOptions struct {
	// Format is csv, counts, accesslog or promjson (the JSON answer of a Prometheus
	// range query, /api/v1/query_range, as curl saves it: LoadPromJSON). Default:
	// from the extension (.csv, .tsv; .txt, .dat, .counts; .log; .json), else from
	// the first line that is not blank or a comment (see sniffFormat; promjson when
	// the first byte that is not blank is '{'). gzip and bzip2 data are decompressed
	// first and read by the extension before .gz or .bz2. An archive (.tbz2,
	// .tar.bz2, .tgz, .tar.gz) must hold exactly one regular file, whose name is read
	// the same way. An option the format does not read (a CSV option for an access
	// log, say) is an error naming it.
	Format string `yaml:"format,omitempty"`
	// CSV options for CSV files (YAML: time_column, value_column, time_format,
	// bucket, values).
	CSV CSVOptions `yaml:",inline"`
	// CountsBucket is the bucket length of a count file. Default CSV.Bucket when set,
	// else 1s.
	CountsBucket time.Duration `yaml:"counts_bucket,omitempty" yamldoc:"nozero"`
	// AccessLog options for access logs (YAML: max_malformed).
	AccessLog AccessLogOptions `yaml:",inline"`
	// PromJSON options for Prometheus answers (none in YAML).
	PromJSON PromJSONOptions `yaml:",inline"`
	// MaxBytes refuses files (and decompressed archive members) larger than this
	// many bytes. Default DefaultMaxBytes (1 GiB); -1 means no limit.
	MaxBytes int64 `yaml:"max_bytes,omitempty" yamldoc:"nozero"`
}

// LoadFile loads a trace from a file, choosing the format as LoadOptions.Format says.
// Errors name the file and line (`nasa.csv line 812: rate "-3": must be finite and
// >= 0`); a file larger than MaxBytes is refused before it is read. The trace is named
// after the file without directory and extension.
func LoadFile(path string, opt LoadOptions) (*Trace, error) {
	return loadFile(path, opt, nil)
}

// loadFile is LoadFile telling n what the loader chose or skipped.
func loadFile(path string, opt LoadOptions, n notes) (*Trace, error) {
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
	lower := strings.ToLower(name)
	kind := ""
	switch {
	case strings.HasSuffix(lower, ".tbz2") || strings.HasSuffix(lower, ".tar.bz2"):
		kind = "bzip2"
	case strings.HasSuffix(lower, ".tgz") || strings.HasSuffix(lower, ".tar.gz"):
		kind = "gzip"
	}
	if kind != "" {
		z, err := decompress(kind, bufio.NewReaderSize(f, 64<<10))
		if err != nil {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("reading archive: %w", err)}
		}
		tr := tar.NewReader(z)
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
		member := name + ":" + hdr.Name
		data := &limitedReader{r: tr, n: limit, limit: limit, name: member}
		t, err := loadData(data, member, hdr.Name, opt, limit, n)
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
	t, err := loadData(&limitedReader{r: f, n: limit, limit: limit, name: name}, name, name, opt, limit, n)
	if err != nil {
		return nil, err
	}
	t.Name = baseName(name)
	return t, nil
}

// loadData reads one file's bytes, r, decompressing them first when they are gzip
// or bzip2 data (by their magic number, whatever the name says); fileName, without
// a .gz or .bz2 suffix, then chooses the format. The decompressed bytes are bounded
// by limit, as a file's are.
func loadData(r io.Reader, name, fileName string, opt LoadOptions, limit int64, n notes) (*Trace, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(10)
	lower := strings.ToLower(fileName)
	kind := ""
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		kind = "gzip"
	case bytes.HasPrefix(head, bzip2Magic) && len(head) == 10 && head[3] >= '1' && head[3] <= '9' && bytes.Equal(head[4:10], bzip2Block):
		kind = "bzip2"
	case strings.HasSuffix(lower, ".gz"):
		return nil, &ParseError{Name: name, Err: errors.New("named .gz but not gzip data")}
	case strings.HasSuffix(lower, ".bz2"):
		return nil, &ParseError{Name: name, Err: errors.New("named .bz2 but not bzip2 data")}
	default:
		return loadFormat(br, name, fileName, opt, n)
	}
	z, err := decompress(kind, br)
	if err != nil {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("%s data: %w", kind, err)}
	}
	for _, ext := range []string{".gz", ".bz2"} {
		if strings.HasSuffix(lower, ext) {
			fileName = fileName[:len(fileName)-len(ext)]
		}
	}
	data := &limitedReader{r: z, n: limit, limit: limit, name: name}
	return loadFormat(data, name, fileName, opt, n)
}

var (
	gzipMagic  = []byte{0x1f, 0x8b}
	bzip2Magic = []byte("BZh")
	bzip2Block = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59} // the first block's magic (pi)
)

// decompress opens r as kind ("gzip" or "bzip2") data; read errors name kind
// (decompressReader).
func decompress(kind string, r io.Reader) (io.Reader, error) {
	var z io.Reader
	if kind == "gzip" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		z = zr
	} else {
		z = bzip2.NewReader(r)
	}
	return &decompressReader{r: z, kind: kind}, nil
}

// decompressReader names the compression in a read error, so that a truncated or
// corrupt file reads "gzip data: unexpected EOF" rather than "unexpected EOF".
type decompressReader struct {
	r    io.Reader
	kind string
}

func (d *decompressReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s data: %w (truncated or corrupt file?)", d.kind, err)
	}
	return n, err
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
// first line suggest. Bytes that are no text trace (UTF-16, a zip archive or a
// workbook, a tar archive, other compressions) are refused by what they are, and so
// are options that the format does not read.
func loadFormat(r io.Reader, name, fileName string, opt LoadOptions, n notes) (*Trace, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	head, _ := br.Peek(4 << 10)
	if err := notText(head); err != nil {
		return nil, &ParseError{Name: name, Err: err}
	}
	format, by := opt.Format, "by the format option"
	if format == "" {
		by = "by its extension"
		switch ext := strings.ToLower(filepath.Ext(fileName)); ext {
		case ".csv", ".tsv":
			format = FormatCSV
		case ".txt", ".dat", ".counts":
			format = FormatCounts
		case ".log":
			format = FormatAccessLog
		case ".json":
			format = FormatPromJSON
		default:
			format, by = sniffFormat(head), "by its first line"
		}
	}
	if err := opt.unread(format); err != nil {
		err.File = name
		err.Err = fmt.Errorf("%w, and this file is read as %s (%s)", err.Err, formatNames[format], by)
		return nil, err
	}
	switch format {
	case FormatCSV:
		return loadCSV(br, name, opt.CSV, n)
	case FormatCounts:
		b := opt.CountsBucket
		if b == 0 {
			b = opt.CSV.Bucket
		}
		if b == 0 {
			b = time.Second
		}
		return loadCounts(br, name, b, DefaultMaxBuckets, opt.Format == FormatCounts)
	case FormatAccessLog:
		return loadAccessLogLimits(br, name, opt.AccessLog, MaxRate, MaxLineBytes, n)
	case FormatPromJSON:
		return LoadPromJSON(br, name, opt.PromJSON)
	}
	return nil, &ParseError{Name: name, Err: fmt.Errorf("format %q: want %s", format, formatNamesList)}
}

// formatNames name the formats in messages.
var formatNames = map[string]string{
	FormatCSV:       "CSV",
	FormatCounts:    "counts",
	FormatAccessLog: "an access log",
	FormatPromJSON:  "a Prometheus JSON answer",
}

// unread refuses the first option set that files of format do not read (a CSV
// option for an access log, say), as a FieldError at its path.
func (o *LoadOptions) unread(format string) *yamldoc.FieldError {
	for _, u := range []struct {
		path    string
		set     bool
		value   any
		formats []string
		where   string
	}{
		{"time_column", o.CSV.TimeColumn != "", o.CSV.TimeColumn, []string{FormatCSV}, "CSV files"},
		{"value_column", o.CSV.ValueColumn != "", o.CSV.ValueColumn, []string{FormatCSV}, "CSV files"},
		{"time_format", o.CSV.TimeFormat != "", o.CSV.TimeFormat, []string{FormatCSV}, "CSV files"},
		{"values", o.CSV.Values != "", o.CSV.Values, []string{FormatCSV}, "CSV files"},
		{"bucket", o.CSV.Bucket != 0, o.CSV.Bucket, []string{FormatCSV, FormatCounts}, "CSV and count files"},
		{"counts_bucket", o.CountsBucket != 0, o.CountsBucket, []string{FormatCounts}, "count files"},
		{"max_malformed", o.AccessLog.MaxMalformed != 0, o.AccessLog.MaxMalformed, []string{FormatAccessLog}, "access logs"},
	} {
		if u.set && !slices.Contains(u.formats, format) {
			return &yamldoc.FieldError{Path: u.path, Value: u.value, Err: fmt.Errorf("only valid with %s", u.where)}
		}
	}
	return nil
}

// sniffFormat guesses the format from the first bytes: promjson when the first
// that is not blank is '{' (a JSON object); else from the first line that is not
// blank or a comment: an access log when it has `[...] "`; CSV when it has a comma or
// a semicolon, or a tab and a field that is not a number (a header); counts otherwise.
func sniffFormat(head []byte) string {
	head = bytes.TrimPrefix(head, []byte(utf8BOM))
	if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return FormatPromJSON
	}
	line := firstDataLine(head)
	switch {
	case line == nil:
	case bytes.Contains(line, []byte(`] "`)) && bytes.IndexByte(line, '[') >= 0:
		return FormatAccessLog
	case bytes.IndexByte(line, ',') >= 0 || bytes.IndexByte(line, ';') >= 0:
		return FormatCSV
	case bytes.IndexByte(line, '\t') >= 0:
		for _, f := range bytes.Split(line, []byte{'\t'}) {
			if _, err := strconv.ParseFloat(string(bytes.TrimSpace(f)), 64); err != nil {
				return FormatCSV
			}
		}
	}
	return FormatCounts
}

// firstDataLine is the first line of head that is not blank or a comment ('#'),
// trimmed of spaces; nil if there is none.
func firstDataLine(head []byte) []byte {
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if line = bytes.TrimSpace(line); len(line) > 0 && line[0] != '#' {
			return line
		}
	}
	return nil
}

// notText recognises, by the first bytes, data that is not a text trace and says
// what it is: UTF-16 text (with or without a byte order mark), a zip archive (an
// .xlsx workbook is one), gzip or bzip2 data inside an archive or compressed twice,
// and the compressions the loaders do not read.
func notText(head []byte) error {
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) ||
		len(head) >= 4 && (head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0 || head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0):
		return errors.New("UTF-16 text: save it as UTF-8 (in a spreadsheet, as \"CSV UTF-8\")")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return errors.New("a zip archive (an .xlsx workbook is one): unzip it, or export the sheet as CSV")
	case bytes.HasPrefix(head, gzipMagic), bytes.HasPrefix(head, bzip2Magic) && len(head) >= 10 && bytes.Equal(head[4:10], bzip2Block):
		return errors.New("compressed data inside compressed data or an archive: decompress the outer layer first")
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return errors.New("zstd-compressed: decompress it first, or compress it with gzip (.gz) or bzip2 (.bz2)")
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return errors.New("xz-compressed: decompress it first, or compress it with gzip (.gz) or bzip2 (.bz2)")
	case bytes.HasPrefix(head, []byte("PAR1")):
		return errors.New("a Parquet file: export it as CSV first")
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return errors.New("an uncompressed tar archive: give the file inside it, or compress the archive (.tgz, .tbz2: read when it holds one file)")
	case bytes.IndexByte(head, 0) >= 0:
		return fmt.Errorf("binary data (a NUL byte at offset %d), not a text trace", bytes.IndexByte(head, 0))
	case loneCR(head):
		return errors.New("its lines end in a lone CR (classic Mac OS text): convert the line ends to LF (or CRLF) first")
	}
	return nil
}

// loneCR reports whether head's first line ends in a CR not followed by LF, the
// line end of classic Mac OS text, which the loaders would read as one long line.
func loneCR(head []byte) bool {
	i := bytes.IndexAny(head, "\r\n")
	return i >= 0 && head[i] == '\r' && i+1 < len(head) && head[i+1] != '\n'
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
