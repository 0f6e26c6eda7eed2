package calibrate

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/sim"
)

// TestCalibrateWarnsOfServiceCutByTimeout: when the service takes longer than the
// timeout for a share of the requests that hardly waited for a slot, the latency
// histogram lacks them and the fit describes the service times cut at the timeout,
// which Calibrate says in a warning; a timeout beyond the service times gives none.
// The share of timed-out requests it finds is the service time's chance of
// exceeding the timeout.
func TestCalibrateWarnsOfServiceCutByTimeout(t *testing.T) {
	cases := []struct {
		name    string
		service sim.Dist
		timeout time.Duration
		warn    bool
	}{
		{"lognormal cut at 1s", sim.Dist{Kind: sim.LogNormal, Mean: 0.2, CV: 2}, time.Second, true},
		{"lognormal within 20s", sim.Dist{Kind: sim.LogNormal, Mean: 0.2, CV: 2}, 20 * time.Second, false},
		{"exponential cut at 0.3s", sim.Dist{Kind: sim.Exponential, Mean: 0.1}, 300 * time.Millisecond, true},
		{"exponential within 2s", sim.Dist{Kind: sim.Exponential, Mean: 0.1}, 2 * time.Second, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := sim.Config{Seed: 3, ServiceTime: c.service, Concurrency: 4, Timeout: c.timeout,
				ScrapeInterval: 5 * time.Second, MinReplicas: new(1), MaxReplicas: 20, InitialReplicas: 2}
			capacity := 4 / c.service.Mean
			tr := surgeTrace(120, 0.3*capacity, 2.5*capacity)
			// As sim --openmetrics writes it, with the timeout gauge.
			var dump bytes.Buffer
			if err := features.WriteOpenMetrics(&dump, record(t, cfg, tr).Scrapes, epoch, features.ServiceGauges(&cfg)...); err != nil {
				t.Fatal(err)
			}
			d, err := ParseDump("run.om", dump.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			fit, err := Calibrate(context.Background(), NewEngineQuerier("run.om", d), Options{Start: epoch, End: epoch.Add(tr.Duration())})
			if err != nil {
				t.Fatal(err)
			}
			var warning string
			for _, w := range fit.Warnings {
				if strings.Contains(w, "timed out (504) though they hardly waited") {
					warning = w
				}
			}
			share := fit.FitTimedOut / (fit.FitRequests + fit.FitTimedOut)
			exceed := 1 - distCDF(c.service.Kind, c.service.Mean, c.service.CV, c.timeout.Seconds())
			t.Logf("timed out %.3g%% of the fit's requests, P(service > timeout) %.3g%%; mean %.4g, %s cv %.3g; warnings %q",
				100*share, 100*exceed, fit.MeanService.V, fit.Family.Kind, fit.Family.CV, fit.Warnings)
			if (warning != "") != c.warn {
				t.Fatalf("timeout warning %q, want one: %v", warning, c.warn)
			}
			if !c.warn {
				return
			}
			if rel := math.Abs(share-exceed) / exceed; rel > 0.25 {
				t.Errorf("%.3g%% of the fit's requests timed out, want the service time's chance of exceeding the timeout, %.3g%% (within 25%%)", 100*share, 100*exceed)
			}
			if !fit.Timeout.Fitted || fit.Timeout.V != c.timeout.Seconds() {
				t.Fatalf("timeout %+v, true %v", fit.Timeout, c.timeout)
			}
			timeout := fmt.Sprintf("the timeout (%.4g s)", c.timeout.Seconds())
			for _, want := range []string{percent3(share) + " of the", timeout, fmt.Sprintf("the fitted mean %.4g s", fit.MeanService.V)} {
				if !strings.Contains(warning, want) {
					t.Errorf("warning %q does not say %q", warning, want)
				}
			}
		})
	}
}
