package promtest

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Samples reads a /metrics page in the text format into a map from series
// (name{labels}, as written) to value. Comments, blank lines and lines whose value does
// not parse are skipped; at most 4 MiB is read.
func Samples(r io.Reader) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(r, 4<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
