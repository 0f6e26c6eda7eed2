package calibrate

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/sim"
)

// Config is the fitted service model as a simulator configuration. Fields the fit
// says nothing about keep their defaults (sim.Config.Validate).
func (f *Fit) Config() (sim.Config, error) {
	c := sim.Config{
		ServiceTime:  sim.Dist{Kind: f.Family.Kind, Mean: f.MeanService.V},
		Concurrency:  int(f.Slots.V),
		StartupDelay: sim.Dist{Kind: sim.Constant, Mean: f.Startup.V},
		Timeout:      time.Duration(f.Timeout.V * float64(time.Second)).Round(time.Millisecond),
	}
	if f.Queue.Fitted || f.Queue.V != 0 {
		c.QueueCapacity = new(int(f.Queue.V))
	}
	if f.Family.Kind == sim.LogNormal {
		c.ServiceTime.CV = f.Family.CV
	}
	return c, c.Validate()
}

// YAML writes the fitted model as a strict simulator config, one comment per value
// giving its source and fit quality; source names where the metrics came from. The
// text is checked to load with sim.DecodeConfig into the same values.
func (f *Fit) YAML(source string) ([]byte, error) {
	c, err := f.Config()
	if err != nil {
		return nil, fmt.Errorf("calibrate: fitted values are not a valid simulator config: %w", err)
	}
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
	fitted := func(v Value) string {
		if v.Fitted {
			return v.Source
		}
		return "NOT FITTED, " + v.Source
	}
	var b bytes.Buffer
	o := f.Options
	fmt.Fprintf(&b, "# Simulator service model fitted by intelliscale calibrate from %s,\n", source)
	fmt.Fprintf(&b, "# window %s to %s (%v), %.0f requests (%.0f completed, %.0f answered 503, %.0f 504).\n",
		o.Start.UTC().Format(time.RFC3339), o.End.UTC().Format(time.RFC3339), o.End.Sub(o.Start), f.Arrived, f.Completed, f.Rejected, f.TimedOut)
	fmt.Fprintf(&b, "# Fields not written keep the simulator's defaults (sim.Config, sim/config.go).\n")
	var alt []string
	for _, cand := range f.Candidates[1:] {
		s := fmt.Sprintf("%s AIC %.4g", cand.Kind, cand.AIC)
		if cand.Kind == sim.LogNormal {
			s = fmt.Sprintf("lognormal (cv %s) AIC %.4g", num(cand.CV), cand.AIC)
		}
		alt = append(alt, s)
	}
	fmt.Fprintf(&b, "service_time:\n")
	var which string
	switch {
	case f.FitShort:
		which = fmt.Sprintf("those that waited least for a slot (%s of the mean service time on average; too few waited at most %g%%), so the fit may be wider than the service times",
			waitShare(f.FitWait, f.FitWaitBound), 100*MaxWaitShare)
	case f.FitWaitBound:
		which = fmt.Sprintf("those whose buckets do not show that their requests waited for a slot more than %g%% of the mean service time (without the _sum and _count series, the buckets bound the wait from below only)",
			100*MaxWaitShare)
	default:
		which = fmt.Sprintf("those whose requests waited for a slot at most %g%% of the mean service time (%s on average), so that their responses are service times",
			100*MaxWaitShare, waitShare(f.FitWait, false))
	}
	fmt.Fprintf(&b, "  kind: %-12s # constant or exponential within KS %g, else the lowest AIC, on the latency histogram of %.0f requests in %d of the %d intervals of %v at utilisation <= %.2f, %s: G2 %.4g, KS %.3g; %s\n",
		c.ServiceTime.Kind, KSTolerance, f.FitRequests, f.FitIntervals, f.LowIntervals, o.Step, o.LowUtilisation, which, f.Family.G2, f.Family.KS, strings.Join(alt, ", "))
	check := ""
	if f.LowMeanResponse > 0 {
		check = fmt.Sprintf("; at utilisation <= %.2f, %s s against a mean response time of %s s", min(o.LowUtilisation, ServiceCheckUtilisation), num(f.LowMeanService), num(f.LowMeanResponse))
	}
	fmt.Fprintf(&b, "  mean: %-12s # seconds; %s%s\n", num(c.ServiceTime.Mean), f.MeanService.Source, check)
	if c.ServiceTime.Kind == sim.LogNormal {
		fmt.Fprintf(&b, "  cv: %-14s # maximum likelihood on the histogram buckets, mean fixed\n", num(c.ServiceTime.CV))
	}
	fmt.Fprintf(&b, "concurrency: %-9d # %s\n", c.Concurrency, f.Slots.Source)
	fmt.Fprintf(&b, "startup_delay:\n")
	fmt.Fprintf(&b, "  kind: constant\n")
	fmt.Fprintf(&b, "  mean: %-12s # seconds; %s\n", num(c.StartupDelay.Mean), fitted(f.Startup))
	fmt.Fprintf(&b, "queue_capacity: %-6d # %s\n", *c.QueueCapacity, fitted(f.Queue))
	fmt.Fprintf(&b, "timeout: %-13s # %s\n", c.Timeout, fitted(f.Timeout))

	back, err := sim.DecodeConfig(bytes.NewReader(b.Bytes()), "calibrated config")
	if err != nil {
		return nil, fmt.Errorf("calibrate: the written config does not load: %w", err)
	}
	if back.ServiceTime.Kind != c.ServiceTime.Kind || back.Concurrency != c.Concurrency || *back.QueueCapacity != *c.QueueCapacity || back.Timeout != c.Timeout {
		return nil, fmt.Errorf("calibrate: the written config loads as %+v, not %+v", back, c)
	}
	return b.Bytes(), nil
}
