// Command hpaparity runs the upstream Kubernetes HPA controller
// (k8s.io/kubernetes/pkg/controller/podautoscaler, the HorizontalController that
// kube-controller-manager runs) over the traffic shapes of the agents scenario suite and
// writes, for every sync, what the controller saw and what it decided, as CSV. The
// project's hpa policy is then run over the same rows and compared decision by decision
// (live/kubernetes TestHPAParity; make hpa-parity).
//
// The controller runs with fake clients, as in its own horizontal_test.go: a scale
// client and a pod lister served from a model of the workload (the fluid version of the
// simulator: Ready pods share the offered work, a pod created by a scale-up is Pending
// for the scenario's start-up delay), and a metrics client that reports each Ready pod's
// CPU as its share of the busy worker slots, against a request of 1000m. The controller
// keeps wall-clock time, so the run is compressed: one control interval of the scenario
// is one -sync of real time, and the behaviour's windows and periods are scaled by the
// same factor (the defaults: 300 s of scale-down stabilisation, 15 s policy periods).
//
//	go run ./hpaparity -scenarios ../../../../agents/testdata/scenarios -out upstream.csv
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/podautoscaler"
	metricsclient "k8s.io/kubernetes/pkg/controller/podautoscaler/metrics"
)

// The HPA under test: the project's hpa defaults (agents.DefaultHPAParams), which are
// Kubernetes' own defaults with a 60% CPU target.
const (
	targetPercent     = 60
	tolerance         = 0.1
	downStabilisation = 300 * time.Second
	policyPeriod      = 15 * time.Second
	scaleUpPods       = 4
	scaleUpPercent    = 100
	scaleDownPercent  = 100
	requestMilli      = 1000
)

func main() {
	klog.InitFlags(nil)
	dir := flag.String("scenarios", "agents/testdata/scenarios", "directory of the agents scenario files (*.txt)")
	out := flag.String("out", "upstream.csv", "CSV file to write")
	syncPeriod := flag.Duration("sync", 1010*time.Millisecond, "real time per control interval (the controller's sync period); above 1 s, and below 20/19 s so that 20 syncs span the compressed 300 s window")
	only := flag.String("only", "", "run only this scenario")
	flag.Parse()
	if err := run(*dir, *out, *only, *syncPeriod); err != nil {
		fmt.Fprintln(os.Stderr, "hpaparity:", err)
		os.Exit(1)
	}
}

