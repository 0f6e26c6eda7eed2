package workload

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Resolver finds the addresses behind a name; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// BalancerConfig configures the load balancer. The zero value of a field means its
// default.
type BalancerConfig struct {
	// Service is the DNS name of the replicas (the Compose service name). Default "app".
	Service string
	// Port the replicas listen on. Default 8080.
	Port int
	// Refresh is how often the name is re-resolved. Default 1s.
	Refresh time.Duration
	// Tries is how many replicas one request may be sent to when connecting fails.
	// Default 3.
	Tries int
	// ReadyPath, when set, is probed on every resolved replica at each refresh
	// (for example "/ready"); only the replicas answering 200 get requests, as a
	// Kubernetes Service routes only to ready endpoints and the simulator only to
	// Ready replicas. Empty: every resolved replica gets requests.
	ReadyPath string
	// ProbeTimeout bounds one readiness probe. Default the smaller of Refresh and 1s.
	ProbeTimeout time.Duration
}

func (c *BalancerConfig) validate() error {
	if c.Service == "" {
		c.Service = "app"
	}
	if c.Port == 0 {
		c.Port = 8080
	}
	if c.Refresh == 0 {
		c.Refresh = time.Second
	}
	if c.Tries == 0 {
		c.Tries = 3
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = min(c.Refresh, time.Second)
	}
	if c.Port < 0 || c.Port > 65535 || c.Refresh < 0 || c.Tries < 0 || c.ProbeTimeout < 0 {
		return fmt.Errorf("balancer: port %d, refresh %v, tries %d, probe timeout %v: out of range", c.Port, c.Refresh, c.Tries, c.ProbeTimeout)
	}
	if c.ReadyPath != "" && !strings.HasPrefix(c.ReadyPath, "/") {
		return fmt.Errorf("balancer: ready path %q: must start with /", c.ReadyPath)
	}
	return nil
}

// Balancer is an HTTP load balancer that sends each request to the replica with the
// fewest outstanding requests (ties broken in turn), re-resolving the replica set as
// it changes.
type Balancer struct {
	cfg      BalancerConfig
	resolver Resolver
	client   *http.Client

	mu       sync.Mutex
	backends []*backend // sorted by address
	next     int        // rotates the tie-break

	requests *prometheus.CounterVec
	size     prometheus.Gauge
	resolved prometheus.Gauge
	resolveE prometheus.Counter
}

type backend struct {
	addr        string // host:port
	outstanding int
}

// NewBalancer returns a balancer with no replicas until Refresh first runs. Its metrics
// are registered with reg when non-nil.
func NewBalancer(cfg BalancerConfig, r Resolver, reg prometheus.Registerer) (*Balancer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Balancer{
		cfg:      cfg,
		resolver: r,
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		}},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lb_requests_total", Help: "Requests answered by the load balancer, by status code.",
		}, []string{"code"}),
		size: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lb_backends", Help: "Replicas the load balancer currently sends to.",
		}),
		resolved: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lb_backends_resolved", Help: "Replicas the service name resolves to, ready or not.",
		}),
		resolveE: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lb_resolve_errors_total", Help: "Failed re-resolutions of the replica set.",
		}),
	}
	if reg != nil {
		if err := reg.Register(b.requests); err != nil {
			return nil, err
		}
		reg.MustRegister(b.size, b.resolved, b.resolveE)
	}
	return b, nil
}

// Refresh re-resolves the replica set and, with a ReadyPath, keeps the replicas that
// answer it 200. Replicas that disappear or stop being ready get no new requests;
// those that stay keep their outstanding counts. On a resolve error the previous set
// is kept.
func (b *Balancer) Refresh(ctx context.Context) error {
	ips, err := b.resolver.LookupHost(ctx, b.cfg.Service)
	if err != nil {
		b.resolveE.Inc()
		return fmt.Errorf("balancer: resolve %q: %w", b.cfg.Service, err)
	}
	addrs := make([]string, 0, len(ips))
	for _, ip := range ips {
		addrs = append(addrs, net.JoinHostPort(ip, fmt.Sprint(b.cfg.Port)))
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	b.resolved.Set(float64(len(addrs)))
	if b.cfg.ReadyPath != "" {
		addrs = b.ready(ctx, addrs)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old := make(map[string]*backend, len(b.backends))
	for _, be := range b.backends {
		old[be.addr] = be
	}
	next := make([]*backend, 0, len(addrs))
	for _, a := range addrs {
		if be, ok := old[a]; ok {
			next = append(next, be)
		} else {
			next = append(next, &backend{addr: a})
		}
	}
	b.backends = next
	b.size.Set(float64(len(next)))
	return nil
}

// ready probes ReadyPath on every address at once and returns those answering 200,
// in order.
func (b *Balancer) ready(ctx context.Context, addrs []string) []string {
	ok := make([]bool, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, b.cfg.ProbeTimeout)
			defer cancel()
			req, err := http.NewRequestWithContext(pctx, http.MethodGet, "http://"+a+b.cfg.ReadyPath, nil)
			if err != nil {
				return
			}
			resp, err := b.client.Do(req)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			ok[i] = resp.StatusCode == http.StatusOK
		}()
	}
	wg.Wait()
	out := addrs[:0]
	for i, a := range addrs {
		if ok[i] {
			out = append(out, a)
		}
	}
	return out
}

// Run re-resolves every Refresh interval until ctx is done.
func (b *Balancer) Run(ctx context.Context, logw io.Writer) {
	t := time.NewTicker(b.cfg.Refresh)
	defer t.Stop()
	for {
		if err := b.Refresh(ctx); err != nil && logw != nil {
			fmt.Fprintln(logw, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Backends returns the current replica addresses, sorted.
func (b *Balancer) Backends() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, len(b.backends))
	for i, be := range b.backends {
		out[i] = be.addr
	}
	return out
}

// acquire picks the replica with the fewest outstanding requests, skipping those in
// tried, and counts the request against it. It returns nil when none is left.
func (b *Balancer) acquire(tried []*backend) *backend {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.backends)
	var best *backend
	for k := 0; k < n; k++ {
		be := b.backends[(b.next+k)%n]
		if slices.Contains(tried, be) {
			continue
		}
		if best == nil || be.outstanding < best.outstanding {
			best = be
		}
	}
	if best != nil {
		best.outstanding++
		b.next = (b.next + 1) % max(n, 1)
	}
	return best
}

func (b *Balancer) release(be *backend) {
	b.mu.Lock()
	be.outstanding--
	b.mu.Unlock()
}

// ServeHTTP forwards the request. A request whose connection to a replica fails is
// tried on another (requests with a body are not retried); with no replica left it is
// answered 503.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var tried []*backend
	for attempt := 0; attempt < b.cfg.Tries; attempt++ {
		be := b.acquire(tried)
		if be == nil {
			break
		}
		tried = append(tried, be)
		out, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+be.addr+r.URL.RequestURI(), r.Body)
		if err != nil {
			b.release(be)
			b.fail(w, http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := b.client.Do(out)
		if err != nil {
			b.release(be)
			if r.Context().Err() != nil {
				return
			}
			if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
				b.fail(w, http.StatusBadGateway)
				return
			}
			continue
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		b.release(be)
		b.requests.WithLabelValues(fmt.Sprint(resp.StatusCode)).Inc()
		return
	}
	b.fail(w, http.StatusServiceUnavailable)
}

func (b *Balancer) fail(w http.ResponseWriter, code int) {
	b.requests.WithLabelValues(fmt.Sprint(code)).Inc()
	http.Error(w, http.StatusText(code), code)
}
