// Package features defines the autoscaling observation as named PromQL expressions over
// the metrics the service exports, and evaluates them two ways with the same result: a
// fast native evaluator over the simulator's scrapes for training, and the Prometheus
// engine over recorded series for proof and for production.
package features

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// Feature is one named observation feature.
type Feature struct {
	// Name identifies the feature (in policy files, dashboards and errors); unique in a
	// spec, [a-z0-9_]+.
	Name string `yaml:"name"`
	// Expr is the PromQL expression. It must evaluate to a single label-free sample
	// (aggregate every selector with sum, min, max or count; histogram_quantile over
	// sum by (le)), so that it means the same over one simulated service and over many
	// production instances.
	Expr string `yaml:"expr"`
	// Doc says what the feature measures and in which unit.
	Doc string `yaml:"doc"`
	// Fill is the observation value used when Expr yields no sample or NaN (no traffic,
	// not enough history, 0/0). Default 0.
	Fill float64 `yaml:"fill"`
	// Scale divides the value before it enters the observation. Default 1.
	Scale float64 `yaml:"scale" yamldoc:"nozero"`
	// Clip, when > 0, bounds the scaled value to [-Clip, Clip]; ±Inf become ±Clip.
	// When 0 (the default) values are not bounded and ±Inf become Fill.
	Clip float64 `yaml:"clip"`
	// Hidden features are computed, for the actuator (target and forecast modes read
	// utilisation and ready), but given to the policy's network as 0: an observation
	// without a value the network should not learn from, such as the absolute
	// replica count, which a policy trained at tens of replicas never saw at
	// hundreds. Default false.
	Hidden bool `yaml:"hidden,omitempty"`
}

// Spec is the full feature set: the observation vector, in order. It is saved with
// every exported policy so that the live controller computes the same inputs.
type Spec struct {
	// Features in observation order; at least one.
	Features []Feature `yaml:"features"`
}

// Hide returns obs as the policy's network sees it: obs itself when no feature is
// hidden, else obs copied into dst (grown as needed) with every hidden feature 0.
// It does not allocate once dst has room.
func (s Spec) Hide(dst, obs []float64) []float64 {
	if !s.AnyHidden() {
		return obs
	}
	dst = append(dst[:0], obs...)
	for i, f := range s.Features {
		if f.Hidden && i < len(dst) {
			dst[i] = 0
		}
	}
	return dst
}

// AnyHidden reports whether a feature is hidden from the network.
func (s Spec) AnyHidden() bool {
	for _, f := range s.Features {
		if f.Hidden {
			return true
		}
	}
	return false
}

// Names returns the feature names in observation order.
func (s Spec) Names() []string {
	out := make([]string, len(s.Features))
	for i, f := range s.Features {
		out[i] = f.Name
	}
	return out
}

// Transform maps a raw expression value (ok=false when there is no sample) to the
// observation value: Fill for no sample or NaN, then divided by Scale, then clipped.
func (f *Feature) Transform(v float64, ok bool) float64 {
	if !ok || math.IsNaN(v) {
		return f.Fill
	}
	scale := f.Scale
	if scale == 0 {
		scale = 1
	}
	if math.IsInf(v, 0) {
		if f.Clip <= 0 {
			return f.Fill
		}
		if (v > 0) == (scale > 0) {
			return f.Clip
		}
		return -f.Clip
	}
	v /= scale
	if f.Clip > 0 {
		v = math.Max(-f.Clip, math.Min(f.Clip, v))
	}
	return v
}

// Bounds returns the range of Transform's output: [-Clip, Clip] or ±Inf.
func (f *Feature) Bounds() (lo, hi float64) {
	if f.Clip > 0 {
		return -f.Clip, f.Clip
	}
	return math.Inf(-1), math.Inf(1)
}

// Validate fills defaults and checks every feature: a unique, well-formed name, an
// expression that parses, selects only known metrics and uses only constructs the
// native evaluator computes exactly like Prometheus. Errors name the feature, the
// expression and the line:column of the problem.
func (s *Spec) Validate() error {
	if len(s.Features) == 0 {
		return errors.New("features: spec has no features")
	}
	seen := map[string]int{}
	for i := range s.Features {
		f := &s.Features[i]
		if f.Name == "" {
			return fmt.Errorf("features[%d]: name is empty", i)
		}
		for _, r := range f.Name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				return fmt.Errorf("features[%d] %q: name: must match [a-z0-9_]+", i, f.Name)
			}
		}
		if j, dup := seen[f.Name]; dup {
			return fmt.Errorf("features[%d] %q: name already used by features[%d]", i, f.Name, j)
		}
		seen[f.Name] = i
		if f.Scale == 0 {
			f.Scale = 1
		}
		if math.IsNaN(f.Scale) || math.IsInf(f.Scale, 0) {
			return fmt.Errorf("features[%d] %q: scale %v: must be finite and non-zero", i, f.Name, f.Scale)
		}
		if math.IsNaN(f.Fill) || math.IsInf(f.Fill, 0) {
			return fmt.Errorf("features[%d] %q: fill %v: must be finite", i, f.Name, f.Fill)
		}
		if f.Clip < 0 || math.IsNaN(f.Clip) || math.IsInf(f.Clip, 0) {
			return fmt.Errorf("features[%d] %q: clip %v: must be finite and >= 0", i, f.Name, f.Clip)
		}
		if _, _, err := compileExpr(f.Expr); err != nil {
			return fmt.Errorf("feature %q (%s): %w", f.Name, f.Expr, err)
		}
	}
	return nil
}