func run(dir, out, only string, syncPeriod time.Duration) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no scenario files in %s", dir)
	}
	var worlds []*world
	for _, f := range files {
		sc, err := parseScenario(f)
		if err != nil {
			return err
		}
		if only != "" && sc.name != only {
			continue
		}
		worlds = append(worlds, newWorld(sc))
	}
	client := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, w := range worlds {
		sc := w.sc
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sc.name}}
		if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return err
		}
		// One control interval of the scenario is one sync period (about 1 s) of real
		// time, so windows and periods become that many seconds: a whole number of syncs.
		syncs := func(d time.Duration) int32 { return int32(d / sc.interval) }
		down := syncs(downStabilisation)
		period := syncs(policyPeriod)
		if period < 1 {
			return fmt.Errorf("scenario %s: interval %v longer than the %v policy period", sc.name, sc.interval, policyPeriod)
		}
		maxPolicy := autoscalingv2.MaxChangePolicySelect
		hpa := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: sc.name},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "app"},
				MinReplicas:    int32p(int32(sc.min)),
				MaxReplicas:    int32(sc.max),
				Metrics: []autoscalingv2.MetricSpec{{
					Type: autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: int32p(targetPercent)}},
				}},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleUp: &autoscalingv2.HPAScalingRules{
						StabilizationWindowSeconds: int32p(0),
						SelectPolicy:               &maxPolicy,
						Policies: []autoscalingv2.HPAScalingPolicy{
							{Type: autoscalingv2.PodsScalingPolicy, Value: scaleUpPods, PeriodSeconds: period},
							{Type: autoscalingv2.PercentScalingPolicy, Value: scaleUpPercent, PeriodSeconds: period},
						},
					},
					ScaleDown: &autoscalingv2.HPAScalingRules{
						StabilizationWindowSeconds: int32p(down),
						SelectPolicy:               &maxPolicy,
						Policies: []autoscalingv2.HPAScalingPolicy{
							{Type: autoscalingv2.PercentScalingPolicy, Value: scaleDownPercent, PeriodSeconds: period},
						},
					},
				},
			},
		}
		if _, err := client.AutoscalingV2().HorizontalPodAutoscalers(sc.name).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	byNS := map[string]*world{}
	for _, w := range worlds {
		byNS[w.sc.name] = w
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	hpaInformer := factory.Autoscaling().V2().HorizontalPodAutoscalers()
	pods := &podInformer{inf: factory.Core().V1().Pods().Informer(), worlds: byNS}
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "apps", Version: "v1"}})
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	ctl := podautoscaler.NewHorizontalController(ctx, client.CoreV1(), scales{byNS}, client.AutoscalingV2(), mapper,
		metrics{byNS}, hpaInformer, pods, syncPeriod, downStabilisation, tolerance,
		5*time.Minute, 30*time.Second)
	factory.Start(ctx.Done())
	start := time.Now()
	go ctl.Run(ctx, len(worlds))
	// Fail fast when the controller does not sync at all (a setup error it only logs).
	time.Sleep(5 * syncPeriod)
	for _, w := range worlds {
		w.mu.Lock()
		n := w.k
		w.mu.Unlock()
		if n == 0 {
			return fmt.Errorf("scenario %s: no sync after %v (see the controller's log)", w.sc.name, 5*syncPeriod)
		}
	}
	for _, w := range worlds {
		select {
		case <-w.done:
		case <-time.After(time.Duration(w.steps()+20) * syncPeriod * 2):
			return fmt.Errorf("scenario %s: %d of %d syncs after %v", w.sc.name, len(w.rows), w.steps(), time.Since(start))
		}
	}
	cancel()
	for _, w := range worlds {
		if err := w.checkTiming(); err != nil {
			return fmt.Errorf("scenario %s: %w (a loaded machine? run again)", w.sc.name, err)
		}
	}
	return writeCSV(out, worlds, syncPeriod)
}

func int32p(v int32) *int32 { return &v }

// scenario is what the harness takes from an agents scenario file: its rate segments
// and its sim line.
type scenario struct {
	name                       string
	segs                       []segment
	interval, startup, service time.Duration
	slots, min, max, initial   int
	length                     time.Duration
}

type segment struct {
	from, to time.Duration
	r0, r1   float64
}

// rate is the offered rate at t (a ramp is linear within its segment).
func (s scenario) rate(t time.Duration) float64 {
	for _, g := range s.segs {
		if t >= g.from && t < g.to {
			f := float64(t-g.from) / float64(g.to-g.from)
			return g.r0 + f*(g.r1-g.r0)
		}
	}
	return 0
}

