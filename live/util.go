package live

import (
	"fmt"
	"net/url"
	"sort"
)

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CheckHTTPURL refuses s unless it is an absolute http or https URL with a host:
// anything else (a bare host:port, an empty flag) would only fail, or be retried in
// vain, once the command runs.
func CheckHTTPURL(s string) error {
	if u, err := url.Parse(s); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("URL %q: want http:// or https:// and a host", s)
	}
	return nil
}