// LoadSpec decodes a spec from YAML strictly (unknown keys are errors) and validates
// it, by the project's one config convention (internal/yamldoc): every error names
// name (a file name), and the line and field where they can be found.
func LoadSpec(r io.Reader, name string) (Spec, error) {
	data, err := io.ReadAll(io.LimitReader(r, yamldoc.MaxBytes+1))
	if err != nil {
		return Spec{}, fmt.Errorf("%s: %w", name, err)
	}
	var s Spec
	if _, err := yamldoc.Load(data, name, &s); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// LoadSpecFile reads and validates a spec file.
func LoadSpecFile(path string) (Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("features: %w", err)
	}
	return LoadSpec(bytes.NewReader(b), path)
}

// MarshalYAML-friendly form: WriteSpec writes s as YAML that LoadSpec reads back.
func WriteSpec(w io.Writer, s Spec) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("features: writing spec: %w", err)
	}
	return enc.Close()
}

// sloBucket returns the le label of the largest histogram bucket bound <= slo, or ""
// when slo is below the smallest bucket.
func sloBucket(slo float64) string {
	le := ""
	for _, b := range sim.DefBuckets {
		if b <= slo+1e-12 {
			le = leLabel(b)
		}
	}
	return le
}

// Default returns the standard feature set for a service with the given SLO latency
// in seconds (default 0.5 when <= 0). See FEATURES.md for each feature.
func Default(sloSeconds float64) Spec {
	if !(sloSeconds > 0) {
		sloSeconds = 0.5
	}
	slo := fmt.Sprintf("%g", sloSeconds)
	const (
		rate1m = `sum(rate(http_requests_total[1m]))`
		ready  = `sum(intelliscale_replicas{state="ready"})`
	)
	fs := []Feature{
		{Name: "utilisation", Expr: `sum(rate(app_worker_busy_seconds_total[1m])) / sum(app_worker_slots)`,
			Doc: "busy share of the worker slots of ready replicas over the last minute (0..1)", Clip: 4},
		{Name: "rate_per_ready", Expr: rate1m + ` / ` + ready,
			Doc: "request rate over the last minute per ready replica, requests/s, divided by 10", Scale: 10, Clip: 100},
		{Name: "trend_short", Expr: rate1m + ` / sum(rate(http_requests_total[5m]))`,
			Doc: "1-minute over 5-minute request rate (1 = flat)", Fill: 1, Clip: 5},
		{Name: "trend_long", Expr: `sum(rate(http_requests_total[5m])) / sum(rate(http_requests_total[30m]))`,
			Doc: "5-minute over 30-minute request rate (1 = flat)", Fill: 1, Clip: 5},
		{Name: "p95_over_slo", Expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m]))) / ` + slo,
			Doc: "p95 response time of served requests over the last minute, over the SLO latency (>1 violates)", Clip: 40},
		{Name: "queue_per_ready", Expr: `sum(http_requests_queued) / ` + ready,
			Doc: "requests waiting for a slot per ready replica", Clip: 1000},
		{Name: "ready", Expr: ready, Doc: "ready replicas, divided by 10", Scale: 10},
		{Name: "provisioning", Expr: `sum(intelliscale_replicas{state="provisioning"})`, Doc: "replicas starting, divided by 10", Scale: 10},
		{Name: "tod_sin", Expr: `sin(2 * pi() * (vector(time()) % 86400) / 86400)`, Doc: "time of day (UTC), sine"},
		{Name: "tod_cos", Expr: `cos(2 * pi() * (vector(time()) % 86400) / 86400)`, Doc: "time of day (UTC), cosine"},
		{Name: "forecast_per_ready", Expr: `predict_linear(` + rate1m + `[5m:15s], 60) / ` + ready,
			Doc: "request rate forecast one minute ahead (linear fit over 5 minutes of 1-minute rates) per ready replica, divided by 10", Scale: 10, Clip: 100},
		{Name: "drop_share", Expr: `sum(rate(http_requests_total{code=~"5.."}[1m])) / ` + rate1m,
			Doc: "share of requests rejected or timed out over the last minute (0..1)"},
	}
	if le := sloBucket(sloSeconds); le != "" {
		fs = append(fs, Feature{Name: "slow_share",
			Expr: `1 - sum(rate(http_request_duration_seconds_bucket{le="` + le + `"}[1m])) / ` + rate1m,
			Doc:  "share of requests over the last minute not served within the SLO bucket (le=" + le + "), drops included (0..1)"})
	}
	s := Spec{Features: fs}
	if err := s.Validate(); err != nil {
		panic("features: default spec invalid: " + err.Error()) // a bug in this file, not bad input
	}
	return s
}

// String lists the features one per line.
func (s Spec) String() string {
	var b strings.Builder
	for _, f := range s.Features {
		fmt.Fprintf(&b, "%s = %s\n", f.Name, f.Expr)
	}
	return b.String()
}