func parseScenario(path string) (scenario, error) {
	sc := scenario{name: strings.TrimSuffix(filepath.Base(path), ".txt"), interval: 15 * time.Second,
		service: 100 * time.Millisecond, slots: 1, min: 1, max: 10, initial: 1}
	f, err := os.Open(path)
	if err != nil {
		return sc, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	line := 0
	for s.Scan() {
		line++
		t := strings.TrimSpace(s.Text())
		if t == "----" || strings.HasPrefix(t, "policy ") {
			break // the transcripts follow
		}
		fields := strings.Fields(t)
		if len(fields) == 0 || strings.HasPrefix(t, "#") {
			continue
		}
		bad := func(err error) error { return fmt.Errorf("%s line %d: %w", path, line, err) }
		switch {
		case fields[0] == "sim":
			for _, kv := range fields[1:] {
				k, v, _ := strings.Cut(kv, "=")
				var err error
				switch k {
				case "startup":
					sc.startup, err = time.ParseDuration(v)
				case "service":
					sc.service, err = time.ParseDuration(v)
				case "interval":
					sc.interval, err = time.ParseDuration(v)
				case "slots":
					sc.slots, err = strconv.Atoi(v)
				case "min":
					sc.min, err = strconv.Atoi(v)
				case "max":
					sc.max, err = strconv.Atoi(v)
				case "initial":
					sc.initial, err = strconv.Atoi(v)
				}
				if err != nil {
					return sc, bad(fmt.Errorf("%s: %w", kv, err))
				}
			}
		case strings.Contains(fields[0], "-") && len(fields) == 2 && strings.HasPrefix(fields[1], "rate="):
			a, b, _ := strings.Cut(fields[0], "-")
			from, err1 := time.ParseDuration(a)
			to, err2 := time.ParseDuration(b)
			r := strings.TrimPrefix(fields[1], "rate=")
			r0s, r1s, ramp := strings.Cut(r, "..")
			if !ramp {
				r1s = r0s
			}
			r0, err3 := strconv.ParseFloat(r0s, 64)
			r1, err4 := strconv.ParseFloat(r1s, 64)
			for _, err := range []error{err1, err2, err3, err4} {
				if err != nil {
					return sc, bad(err)
				}
			}
			sc.segs = append(sc.segs, segment{from, to, r0, r1})
			sc.length = max(sc.length, to)
		}
	}
	if len(sc.segs) == 0 {
		return sc, fmt.Errorf("%s: no rate segments", path)
	}
	return sc, s.Err()
}

// world is the workload of one scenario as the controller sees it.
type world struct {
	sc   scenario
	mu   sync.Mutex
	k    int // syncs so far
	spec int // the scale's replicas, as the controller last set them
	pods []pod
	next int // name counter
	rows []row
	// at are the real times of the syncs (the compression holds while they stay more
	// than 1 s apart and 20 of them span more than the compressed 20 s window).
	at   []time.Time
	done chan struct{}
}

type pod struct {
	name    string
	created int // the sync at whose end it was created (0 and below: before the run)
}

// row is one sync: what the controller saw, and (Upstream) what it decided.
type row struct {
	k                   int
	rate, busy          float64
	ready, provisioning int
	current, upstream   int
	utilisationPercent  int
}

func newWorld(sc scenario) *world {
	w := &world{sc: sc, spec: sc.initial, done: make(chan struct{})}
	for range sc.initial {
		w.pods = append(w.pods, pod{name: w.podName(), created: -1000})
	}
	return w
}

// checkTiming verifies the compression: consecutive syncs more than 1 s apart (a scale
// event of one sync is outside the next one's 1 s policy period, as 15 s is in the
// scenario), and 19 syncs within 20 s (a recommendation 19 syncs old is inside the 20 s
// window, as 285 s is inside 300 s).
func (w *world) checkTiming() error {
	for i := 1; i < len(w.at); i++ {
		if gap := w.at[i].Sub(w.at[i-1]); gap <= time.Second {
			return fmt.Errorf("syncs %d and %d only %v apart", i, i+1, gap)
		}
		if i >= 19 {
			if span := w.at[i].Sub(w.at[i-19]); span >= 20*time.Second {
				return fmt.Errorf("syncs %d to %d span %v: want under 20 s", i-18, i+1, span)
			}
		}
	}
	return nil
}

func (w *world) steps() int { return int(w.sc.length / w.sc.interval) }

func (w *world) podName() string {
	w.next++
	return fmt.Sprintf("app-%d", w.next)
}

// ready reports whether p is Ready at the end of sync k.
func (w *world) ready(p pod, k int) bool {
	return time.Duration(k-p.created)*w.sc.interval >= w.sc.startup
}

// advance is called at each sync's metrics read: it records the decision of the sync
// before (the scale's replicas now), brings the pods to that count (a scale-down removes
// the Pending pods first, then the newest, as the ReplicaSet controller does), and
// returns the Ready pods' CPU.
func (w *world) advance() (metricsclient.PodMetricsInfo, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.k > 0 && len(w.rows) == w.k {
		w.rows[w.k-1].upstream = w.spec
	}
	if w.k == w.steps() {
		select {
		case <-w.done:
		default:
			close(w.done)
		}
		return nil, false
	}
	for len(w.pods) < w.spec {
		w.pods = append(w.pods, pod{name: w.podName(), created: w.k})
	}
	for len(w.pods) > w.spec {
		idx := len(w.pods) - 1
		for i := len(w.pods) - 1; i >= 0; i-- {
			if !w.ready(w.pods[i], w.k+1) {
				idx = i
				break
			}
		}
		w.pods = append(w.pods[:idx], w.pods[idx+1:]...)
	}
	w.k++
	w.at = append(w.at, time.Now())
	k := w.k
	ready := 0
	for _, p := range w.pods {
		if w.ready(p, k) {
			ready++
		}
	}
	// The window (k-1)I..kI: its mean rate, the busy slots of the pods Ready at its end.
	mid := time.Duration(k)*w.sc.interval - w.sc.interval/2
	rate := w.sc.rate(mid)
	busy := min(rate*w.sc.service.Seconds(), float64(ready*w.sc.slots))
	m := metricsclient.PodMetricsInfo{}
	var total int64
	for _, p := range w.pods {
		if w.ready(p, k) {
			v := int64(math.Round(busy / float64(ready*w.sc.slots) * requestMilli))
			m[p.name] = metricsclient.PodMetric{Timestamp: time.Now(), Window: 30 * time.Second, Value: v}
			total += v
		}
	}
	util := 0
	if ready > 0 {
		util = int(total * 100 / int64(ready*requestMilli))
	}
	w.rows = append(w.rows, row{k: k, rate: rate, busy: busy, ready: ready, provisioning: len(w.pods) - ready,
		current: w.spec, upstream: -1, utilisationPercent: util})
	return m, true
}

// podsNow returns the pods at the current sync: Ready ones Running with a Ready
// condition long since true, the others Pending.
func (w *world) podsNow() []*corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	long := metav1.NewTime(time.Now().Add(-time.Hour))
	var out []*corev1.Pod
	for _, p := range w.pods {
		po := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: w.sc.name, Labels: map[string]string{"app": "app"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(requestMilli, resource.DecimalSI)}}}}},
		}
		if w.ready(p, w.k) {
			po.Status = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &long,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: long}}}
		} else {
			po.Status = corev1.PodStatus{Phase: corev1.PodPending}
		}
		out = append(out, po)
	}
	return out
}

