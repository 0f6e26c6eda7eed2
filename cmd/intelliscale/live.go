package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/intelliscale/intelliscale/live"
	"github.com/intelliscale/intelliscale/live/docker"
	"github.com/intelliscale/intelliscale/live/kubernetes"
	"github.com/intelliscale/intelliscale/live/workload"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

func backendNames() string {
	var names []string
	for _, b := range backends() {
		names = append(names, b.Name+" ("+b.Summary+")")
	}
	return strings.Join(names, "; ")
}

// backends are the kinds of workload `live controller --backend` scales.
func backends() []live.Backend {
	return []live.Backend{docker.Backend(), kubernetes.Backend()}
}

func init() {
	register(command{
		name:    "live",
		summary: "run the live stack: controller, app, lb, loadgen, probe",
		run:     runLive,
	})
}

var liveCommands = map[string]struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}{
	"controller": {"read a policy's inputs from Prometheus and scale a workload (--backend)", runLiveController},
	"app":        {"the workload service: worker slots, a bounded queue, service-time distribution", runLiveApp},
	"lb":         {"least-outstanding load balancer over the replicas of a DNS name", runLiveLB},
	"loadgen":    {"replay a trace open-loop against a URL", runLiveLoadgen},
	"probe":      {"exit 0 when a URL answers 200 (a container health check)", runLiveProbe},
}

func runLive(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: intelliscale live <subcommand> [flags]\n\nsubcommands:")
		for _, n := range []string{"controller", "app", "lb", "loadgen", "probe"} {
			fmt.Fprintf(stderr, "  %-11s %s\n", n, liveCommands[n].summary)
		}
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	c, ok := liveCommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "intelliscale live: unknown subcommand %q\n", args[0])
		return errUsage
	}
	return c.run(args[1:], stdout, stderr)
}

// signalContext is cancelled by SIGTERM or SIGINT.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
}

// checkListen checks a --listen address before any work: HOST:PORT with a port
// number (the host may be empty, :9100 listening on every interface).
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
		if err != nil {
			err = fmt.Errorf("port %q: want a number from 0 to 65535", port)
		}
	}
	if err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:9100 or :9100: %v", addr, err)
	}
	return nil
}

// serve runs h on addr until ctx is done, then shuts down within grace.
func serve(ctx context.Context, addr string, h http.Handler, grace time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	return serveOn(ctx, ln, h, grace)
}

// serveOn runs h on the bound listener ln until ctx is done, then shuts down within
// grace. It closes ln.
func serveOn(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	addr := ln.Addr().String()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(sctx)
}

