package calibrate

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

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
			fit, err := Calibrate(context.Background(), simulateDump(t, cfg, tr), Options{Start: epoch, End: epoch.Add(tr.Duration())})
			if err != nil {
				t.Fatal(err)
			}
			warning := warningWith(fit.Warnings, "timed out (504) though they hardly waited")
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

// TestCalibrateMeanServiceLeavesOutLoadTimeouts: a request that times out in service
// under load (its wait left its service too little time before the deadline) adds
// busy time without a completed request, so busy time over completed requests reads
// high for the whole window. Each service below runs behind the threshold rule on
// quiet traffic with three surges that the replicas, 60 s to start, meet late, and
// is calibrated from its dump as sim --openmetrics writes it. The fitted mean must be
// within 1% of the true one, where the whole window's figure misses it by more for
// the services that are not exponential (for exponential service it is the
// maximum-likelihood mean however services are cut, and stays right). A service
// whose timeout is never reached keeps the whole window's figure exactly, and with
// the intervals without load timeouts holding fewer than MinRequests completed
// requests, the whole window's figure stays with a warning.
func TestCalibrateMeanServiceLeavesOutLoadTimeouts(t *testing.T) {
	const tolerance = 0.01
	cases := []struct {
		name        string
		service     sim.Dist
		timeout     time.Duration
		maxReplicas int
		surge       float64 // traffic in surges, in replicas' worth
		oldMisses   bool    // the whole window's figure is off by more than tolerance
	}{
		{"lognormal cv 0.5, 2s", sim.Dist{Kind: sim.LogNormal, Mean: 0.15, CV: 0.5}, 2 * time.Second, 20, 2.5, true},
		{"lognormal cv 0.5, 1s", sim.Dist{Kind: sim.LogNormal, Mean: 0.15, CV: 0.5}, time.Second, 20, 2.5, true},
		{"constant, 1s", sim.Dist{Kind: sim.Constant, Mean: 0.15}, time.Second, 20, 2.5, true},
		{"lognormal cv 0.5, 2s, overloaded at 3 replicas", sim.Dist{Kind: sim.LogNormal, Mean: 0.15, CV: 0.5}, 2 * time.Second, 3, 4.5, true},
		{"exponential, 1s", sim.Dist{Kind: sim.Exponential, Mean: 0.15}, time.Second, 20, 2.5, false},
		{"lognormal cv 0.5, 10s: no timeout", sim.Dist{Kind: sim.LogNormal, Mean: 0.15, CV: 0.5}, 10 * time.Second, 20, 2.5, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := sim.Config{Seed: 1, ServiceTime: c.service, Concurrency: 4, Timeout: c.timeout,
				StartupDelay: sim.Dist{Kind: sim.Constant, Mean: 60}, ScrapeInterval: 5 * time.Second,
				MinReplicas: new(1), MaxReplicas: c.maxReplicas, InitialReplicas: 2}
			capacity := 4 / c.service.Mean
			tr := surgeTrace(120, 0.3*capacity, c.surge*capacity)
			q := simulateDump(t, cfg, tr)
			opt := Options{Start: epoch, End: epoch.Add(tr.Duration())}
			fit, err := Calibrate(context.Background(), q, opt)
			if err != nil {
				t.Fatal(err)
			}
			whole := fit.BusySeconds / fit.Completed
			oldErr := (whole - c.service.Mean) / c.service.Mean
			newErr := (fit.MeanService.V - c.service.Mean) / c.service.Mean
			t.Logf("504 share %.2f%%; mean %.4g s (%+.2f%%) from %d intervals, the whole window's %.4g s (%+.2f%%); true %.4g s; %s",
				100*fit.TimedOut/(fit.Completed+fit.TimedOut), fit.MeanService.V, 100*newErr, fit.ServiceIntervals, whole, 100*oldErr, c.service.Mean, fit.MeanService.Source)
			if math.Abs(newErr) > tolerance {
				t.Errorf("mean service %.4g s, true %.4g s: %.2f%% off (limit %.0f%%)", fit.MeanService.V, c.service.Mean, 100*newErr, 100*tolerance)
			}
			if c.oldMisses && !(math.Abs(oldErr) > tolerance) {
				t.Errorf("the whole window's mean %.4g s is only %.2f%% off the true %.4g s: the traffic does not test the timeouts", whole, 100*oldErr, c.service.Mean)
			}
			if fit.TimedOut == 0 {
				if fit.MeanService.V != whole || fit.ServiceIntervals != 0 {
					t.Errorf("without a 504 the mean is %.6g s from %d intervals, want the whole window's %.6g s", fit.MeanService.V, fit.ServiceIntervals, whole)
				}
				return
			}
			if fit.ServiceIntervals == 0 || fit.ServiceRequests >= fit.Completed || !strings.Contains(fit.MeanService.Source, "timed out under load") {
				t.Fatalf("mean from %d intervals holding %.0f of the %.0f completed requests (%s), want the intervals without load timeouts",
					fit.ServiceIntervals, fit.ServiceRequests, fit.Completed, fit.MeanService.Source)
			}
			// The intervals without load timeouts hold too few requests: the whole
			// window's figure, with a warning.
			opt.MinRequests = math.Round((fit.ServiceRequests + fit.Completed) / 2)
			short, err := Calibrate(context.Background(), q, opt)
			if err != nil {
				t.Fatal(err)
			}
			warning := warningWith(short.Warnings, "timed out under load")
			if short.MeanService.V != whole || short.ServiceIntervals != 0 || !strings.Contains(warning, fmt.Sprintf("fewer than the %s needed", count(opt.MinRequests))) {
				t.Errorf("with min requests %v: mean %.6g s from %d intervals, want the whole window's %.6g s; warnings %q", opt.MinRequests, short.MeanService.V, short.ServiceIntervals, whole, short.Warnings)
			}
		})
	}
}