// metrics is the controller's metrics client: CPU of the Ready pods.
type metrics struct{ worlds map[string]*world }

func (m metrics) GetResourceMetric(_ context.Context, res corev1.ResourceName, ns string, _ labels.Selector, _ string) (metricsclient.PodMetricsInfo, time.Time, error) {
	w := m.worlds[ns]
	if w == nil || res != corev1.ResourceCPU {
		return nil, time.Time{}, fmt.Errorf("no %s metrics in namespace %s", res, ns)
	}
	pm, ok := w.advance()
	if !ok {
		return nil, time.Time{}, fmt.Errorf("scenario %s: over", ns)
	}
	return pm, time.Now(), nil
}

func (metrics) GetRawMetric(string, string, labels.Selector, labels.Selector) (metricsclient.PodMetricsInfo, time.Time, error) {
	return nil, time.Time{}, fmt.Errorf("no custom metrics")
}

func (metrics) GetObjectMetric(string, string, *autoscalingv2.CrossVersionObjectReference, labels.Selector) (int64, time.Time, error) {
	return 0, time.Time{}, fmt.Errorf("no object metrics")
}

func (metrics) GetExternalMetric(string, string, labels.Selector) ([]int64, time.Time, error) {
	return nil, time.Time{}, fmt.Errorf("no external metrics")
}