func runLiveController(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("live controller", "[flags]", stderr)
	promURL := fs.String("prometheus", "http://127.0.0.1:9090", "Prometheus base URL")
	policy := fs.String("policy", "threshold", "rule-based policy: "+strings.Join(live.RuleNames(), ", ")+" (not with --policy-file; empty: the default)")
	params := fs.String("params", "", "the rule policy's parameters as inline YAML, e.g. '{cooldown_down: 10s}' (empty: defaults); with --policy-file, its deploy-time parameters, e.g. 'headroom_scale: 0.8'")
	policyFile := fs.String("policy-file", "", "exported learned policy (intelliscale export), instead of --policy (empty: none)")
	mode := fs.String("mode", live.Shadow, "shadow (log what it would do) or enforce (scale)")
	backend := fs.String("backend", "docker", "what is scaled: "+backendNames())
	minR := fs.Int("min", 1, "minimum replicas, at least 1 (the live stack cannot scale to zero)")
	maxR := fs.Int("max", 5, "maximum replicas")
	maxStep := fs.Int("max-step", 2, "largest change in replicas per interval")
	interval := fs.Duration("interval", 0, "control interval (0: 15s, or the interval a --policy-file was trained at)")
	slo := fs.Duration("slo", 500*time.Millisecond, "SLO latency; must be a histogram bucket bound (0.005 ... 10 s)")
	slots := fs.Int("slots", 4, "worker slots per app replica (the app's --slots)")
	serviceMean := fs.Duration("service-mean", 100*time.Millisecond, "mean service time of the app (the app's --service-mean)")
	startupDelay := fs.Duration("startup-delay", 5*time.Second, "mean time from creating a replica until it is ready (the predictive policy's horizon)")
	maxAge := fs.Duration("max-age", 0, "newest sample older than this means stale inputs: hold; at least the control interval (0: 3 intervals)")
	listen := fs.String("listen", "127.0.0.1:9100", "address of /metrics and /healthz")
	startup := fs.Duration("startup-timeout", 2*time.Minute, "how long to wait for Prometheus to answer the policy's metrics at start")
	bs := live.RegisterBackends(fs, backends()...)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	// Checked here, before the backend is opened or Prometheus waited for: the
	// controller's own checks cannot tell --min 0 or --max-step 0 from an unset
	// value (they would become the defaults).
	switch {
	case *interval < 0:
		return fmt.Errorf("--interval %v: must be >= 0", *interval)
	case *minR < 1:
		return fmt.Errorf("--min %d: %w", *minR, live.ErrScaleToZero)
	case *maxR < *minR:
		return fmt.Errorf("--max %d: must be >= --min (%d)", *maxR, *minR)
	case *maxStep < 1:
		return fmt.Errorf("--max-step %d: must be >= 1", *maxStep)
	case *slots < 1:
		return fmt.Errorf("--slots %d: must be >= 1 (the app's --slots)", *slots)
	case *serviceMean <= 0:
		return fmt.Errorf("--service-mean %v: must be > 0 (the app's --service-mean)", *serviceMean)
	case *startupDelay < 0:
		return fmt.Errorf("--startup-delay %v: must be >= 0", *startupDelay)
	case *maxAge < 0:
		return fmt.Errorf("--max-age %v: must be >= 0 (0: 3 intervals)", *maxAge)
	case *startup < 0:
		return fmt.Errorf("--startup-timeout %v: must be >= 0", *startup)
	case *interval != 0 && (*interval < 100*time.Millisecond || *interval > time.Hour):
		return fmt.Errorf("--interval %v: must be from 100ms to 1h, or 0 for the default", *interval)
	case *slo <= 0:
		return fmt.Errorf("--slo %v: must be > 0", *slo)
	case *mode != live.Shadow && *mode != live.Enforce:
		return fmt.Errorf("--mode %q: want %s or %s", *mode, live.Shadow, live.Enforce)
	}
	// A policy flag given an empty value counts as not given, so that a launcher
	// (the Compose file) can pass both flags and fill in one.
	policyGiven := isSet(fs, "policy") && *policy != ""
	if *policy == "" {
		*policy = fs.Lookup("policy").DefValue
	}
	if *policyFile != "" && policyGiven {
		// One of the two would be silently ignored, the rule or the file: the
		// command line would say something other than what runs.
		return fmt.Errorf("--policy %s and --policy-file %s: give one (the file is a policy of its own)", *policy, *policyFile)
	}
	if err := checkListen(*listen); err != nil {
		return err
	}
	q, err := live.NewPromQuerier(*promURL)
	if err != nil {
		return fmt.Errorf("--prometheus: %w", err)
	}
	settings := live.Settings{Interval: *interval, SLO: *slo, Min: *minR, Max: *maxR, Slots: *slots,
		ServiceMean: *serviceMean, StartupDelay: *startupDelay}
	var (
		p    live.Policy
		name string
	)
	if *policyFile != "" {
		// With a policy file, --params are its deploy-time parameters.
		node, err := live.ParseParams(*params)
		if err != nil {
			return fmt.Errorf("--%w", err)
		}
		fp, warnings, err := live.LoadPolicyFileDeploy(*policyFile, settings, node)
		if err != nil {
			return err
		}
		for _, w := range warnings {
			fmt.Fprintf(stderr, "warning: policy file %s: %s\n", *policyFile, w)
		}
		if settings.Interval == 0 {
			settings.Interval = fp.Interval()
		}
		p, name = fp, *policyFile
	} else {
		if settings.Interval == 0 {
			settings.Interval = 15 * time.Second
		}
		if !slices.Contains(sim.DefBuckets[:], slo.Seconds()) {
			return fmt.Errorf("--slo %v: must be a bound of the response-time histogram's buckets %v s, or the SLO-violation count has no series", *slo, sim.DefBuckets)
		}
		node, err := live.ParseParams(*params)
		if err != nil {
			return fmt.Errorf("--%w", err)
		}
		rp, err := live.NewRulePolicy(*policy, node, settings)
		var pe *live.ParamsError
		switch {
		case errors.As(err, &pe):
			return fmt.Errorf("--params of --policy %s: %w", pe.Policy, pe.Err)
		case err != nil:
			return err
		}
		p, name = rp, *policy
	}
	if *maxAge != 0 {
		if err := live.CheckMaxAge(*maxAge, settings.Interval); err != nil {
			return fmt.Errorf("--max-age %w", err)
		}
	}
	ccfg := live.ControllerConfig{
		Mode: *mode, Min: *minR, Max: *maxR, MaxStep: *maxStep, Interval: settings.Interval, MaxAge: *maxAge,
	}
	if err := ccfg.Validate(); err != nil {
		return err
	}
	if err := bs.Check(fs, *backend); err != nil {
		return err
	}
	// Bound before anything runs: a --listen address in use is refused at start,
	// not found out at exit after a whole run without /metrics and /healthz.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", *listen, err)
	}
	defer ln.Close()
	ctx, stop := signalContext()
	defer stop()
	// Refuse an incompatible policy at start; wait for a Prometheus that is still
	// starting or has not scraped the service yet. This comes before the backend is
	// opened, so that a controller interrupted meanwhile has touched nothing.
	deadline := time.Now().Add(*startup)
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := live.CheckPolicy(cctx, p, q)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("policy %s refused: %w", name, err)
		}
		fmt.Fprintf(stderr, "waiting for Prometheus: %v\n", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "controller: interrupted before the first decision; nothing was scaled")
		return nil
	}
	// Opening the backend is bounded as each later call to it is.
	scaler, err := bs.Open(ctx, fs, *backend, stdout, ccfg.ScalerTimeout)
	if err != nil {
		return err
	}
	defer func() {
		if err := scaler.Close(); err != nil {
			fmt.Fprintln(stderr, err)
		}
	}()
	ctl, err := live.NewController(ccfg, p, q, scaler, live.WallClock{}, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "controller: policy=%s mode=%s target=%q min=%d max=%d max-step=%d interval=%v queries=%d listen=%s\n",
		name, ctl.Config().Mode, scaler.Target(), *minR, *maxR, *maxStep, settings.Interval, len(p.Queries()), *listen)
	// The controller stops when its /metrics and /healthz server fails: it does not
	// scale on unobserved.
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	errc := make(chan error, 1)
	go func() {
		err := serveOn(runCtx, ln, ctl.Handler(), 5*time.Second)
		cancelRun()
		errc <- err
	}()
	runErr := ctl.Run(runCtx)
	stop()
	cancelRun()
	if err := <-errc; err != nil {
		return err
	}
	fmt.Fprintln(stdout, "controller: stopped")
	return runErr
}

