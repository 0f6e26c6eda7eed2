package sim

import (
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
)

// An SLO the service time alone misses is said as such, with the share of service
// times over the latency; one a replica count can meet is not, however close.
func TestUnattainableSLO(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"defaults", Config{}, ""},
		{"100ms at 99%", Config{SLO: SLO{Latency: 100 * time.Millisecond, Target: 0.99}},
			"the SLO (99% within 100ms) cannot be met at any replica count: 37% of service times alone exceed 100ms"},
		{"100ms at 95%", Config{SLO: SLO{Latency: 100 * time.Millisecond}},
			"the SLO (95% within 100ms) cannot be met at any replica count: 37% of service times alone exceed 100ms"},
		// exp(-5) = 0.67% of service times exceed 500ms: too many for 99.9%.
		{"500ms at 99.9%", Config{SLO: SLO{Target: 0.999}},
			"the SLO (99.9% within 500ms) cannot be met at any replica count: 0.67% of service times alone exceed 500ms"},
		{"500ms at 99%", Config{SLO: SLO{Target: 0.99}}, ""},
		{"constant 200ms over 100ms", Config{ServiceTime: Dist{Kind: Constant, Mean: 0.2}, SLO: SLO{Latency: 100 * time.Millisecond}},
			"the SLO (95% within 100ms) cannot be met at any replica count: 100% of service times alone exceed 100ms"},
		{"constant 50ms under 100ms", Config{ServiceTime: Dist{Kind: Constant, Mean: 0.05}, SLO: SLO{Latency: 100 * time.Millisecond, Target: 0.999}}, ""},
	} {
		c := tc.c
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := c.UnattainableSLO(); got != tc.want {
			t.Errorf("%s: %q\nwant %q", tc.name, got, tc.want)
		}
		// It agrees with the demand: unattainable, no count up to the limit meets
		// it; attainable, some count does.
		q := c.QueueModel()
		q.MaxReplicas = 1000
		met := elasticity.ResponseTail(q, elasticity.Demand(q, 10), 10, c.SLO.Latency.Seconds()) <= 1-c.SLO.Target
		if met == (tc.want != "") {
			t.Errorf("%s: the SLO met at demand %d: %v, UnattainableSLO %q", tc.name, elasticity.Demand(q, 10), met, tc.want)
		}
	}
}
