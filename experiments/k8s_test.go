package experiments

import (
	"bytes"
	"strings"
	"testing"
)

// The Job is refused before kubectl sees it when a flag holds what the API server
// would refuse (a resource amount that is not a Kubernetes quantity) or what cannot be
// one argument (a control character); each error names the flag. A path with a space,
// ';' or '$' is one argument, passed on as written (no shell reads it; '$' is doubled
// against the kubelet's $(VAR) expansion).
func TestJobRefusesWhatWouldNotRun(t *testing.T) {
	ok := JobSpec{Name: "bench", Image: "img:1", Config: "/etc/intelliscale/default.yaml", Shards: 2}
	for _, c := range []struct {
		mod  func(*JobSpec)
		want string
	}{
		{func(s *JobSpec) { s.CPU = "abc" }, `--cpu "abc": must be a Kubernetes quantity`},
		{func(s *JobSpec) { s.CPU = "0" }, `--cpu "0": must be a Kubernetes quantity above zero`},
		{func(s *JobSpec) { s.Memory = "2GB" }, `--memory "2GB": must be a Kubernetes quantity`},
		{func(s *JobSpec) { s.Config = "/etc/a.yaml\nrm" }, `--config "/etc/a.yaml\nrm": holds a control character`},
		{func(s *JobSpec) { s.Shards = 0 }, "--shards 0: must be >= 1"},
	} {
		s := ok
		c.mod(&s)
		var b bytes.Buffer
		if err := WriteJob(&b, s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", s, err, c.want)
		}
	}
	for path, want := range map[string]string{
		"/results/a.yaml;rm -rf /results": `- "/results/a.yaml;rm -rf /results"`,
		"/results/$HOME.yaml":             `- "/results/$$HOME.yaml"`,
	} {
		s := ok
		s.Config = path
		var b bytes.Buffer
		if err := WriteJob(&b, s); err != nil || !strings.Contains(b.String(), want) {
			t.Errorf("--config %q: err %v, manifest lacks %s", path, err, want)
		}
	}
	for _, q := range [][2]string{{"500m", "512Mi"}, {"1.5", "2G"}, {".5", "1e9"}, {"2", "2Gi"}} {
		s := ok
		s.CPU, s.Memory = q[0], q[1]
		var b bytes.Buffer
		if err := WriteJob(&b, s); err != nil {
			t.Errorf("cpu %s memory %s: %v", q[0], q[1], err)
		}
		if want := `requests: {cpu: "` + q[0] + `", memory: "` + q[1] + `"}`; !strings.Contains(b.String(), want) {
			t.Errorf("manifest lacks %s", want)
		}
	}
}