func runLiveApp(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("live app", "[flags]", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "listen address (use :8080 in a container)")
	var cfg workload.AppConfig
	fs.IntVar(&cfg.Slots, "slots", 4, "worker slots (requests served at once)")
	fs.IntVar(&cfg.Queue, "queue", 100, "requests that may wait for a slot; beyond that 503")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "per-request timeout from arrival; beyond that 504")
	fs.StringVar(&cfg.ServiceDist, "service-dist", "exponential", "service-time distribution: exponential, lognormal or constant")
	fs.DurationVar(&cfg.ServiceMean, "service-mean", 100*time.Millisecond, "mean service time")
	fs.Float64Var(&cfg.ServiceCV, "service-cv", 1, "coefficient of variation of lognormal service times")
	fs.StringVar(&cfg.Work, "work", "sleep", "what a request does: sleep (waiting) or cpu (busy computation)")
	fs.DurationVar(&cfg.StartupDelay, "startup-delay", 0, "time /ready answers 503 after start (warm-up)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "service-time seed (0: derived from the host name)")
	grace := fs.Duration("drain-grace", 30*time.Second, "on SIGTERM, time to finish requests in flight")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	// The app's own checks take 0 for "default"; here 0 is what the flag says,
	// which is refused where it cannot mean anything.
	switch {
	case cfg.Slots < 1:
		return fmt.Errorf("--slots %d: must be >= 1", cfg.Slots)
	case cfg.Queue < 1:
		return fmt.Errorf("--queue %d: must be >= 1 (the app cannot run without a queue)", cfg.Queue)
	case cfg.Timeout <= 0:
		return fmt.Errorf("--timeout %v: must be > 0", cfg.Timeout)
	case cfg.ServiceMean <= 0:
		return fmt.Errorf("--service-mean %v: must be > 0", cfg.ServiceMean)
	case !(cfg.ServiceCV > 0) || math.IsInf(cfg.ServiceCV, 0):
		return fmt.Errorf("--service-cv %v: must be a finite number > 0 (for no variation, --service-dist constant)", cfg.ServiceCV)
	case cfg.ServiceDist != "exponential" && cfg.ServiceDist != "lognormal" && cfg.ServiceDist != "constant":
		return fmt.Errorf("--service-dist %q: want exponential, lognormal or constant", cfg.ServiceDist)
	case cfg.Work != "sleep" && cfg.Work != "cpu":
		return fmt.Errorf("--work %q: want sleep or cpu", cfg.Work)
	case cfg.StartupDelay < 0:
		return fmt.Errorf("--startup-delay %v: must be >= 0", cfg.StartupDelay)
	case *grace < 0:
		return fmt.Errorf("--drain-grace %v: must be >= 0", *grace)
	}
	if err := checkListen(*listen); err != nil {
		return err
	}
	if cfg.Seed == 0 {
		h, _ := os.Hostname()
		cfg.Seed = 1
		for _, c := range h {
			cfg.Seed = cfg.Seed*31 + uint64(c)
		}
	}
	app, err := workload.NewApp(cfg, time.Now())
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				app.Tick(now)
			}
		}
	}()
	fmt.Fprintf(stdout, "app: listening on %s, %d slots, queue %d, %s service mean %v, work %s\n",
		*listen, cfg.Slots, cfg.Queue, cfg.ServiceDist, cfg.ServiceMean, cfg.Work)
	sctx, sstop := context.WithCancel(context.Background())
	defer sstop()
	go func() {
		<-ctx.Done()
		// A second SIGINT or SIGTERM stops at once, without waiting for the
		// requests in flight.
		stop()
		fmt.Fprintf(stderr, "app: draining: up to %v for the requests in flight (interrupt again to stop now)\n", *grace)
		app.Drain()
		sstop()
	}()
	err = serve(sctx, *listen, app.Handler(), *grace)
	fmt.Fprintln(stdout, "app: stopped")
	return err
}