// scales is the controller's scale client: deployment/app of each scenario.
type scales struct{ worlds map[string]*world }

func (s scales) Scales(ns string) scale.ScaleInterface { return nsScales{s.worlds[ns], ns} }

type nsScales struct {
	w  *world
	ns string
}

func (s nsScales) Get(_ context.Context, gr schema.GroupResource, name string, _ metav1.GetOptions) (*autoscalingv1.Scale, error) {
	if s.w == nil || name != "app" {
		return nil, fmt.Errorf("no %s %s/%s", gr, s.ns, name)
	}
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec:   autoscalingv1.ScaleSpec{Replicas: int32(s.w.spec)},
		Status: autoscalingv1.ScaleStatus{Replicas: int32(len(s.w.pods)), Selector: "app=app"}}, nil
}

func (s nsScales) Update(_ context.Context, gr schema.GroupResource, sc *autoscalingv1.Scale, _ metav1.UpdateOptions) (*autoscalingv1.Scale, error) {
	if s.w == nil || sc.Name != "app" {
		return nil, fmt.Errorf("no %s %s/%s", gr, s.ns, sc.Name)
	}
	s.w.mu.Lock()
	s.w.spec = int(sc.Spec.Replicas)
	s.w.mu.Unlock()
	return sc, nil
}

func (s nsScales) Patch(context.Context, schema.GroupVersionResource, string, types.PatchType, []byte, metav1.PatchOptions) (*autoscalingv1.Scale, error) {
	return nil, fmt.Errorf("patch: not used by the HPA controller")
}

// podInformer serves the controller's pod lister from the worlds; its informer (on
// the fake clientset) only reports itself synced.
type podInformer struct {
	inf    cache.SharedIndexInformer
	worlds map[string]*world
}

var _ coreinformers.PodInformer = (*podInformer)(nil)

func (p *podInformer) Informer() cache.SharedIndexInformer { return p.inf }
func (p *podInformer) Lister() corelisters.PodLister       { return podLister{p.worlds, ""} }

type podLister struct {
	worlds map[string]*world
	ns     string
}

func (l podLister) List(sel labels.Selector) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	for ns, w := range l.worlds {
		if l.ns != "" && ns != l.ns {
			continue
		}
		for _, p := range w.podsNow() {
			if sel.Matches(labels.Set(p.Labels)) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func (l podLister) Pods(ns string) corelisters.PodNamespaceLister { return podLister{l.worlds, ns} }

func (l podLister) Get(name string) (*corev1.Pod, error) {
	ps, _ := l.List(labels.Everything())
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("pod %s/%s not found", l.ns, name)
}

// writeCSV writes every world's rows, scenarios in name order.
func writeCSV(path string, worlds []*world, syncPeriod time.Duration) error {
	sort.Slice(worlds, func(i, j int) bool { return worlds[i].sc.name < worlds[j].sc.name })
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.Write([]string{"scenario", "sync", "time_s", "interval_s", "slots", "min", "max", "rate", "busy_slots", "ready", "provisioning", "current", "cpu_percent", "upstream"})
	for _, w := range worlds {
		for _, r := range w.rows {
			cw.Write([]string{w.sc.name, strconv.Itoa(r.k), strconv.FormatFloat((time.Duration(r.k) * w.sc.interval).Seconds(), 'g', -1, 64),
				strconv.FormatFloat(w.sc.interval.Seconds(), 'g', -1, 64), strconv.Itoa(w.sc.slots), strconv.Itoa(w.sc.min), strconv.Itoa(w.sc.max),
				strconv.FormatFloat(r.rate, 'g', 6, 64), strconv.FormatFloat(r.busy, 'g', 6, 64),
				strconv.Itoa(r.ready), strconv.Itoa(r.provisioning), strconv.Itoa(r.current), strconv.Itoa(r.utilisationPercent), strconv.Itoa(r.upstream)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "hpaparity: %d scenarios, sync period %v, wrote %s\n", len(worlds), syncPeriod, path)
	return os.Rename(tmp, path)
}
