package live

import (
	"context"
	"errors"
	"flag"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/promtest"
)

// A --max-step as large as the int range means no step limit: the step bounds around
// the current count must saturate, not wrap round, which turned a scale-up into a
// scale-down to the minimum.
func TestLimitHugeStepDoesNotWrap(t *testing.T) {
	for _, tc := range []struct{ proposed, current, min, max, step, want int }{
		{10, 3, 1, 20, math.MaxInt, 10},
		{1, 3, 1, 20, math.MaxInt, 1},
		{10, 3, 1, 20, math.MaxInt - 1, 10},
		{2, 5, 1, 20, math.MaxInt, 2},
	} {
		if got := limit(tc.proposed, tc.current, tc.min, tc.max, tc.step); got != tc.want {
			t.Errorf("limit(%d, cur %d, [%d,%d], step %d) = %d, want %d", tc.proposed, tc.current, tc.min, tc.max, tc.step, got, tc.want)
		}
	}
	q := &fakeProm{vals: fresh(map[string]float64{"load": 1})}
	s := &fakeScaler{r: Replicas{Ready: 3}}
	c, _, _ := newTestController(t, ControllerConfig{Mode: Enforce, Min: 1, Max: 20, MaxStep: math.MaxInt}, constPolicy{want: 10}, q, s)
	if d := c.Step(context.Background()); d.Action != "up" || d.Target != 10 {
		t.Errorf("huge max step: action %s target %d, want up to 10", d.Action, d.Target)
	}
}

// twoInputs reads two inputs and proposes its current count.
type twoInputs struct{}

func (twoInputs) Queries() []string { return []string{"a", "b"} }
func (twoInputs) Decide(_ time.Time, _ []float64, r Replicas) (int, error) {
	return r.Current(), nil
}

// A hold logs only the inputs read before the one that failed: the inputs never read
// were logged as zeros, which read as a measured idle service.
func TestHoldLogsOnlyTheInputsRead(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals map[string]float64
		want []float64
	}{
		{"first NaN", map[string]float64{"a": math.NaN(), "b": 7}, nil},
		{"second missing", map[string]float64{"a": 5}, []float64{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &fakeProm{vals: fresh(tc.vals)}
			c, _, log := newTestController(t, ControllerConfig{Min: 1, Max: 5}, twoInputs{}, q, &fakeScaler{r: Replicas{Ready: 2}})
			d := c.Step(context.Background())
			if d.Action != "hold" {
				t.Fatalf("action %s, want hold", d.Action)
			}
			if len(d.Inputs) != len(tc.want) || (len(tc.want) > 0 && d.Inputs[0] != tc.want[0]) {
				t.Errorf("inputs %v, want %v (only those read)", d.Inputs, tc.want)
			}
			if strings.Contains(log.String(), "inputs=[0") {
				t.Errorf("log shows an input never read as 0: %q", log.String())
			}
		})
	}
}

// A Prometheus URL that cannot work (no scheme, no host, another scheme) is refused
// at once, rather than retried until the start-up timeout.
func TestNewPromQuerierRefusesUnusableURLs(t *testing.T) {
	for _, u := range []string{"", "not a url", "127.0.0.1:9090", "ftp://x", "http://", "http://[::1"} {
		if _, err := NewPromQuerier(u); err == nil || !strings.Contains(err.Error(), "prometheus URL") {
			t.Errorf("NewPromQuerier(%q) = %v, want a refusal naming the URL", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9090", "https://prom.example:443/prefix"} {
		if _, err := NewPromQuerier(u); err != nil {
			t.Errorf("NewPromQuerier(%q): %v", u, err)
		}
	}
}

// A rule's refusal of its parameters is a ParamsError, so that the controller can name
// --params.
func TestRulePolicyParamsError(t *testing.T) {
	n, err := ParseParams("{upper: 2}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewRulePolicy("threshold", n, testSettings)
	pe, ok := err.(*ParamsError)
	if !ok || pe.Policy != "threshold" || !strings.Contains(err.Error(), "upper") {
		t.Errorf("err %v (%T), want a *ParamsError of threshold naming upper", err, err)
	}
	if _, err := NewRulePolicy("nope", nil, testSettings); err == nil {
		t.Error("unknown policy accepted")
	} else if _, ok := err.(*ParamsError); ok {
		t.Errorf("unknown policy reported as a params error: %v", err)
	}
}

// hangingScaler accepts every call and answers only when the call is given up.
type hangingScaler struct{ fakeScaler }

func (s *hangingScaler) Replicas(ctx context.Context) (Replicas, error) {
	<-ctx.Done()
	return Replicas{}, ctx.Err()
}

func (s *hangingScaler) Scale(ctx context.Context, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}

// A backend that never answers (an engine or API server that accepts connections and
// hangs) makes the step hold and count scaler errors once each attempt's bound
// passes; the step used to wait for ever, taking no more decisions.
func TestScalerCallsAreBounded(t *testing.T) {
	q := &fakeProm{vals: fresh(map[string]float64{"load": 1})}
	var log strings.Builder
	c, err := NewController(ControllerConfig{Mode: Enforce, Min: 1, Max: 5, Retries: 1, Backoff: time.Millisecond,
		ScalerTimeout: time.Millisecond}, constPolicy{want: 3}, q, &hangingScaler{}, &fakeClock{now: time.Unix(1000, 0)}, &log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Decision, 1)
	go func() { done <- c.Step(context.Background()) }()
	select {
	case d := <-done:
		if d.Action != "hold" || d.Hold != "replicas unknown" || !errors.Is(d.Err, context.DeadlineExceeded) {
			t.Errorf("decision %s: want a hold on replicas unknown after the bound", d)
		}
		if v := promtest.Value(c.errs.WithLabelValues(errKindScaler)); v != 2 {
			t.Errorf("scaler errors %v, want 2 (both attempts)", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Step still waiting on a backend that never answers")
	}
	if got := (ControllerConfig{Interval: 15 * time.Second}); got.Validate() != nil || got.ScalerTimeout != 30*time.Second {
		t.Errorf("default scaler timeout %v, want 30s", got.ScalerTimeout)
	}
}

// BackendSet.Check refuses, touching nothing, what Open would: an unknown backend, a
// flag of another backend, and the chosen backend's own check (a required flag), so
// that the controller refuses them before it waits for Prometheus.
func TestBackendSetCheckTouchesNothing(t *testing.T) {
	var opened string
	b := testBackend("b", &opened)
	b.Check = func(fs *flag.FlagSet) error {
		if fs.Lookup("b-target").Value.String() == "" {
			return errors.New("--b-target is required")
		}
		return nil
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	bs := RegisterBackends(fs, testBackend("a", &opened), b)
	if err := fs.Parse([]string{"--a-target=x"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{
		{"c", `--backend "c": want one of a, b`},
		{"b", "--a-target (backend a)"},
	} {
		if err := bs.Check(fs, tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%s): %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := bs.Check(fs, "a"); err != nil {
		t.Errorf("Check(a): %v", err)
	}
	fs2 := flag.NewFlagSet("t", flag.ContinueOnError)
	bs2 := RegisterBackends(fs2, b)
	if err := fs2.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := bs2.Check(fs2, "b"); err == nil || !strings.Contains(err.Error(), "--b-target is required") {
		t.Errorf("Check(b) without its target: %v", err)
	}
	if opened != "" {
		t.Errorf("Check opened %q", opened)
	}
}