func runLiveLB(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("live lb", "[flags]", stderr)
	listen := fs.String("listen", "127.0.0.1:8000", "listen address (use :8000 in a container)")
	var cfg workload.BalancerConfig
	fs.StringVar(&cfg.Service, "service", "app", "DNS name of the replicas")
	fs.IntVar(&cfg.Port, "port", 8080, "port the replicas listen on")
	fs.DurationVar(&cfg.Refresh, "refresh", time.Second, "how often the name is re-resolved")
	fs.StringVar(&cfg.ReadyPath, "ready-path", "", "probe this path on every replica at each refresh and send requests only to those answering 200 (e.g. /ready; empty: every replica)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	// The balancer's own checks take 0 and "" for the defaults; here they are what
	// the flag says.
	switch {
	case cfg.Service == "":
		return errors.New("--service \"\": want the DNS name of the replicas")
	case cfg.Port < 1 || cfg.Port > 65535:
		return fmt.Errorf("--port %d: want a port from 1 to 65535", cfg.Port)
	case cfg.Refresh <= 0:
		return fmt.Errorf("--refresh %v: must be > 0", cfg.Refresh)
	case cfg.ReadyPath != "" && !strings.HasPrefix(cfg.ReadyPath, "/"):
		return fmt.Errorf("--ready-path %q: must start with /", cfg.ReadyPath)
	}
	if err := checkListen(*listen); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	lb, err := workload.NewBalancer(cfg, net.DefaultResolver, reg)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	go lb.Run(ctx, stderr)
	mux := http.NewServeMux()
	mux.Handle("/lb/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/lb/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, strings.Join(lb.Backends(), " "))
	})
	mux.Handle("/", lb)
	fmt.Fprintf(stdout, "lb: listening on %s, replicas of %s:%d\n", *listen, cfg.Service, cfg.Port)
	go func() {
		<-ctx.Done()
		// A second SIGINT or SIGTERM stops at once.
		stop()
	}()
	return serve(ctx, *listen, mux, 15*time.Second)
}

func runLiveLoadgen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("live loadgen", "[flags] TRACE (any format intelliscale trace info reads: CSV, counts, access log, Prometheus JSON)", stderr)
	target := fs.String("target", "http://127.0.0.1:8000/", "URL requests are sent to")
	compression := fs.Float64("compression", 1, "time-compression factor: the trace plays this many times faster")
	scale := fs.Float64("rate-scale", 1, "multiplies every rate (after compression: a bucket of rate r sends r*compression*scale per second)")
	maxN := fs.Int("max-requests", 100000, "stop after this many requests (0: no limit)")
	maxDur := fs.Duration("max-duration", 10*time.Minute, "stop after this much wall time (0: the whole trace)")
	maxInFlight := fs.Int("max-in-flight", 512, "outstanding requests beyond which arrivals are skipped (0: no limit)")
	timeout := fs.Duration("timeout", 30*time.Second, "client timeout per request")
	seed := fs.Uint64("seed", 1, "arrival-time seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	// Negative limits used to mean "no limit" and a zero timeout "wait for ever".
	switch {
	case !(*compression > 0) || math.IsInf(*compression, 0):
		return fmt.Errorf("--compression %v: must be a finite number > 0", *compression)
	case !(*scale >= 0) || math.IsInf(*scale, 0):
		return fmt.Errorf("--rate-scale %v: must be a finite number >= 0", *scale)
	case *maxN < 0:
		return fmt.Errorf("--max-requests %d: must be >= 0 (0: no limit)", *maxN)
	case *maxDur < 0:
		return fmt.Errorf("--max-duration %v: must be >= 0 (0: the whole trace)", *maxDur)
	case *maxInFlight < 0:
		return fmt.Errorf("--max-in-flight %d: must be >= 0 (0: no limit)", *maxInFlight)
	case *timeout <= 0:
		return fmt.Errorf("--timeout %v: must be > 0", *timeout)
	}
	if err := live.CheckHTTPURL(*target); err != nil {
		return fmt.Errorf("--target: %w, e.g. http://127.0.0.1:8000/", err)
	}
	tr, err := traces.LoadFile(fs.Arg(0), traces.LoadOptions{})
	if err != nil {
		return err
	}
	sched, err := workload.Schedule(tr, *compression, *scale, *maxN, *maxDur, rand.New(rand.NewPCG(*seed, 0x10ad)))
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	ctx, stop := signalContext()
	defer stop()
	fmt.Fprintf(stdout, "loadgen: %d requests over %v to %s\n", len(sched), workload.Span(tr, sched, *compression, *maxN, *maxDur).Round(time.Millisecond), *target)
	if len(sched) == 0 {
		fmt.Fprintf(stderr, "warning: %s schedules no request (its rates times --rate-scale %v are zero over the replay)\n", fs.Arg(0), *scale)
	}
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	rep := workload.Replay(ctx, sched, *maxInFlight, live.WallClock{}, workload.HTTPSender(client, *target))
	fmt.Fprintln(stdout, "loadgen:", rep)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "loadgen: interrupted")
	}
	switch {
	case rep.Sent > 0 && rep.Errors == rep.Sent:
		// Counted as a replay that ran, an unreachable target passed unnoticed (and
		// a script went on as if the load had been applied).
		return fmt.Errorf("--target %s: none of the %d requests sent was answered: %v", *target, rep.Sent, rep.FirstError)
	case rep.Errors > 0:
		fmt.Fprintf(stderr, "warning: --target %s: %d of the %d requests sent were not answered; the first: %v\n", *target, rep.Errors, rep.Sent, rep.FirstError)
	}
	return nil
}

func runLiveProbe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("live probe", "URL", stderr)
	timeout := fs.Duration("timeout", 2*time.Second, "request timeout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	if *timeout <= 0 {
		// A client without a timeout waits for ever on a URL that never answers.
		return fmt.Errorf("--timeout %v: must be > 0", *timeout)
	}
	if err := live.CheckHTTPURL(fs.Arg(0)); err != nil {
		return fmt.Errorf("%w, e.g. http://127.0.0.1:8000/", err)
	}
	c := &http.Client{Timeout: *timeout}
	resp, err := c.Get(fs.Arg(0))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}
