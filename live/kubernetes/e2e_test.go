package kubernetes

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/intelliscale/intelliscale/internal/promtest"
	"github.com/intelliscale/intelliscale/internal/repo"
)

// The e2e test's service: what deploy/k8s/app.yaml runs and controller.yaml assumes.
const (
	e2eNamespace   = "intelliscale"
	e2eSlots       = 4
	e2eServiceMean = 100 * time.Millisecond
	e2eInterval    = 4 * time.Second
	e2eBaseRate    = 8.0  // req/s: 0.2 utilisation of one replica
	e2eSurgeRate   = 60.0 // req/s: 1.5 replicas' worth
)

// TestClusterE2E runs the controller with --backend kubernetes against a real API
// server (kube-apiserver, kube-controller-manager, kube-scheduler and etcd, with kwok
// simulating the node, so that the app's pods go Running without images), as the
// ServiceAccount of deploy/k8s/controller.yaml with the RBAC rules there enforced. It
// applies deploy/k8s/app.yaml and checks, from the API server's view: the scale-up
// after a surge and the scale-down after it, through the scale subresource; that the
// ServiceAccount is forbidden everything but its target; that a stopped Prometheus
// means hold; that a controller killed and restarted carries on from the cluster's
// state; that a concurrent edit of the replica count ends in one retried conflict; and
// that the controller refuses an unlabelled workload and one an HPA already scales.
//
// kwok's pods run no code, so the service's metrics come from a model of the pods in
// this test (a queue of e2eSlots workers per Ready replica the Deployment reports, fed
// a scripted request rate), exposed for a real Prometheus to scrape; the controller
// sends its real queries to that Prometheus.
//
// It runs only with INTELLISCALE_K8S set and the binaries built (make k8s-e2e).
func TestClusterE2E(t *testing.T) {
	if os.Getenv("INTELLISCALE_K8S") == "" {
		t.Skip("end-to-end test on a Kubernetes API server: set INTELLISCALE_K8S=1 to run it (make k8s-e2e)")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	k8sBin := envOr("K8S_BIN", filepath.Join(root, "bin", "k8s"))
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kwokctl"} {
		if _, err := os.Stat(filepath.Join(k8sBin, b)); err != nil {
			t.Skipf("%s not built: run make k8s-binaries (deploy/k8s/build-cluster.sh)", filepath.Join(k8sBin, b))
		}
	}
	promBin := envOr("PROMETHEUS", filepath.Join(root, "bin", "prometheus"))
	if _, err := os.Stat(promBin); err != nil {
		t.Skipf("%s not built: run make prometheus", promBin)
	}
	begin := time.Now()
	tmp := t.TempDir()
	ctlBin := filepath.Join(tmp, "intelliscale")
	if out, err := exec.Command("go", "build", "-o", ctlBin, filepath.Join(root, "cmd", "intelliscale")).CombinedOutput(); err != nil {
		t.Fatalf("build intelliscale: %v\n%s", err, out)
	}
	ctx := context.Background()

	// The cluster, with an admin kubeconfig of its own.
	cluster := fmt.Sprintf("ise2e%d", os.Getpid())
	adminConfig := filepath.Join(tmp, "admin.kubeconfig")
	clusterCmd := func(verb string) *exec.Cmd {
		c := exec.Command("bash", filepath.Join(root, "deploy", "k8s", "cluster.sh"), verb, cluster, adminConfig)
		c.Env = append(os.Environ(), "K8S_BIN="+k8sBin, "KWOK_WORKDIR="+filepath.Join(tmp, "kwok"))
		return c
	}
	upStart := time.Now()
	out, err := clusterCmd("up").CombinedOutput()
	t.Cleanup(func() {
		if out, err := clusterCmd("down").CombinedOutput(); err != nil {
			t.Errorf("cluster down: %v\n%s", err, out)
		}
		t.Logf("whole test %v", time.Since(begin).Round(time.Second))
	})
	if err != nil {
		t.Fatalf("cluster up: %v\n%s", err, out)
	}
	t.Logf("cluster up in %v", time.Since(upStart).Round(100*time.Millisecond))
	admin, _, err := NewClient(adminConfig, e2eNamespace)
	if err != nil {
		t.Fatal(err)
	}

	// The manifests: the namespace, the app, and the controller's ServiceAccount, Role
	// and RoleBinding (not its Deployment: the controller runs here, as a process).
	ms := loadManifests(t, filepath.Join(root, "deploy", "k8s"))
	applied := 0
	for _, m := range ms {
		if m.file != "namespace.yaml" && m.file != "app.yaml" && m.file != "controller.yaml" {
			continue
		}
		if err := create(ctx, admin, m.obj); err != nil {
			t.Fatalf("apply %s: %v", m.file, err)
		}
		applied++
	}
	deploys := admin.AppsV1().Deployments(e2eNamespace)
	spec := func() int {
		t.Helper()
		d, err := deploys.Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get deployment/app: %v", err)
		}
		return specReplicas(d.Spec.Replicas)
	}
	ready := func() int {
		d, err := deploys.Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			return 0
		}
		return int(d.Status.ReadyReplicas)
	}
	waitFor(t, "deployment/app's first pod Ready (kwok)", time.Minute, func() bool { return ready() == 1 })
	pods, err := admin.CoreV1().Pods(e2eNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=app"})
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Status.Phase != corev1.PodRunning {
		t.Fatalf("app pods: %v (err %v): want one Running", podPhases(pods), err)
	}
	t.Logf("applied %d objects; app pod %s Running on %s", applied, pods.Items[0].Name, pods.Items[0].Spec.NodeName)

	// The controller's identity: a token of its ServiceAccount, nothing else.
	saConfig := filepath.Join(tmp, "controller.kubeconfig")
	writeServiceAccountConfig(t, ctx, admin, adminConfig, saConfig)
	sa, _, err := NewClient(saConfig, e2eNamespace)
	if err != nil {
		t.Fatal(err)
	}

	// RBAC: the ServiceAccount may read and scale deployment/app, nothing else.
	other := e2eDeployment("other", map[string]string{ManagedLabel: "true"})
	if _, err := deploys.Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	elsewhere := e2eDeployment("app", map[string]string{ManagedLabel: "true"})
	if _, err := admin.AppsV1().Deployments("elsewhere").Create(ctx, elsewhere, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	forbidden := map[string]error{}
	_, forbidden["get deployment/other"] = sa.AppsV1().Deployments(e2eNamespace).Get(ctx, "other", metav1.GetOptions{})
	_, forbidden["scale deployment/other"] = sa.AppsV1().Deployments(e2eNamespace).UpdateScale(ctx, "other",
		&autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: e2eNamespace}, Spec: autoscalingv1.ScaleSpec{Replicas: 3}}, metav1.UpdateOptions{})
	_, forbidden["get deployment/app in namespace elsewhere"] = sa.AppsV1().Deployments("elsewhere").Get(ctx, "app", metav1.GetOptions{})
	_, forbidden["scale deployment/app in namespace elsewhere"] = sa.AppsV1().Deployments("elsewhere").UpdateScale(ctx, "app",
		&autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "elsewhere"}, Spec: autoscalingv1.ScaleSpec{Replicas: 3}}, metav1.UpdateOptions{})
	_, forbidden["update deployment/app (not its scale)"] = sa.AppsV1().Deployments(e2eNamespace).Update(ctx, e2eDeployment("app", nil), metav1.UpdateOptions{})
	_, forbidden["list pods"] = sa.CoreV1().Pods(e2eNamespace).List(ctx, metav1.ListOptions{})
	forbidden["delete deployment/app"] = sa.AppsV1().Deployments(e2eNamespace).Delete(ctx, "app", metav1.DeleteOptions{})
	for what, err := range forbidden {
		if !apierrors.IsForbidden(err) {
			t.Errorf("as the controller's ServiceAccount, %s: err %v, want Forbidden", what, err)
		}
	}
	if _, err := NewScaler(ctx, sa, e2eNamespace, Deployment, "other", nil); !apierrors.IsForbidden(err) {
		t.Errorf("scaler on deployment/other as the ServiceAccount: err %v, want Forbidden", err)
	}
	if _, err := NewScaler(ctx, sa, e2eNamespace, Deployment, "app", nil); err != nil {
		t.Fatalf("scaler on deployment/app as the ServiceAccount: %v", err)
	}
	if d, _ := admin.AppsV1().Deployments(e2eNamespace).Get(ctx, "other", metav1.GetOptions{}); specReplicas(d.Spec.Replicas) != 1 {
		t.Errorf("deployment/other has %d replicas after forbidden writes, want 1", specReplicas(d.Spec.Replicas))
	}

	// The pods' metrics, and a real Prometheus scraping them every second.
	pm := newPodModel(e2eBaseRate)
	pctx, stopModel := context.WithCancel(ctx)
	defer stopModel()
	go pm.run(pctx, func() int { return ready() })
	exporter := &http.Server{Handler: pm, ReadHeaderTimeout: 5 * time.Second}
	el, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go exporter.Serve(el)
	defer exporter.Close()
	prom := startPrometheus(t, promBin, tmp, el.Addr().String())
	waitFor(t, "Prometheus scraping the pods", time.Minute, func() bool {
		m := scrapeText(prom.url + "/api/v1/query?query=app_worker_slots")
		return strings.Contains(m, `"app_worker_slots"`)
	})

	// Refusals at start: an unlabelled workload (as admin, so that RBAC is not what
	// refuses it), and a workload that an HPA scales.
	unlabelled := e2eDeployment("unlabelled", nil)
	if _, err := deploys.Create(ctx, unlabelled, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ctlArgs := func(kubeconfig, workload, listen string) []string {
		return []string{"live", "controller", "--backend=kubernetes", "--kubeconfig=" + kubeconfig,
			"--namespace=" + e2eNamespace, "--workload=" + workload, "--prometheus=" + prom.url,
			"--mode=enforce", "--policy=threshold", "--params={upper: 0.7, lower: 0.3, cooldown_up: 0s, cooldown_down: 8s}",
			"--min=1", "--max=5", "--max-step=2", "--interval=" + e2eInterval.String(),
			"--slots=" + strconv.Itoa(e2eSlots), "--service-mean=" + e2eServiceMean.String(),
			"--startup-timeout=30s", "--listen=" + listen}
	}
	refused := func(what, kubeconfig, workload, want string) {
		t.Helper()
		c := exec.Command(ctlBin, ctlArgs(kubeconfig, workload, "127.0.0.1:0")...)
		out, err := c.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !strings.Contains(string(out), want) {
			t.Errorf("controller on %s: err %v, output %q: want a non-zero exit saying %q", what, err, out, want)
		}
	}
	refused("an unlabelled deployment", adminConfig, "deployment/unlabelled", "lacks the label "+ManagedLabel+"=true")
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: e2eNamespace},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "app"},
			MinReplicas:    new(int32(1)), MaxReplicas: 5,
		},
	}
	if _, err := admin.AutoscalingV2().HorizontalPodAutoscalers(e2eNamespace).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	refused("a deployment an HPA scales", saConfig, "deployment/app", "HorizontalPodAutoscaler already scales it")
	if err := admin.AutoscalingV2().HorizontalPodAutoscalers(e2eNamespace).Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"unlabelled", "other"} {
		if got := mustSpec(t, ctx, admin, n); got != 1 {
			t.Errorf("deployment/%s: %d replicas after the refusals, want 1 (untouched)", n, got)
		}
	}
	if got := spec(); got != 1 {
		t.Fatalf("deployment/app: %d replicas before the controller started, want 1", got)
	}

	// The controller, as the ServiceAccount.
	listen := freeAddr(t)
	ctlURL := "http://" + listen
	var ctl *process
	startController := func() {
		ctl = startProcess(t, "controller", ctlBin, ctlArgs(saConfig, "deployment/app", listen)...)
		waitFor(t, "controller serving /metrics", time.Minute, func() bool { return len(scrapeMetrics(ctlURL)) > 0 })
	}
	startController()
	decided := func() float64 {
		m := scrapeMetrics(ctlURL)
		return m[`intelliscale_decisions_total{action="up"}`] + m[`intelliscale_decisions_total{action="down"}`] + m[`intelliscale_decisions_total{action="none"}`]
	}
	waitFor(t, "the controller's first decisions", time.Minute, func() bool { return decided() >= 2 })
	if got := spec(); got != 1 {
		t.Fatalf("at the base load (%.0f req/s, 0.2 utilisation) deployment/app went to %d replicas, want 1", e2eBaseRate, got)
	}

	// The surge: the controller scales up through the scale subresource, and kwok
	// brings the new pods to Ready.
	surge := time.Now()
	pm.setRate(e2eSurgeRate)
	var firstUp time.Duration
	peak := 0
	waitFor(t, "scale-up after the surge", 90*time.Second, func() bool {
		n := spec()
		peak = max(peak, n)
		if n > 1 && firstUp == 0 {
			firstUp = time.Since(surge)
		}
		return n >= 2 && ready() == n
	})
	t.Logf("surge to first scale-up (API server's view): %.1f s; %d replicas Ready %.1f s after the surge",
		firstUp.Seconds(), spec(), time.Since(surge).Seconds())
	time.Sleep(2 * e2eInterval)

	// Killed and restarted during the surge: the new process carries on from the
	// cluster's replica count instead of starting over from --min.
	ctl.kill(t, syscall.SIGKILL)
	steady := spec()
	if steady < 2 || steady > 5 {
		t.Fatalf("during the surge deployment/app settled at %d replicas, want 2..5", steady)
	}
	waitFor(t, "all replicas Ready", time.Minute, func() bool { return ready() == steady })
	time.Sleep(e2eInterval)
	if got := spec(); got != steady {
		t.Errorf("controller killed: deployment/app went from %d to %d replicas", steady, got)
	}
	startController()
	waitFor(t, "restarted controller exporting the cluster's replica count", 10*time.Second, func() bool {
		return int(scrapeMetrics(ctlURL)["intelliscale_desired_replicas"]) == steady
	})
	d0 := decided()
	waitFor(t, "decisions of the restarted controller", time.Minute, func() bool { return decided() >= d0+2 })
	if got := spec(); got < steady || got > 5 {
		t.Errorf("restarted controller during the surge: %d replicas, was %d: want no reset towards --min", got, steady)
	}
	if first := ctl.lines("decision "); len(first) == 0 || !strings.Contains(first[0], fmt.Sprintf("ready=%d ", steady)) {
		t.Errorf("restarted controller's decisions %q: want the first at ready=%d, read from the cluster", first, steady)
	}

	// The surge ends: back down to one replica.
	calm := time.Now()
	pm.setRate(e2eBaseRate)
	waitFor(t, "scale-down after the surge", 2*time.Minute, func() bool { return spec() == 1 && ready() == 1 })
	t.Logf("surge end to 1 replica: %.1f s (peak %d)", time.Since(calm).Seconds(), max(peak, steady))

	// Prometheus stopped: the controller holds and counts the errors; the replica count
	// stays; it resumes when Prometheus is back.
	before := scrapeMetrics(ctlURL)
	prom.stop(t)
	time.Sleep(4 * e2eInterval)
	during := scrapeMetrics(ctlURL)
	if d := during[`intelliscale_decisions_total{action="hold"}`] - before[`intelliscale_decisions_total{action="hold"}`]; d < 2 {
		t.Errorf("Prometheus down for 4 intervals: %v holds, want >= 2", d)
	}
	if d := during[`intelliscale_errors_total{kind="prometheus"}`] - before[`intelliscale_errors_total{kind="prometheus"}`]; d < 2 {
		t.Errorf("Prometheus down for 4 intervals: %v prometheus errors, want >= 2", d)
	}
	if got := spec(); got != 1 {
		t.Errorf("Prometheus down: deployment/app went to %d replicas, want 1 (hold)", got)
	}
	prom = startPrometheus(t, promBin, tmp, el.Addr().String(), prom.listen)
	held := decided()
	waitFor(t, "decisions after Prometheus returns", 2*time.Minute, func() bool { return decided() > held })

	// Decision latency, as the controller measured it.
	m := scrapeMetrics(ctlURL)
	if c := m["intelliscale_decision_seconds_count"]; c > 0 {
		t.Logf("decision latency: mean %.1f ms over %.0f decisions (reading 11 inputs from Prometheus and deciding)",
			1000*m["intelliscale_decision_seconds_sum"]/c, c)
	}
	ctl.kill(t, syscall.SIGTERM)
	if !strings.Contains(ctl.output(), "controller: stopped") {
		t.Errorf("controller on SIGTERM: no clean stop in its log")
	}

	// A concurrent edit of the replica count between the scaler's read and its write:
	// the write conflicts, is retried on a fresh read, and the count ends where the
	// scaler wanted it (no flapping), as the ServiceAccount.
	s, err := NewScaler(ctx, sa, e2eNamespace, Deployment, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	edits := 0
	s.beforeWrite = func() {
		if edits > 0 {
			return
		}
		edits++
		sc, err := deploys.GetScale(ctx, "app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sc.Spec.Replicas = 2
		if _, err := deploys.UpdateScale(ctx, "app", sc, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("concurrent edit: %v", err)
		}
	}
	if err := s.Scale(ctx, 3); err != nil {
		t.Fatalf("scale with a concurrent edit: %v", err)
	}
	// The first write conflicts with the edit; a retry may conflict again with the
	// Deployment controller's own status updates, within the bound.
	if c := s.Conflicts(); c < 1 || c > s.conflictRetries || spec() != 3 {
		t.Errorf("after a concurrent edit: %d conflicts, %d replicas; want 1..%d conflicts retried and 3 replicas", c, spec(), s.conflictRetries)
	}
	time.Sleep(2 * time.Second)
	if got := spec(); got != 3 {
		t.Errorf("2 s after the retried write: %d replicas, want 3 (no flapping)", got)
	}
	t.Logf("concurrent edit: %d conflicts, retried on fresh reads, ended at 3 replicas", s.Conflicts())
	// The experiment Job (intelliscale experiment k8s-job) as it is printed: accepted by
	// the API server with strict server-side field validation, and the Job controller
	// creates one pod per completion index.
	jobYAML, err := exec.Command(ctlBin, "experiment", "k8s-job", "--image", "intelliscale:local", "--shards", "3", "--name", "e2e-experiment").Output()
	if err != nil {
		t.Fatalf("experiment k8s-job: %v", err)
	}
	jobJSON, err := utilyaml.ToJSON(jobYAML)
	if err != nil {
		t.Fatalf("experiment k8s-job output: %v", err)
	}
	res := admin.BatchV1().RESTClient().Post().Namespace(e2eNamespace).Resource("jobs").
		Param("fieldValidation", "Strict").SetHeader("Content-Type", "application/json").Body(jobJSON).Do(ctx)
	if err := res.Error(); err != nil {
		t.Fatalf("the API server refused the k8s-job manifest: %v", err)
	}
	var indexes []string
	waitFor(t, "the Job controller's indexed pods", time.Minute, func() bool {
		pods, err := admin.CoreV1().Pods(e2eNamespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=e2e-experiment"})
		if err != nil {
			return false
		}
		indexes = indexes[:0]
		for _, p := range pods.Items {
			indexes = append(indexes, p.Annotations["batch.kubernetes.io/job-completion-index"])
		}
		slices.Sort(indexes)
		return slices.Equal(indexes, []string{"0", "1", "2"})
	})
	t.Logf("k8s-job manifest accepted (strict field validation); pods for completion indexes %v", indexes)

	if d, err := deploys.Get(ctx, "app", metav1.GetOptions{}); err == nil {
		mgr := map[string]bool{}
		for _, f := range d.ManagedFields {
			mgr[f.Manager] = true
		}
		if !mgr["intelliscale-controller"] {
			t.Errorf("deployment/app's field managers %v: want intelliscale-controller among them", mgr)
		}
	}
}

// create makes obj in the cluster (in e2eNamespace where it is namespaced).
func create(ctx context.Context, c kubernetes.Interface, obj any) error {
	opts := metav1.CreateOptions{}
	var err error
	switch o := obj.(type) {
	case *corev1.Namespace:
		_, err = c.CoreV1().Namespaces().Create(ctx, o, opts)
	case *appsv1.Deployment:
		_, err = c.AppsV1().Deployments(e2eNamespace).Create(ctx, o, opts)
	case *corev1.Service:
		_, err = c.CoreV1().Services(e2eNamespace).Create(ctx, o, opts)
	case *corev1.ServiceAccount:
		_, err = c.CoreV1().ServiceAccounts(e2eNamespace).Create(ctx, o, opts)
	case *rbacv1.Role:
		_, err = c.RbacV1().Roles(e2eNamespace).Create(ctx, o, opts)
	case *rbacv1.RoleBinding:
		_, err = c.RbacV1().RoleBindings(e2eNamespace).Create(ctx, o, opts)
	default:
		return fmt.Errorf("%T: not applied by this test", obj)
	}
	return err
}

// e2eDeployment is a one-replica Deployment of one container, with labels.
func e2eDeployment(name string, labels map[string]string) *appsv1.Deployment {
	sel := map[string]string{"app.kubernetes.io/name": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "intelliscale:local"}}},
			},
		},
	}
}

func mustSpec(t *testing.T, ctx context.Context, c kubernetes.Interface, name string) int {
	t.Helper()
	d, err := c.AppsV1().Deployments(e2eNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment/%s: %v", name, err)
	}
	return specReplicas(d.Spec.Replicas)
}

func podPhases(pods *corev1.PodList) []string {
	if pods == nil {
		return nil
	}
	var out []string
	for _, p := range pods.Items {
		out = append(out, p.Name+"="+string(p.Status.Phase))
	}
	return out
}

// writeServiceAccountConfig writes a kubeconfig for the controller's ServiceAccount: the
// admin kubeconfig's server and CA, and a token from the TokenRequest API.
func writeServiceAccountConfig(t *testing.T, ctx context.Context, admin kubernetes.Interface, adminConfig, path string) {
	t.Helper()
	ac, err := clientcmd.LoadFromFile(adminConfig)
	if err != nil {
		t.Fatal(err)
	}
	cl := ac.Clusters[ac.Contexts[ac.CurrentContext].Cluster]
	tok, err := admin.CoreV1().ServiceAccounts(e2eNamespace).CreateToken(ctx, "intelliscale-controller",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for the controller's ServiceAccount: %v", err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: cl.Server, CertificateAuthority: cl.CertificateAuthority,
		CertificateAuthorityData: cl.CertificateAuthorityData, InsecureSkipTLSVerify: cl.InsecureSkipTLSVerify}
	cfg.AuthInfos["controller"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts["controller"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "controller", Namespace: e2eNamespace}
	cfg.CurrentContext = "controller"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// podModel stands in for the app's pods, which run no code under kwok: e2eSlots
// workers per Ready replica, each request taking e2eServiceMean, fed a request rate;
// what does not fit is refused with 503. It exposes the app's metrics (the names the
// rule policies query) as totals over the pods.
type podModel struct {
	mu                        sync.Mutex
	rate                      float64 // offered requests per second
	ready                     int
	ok, refused, busy, durSum float64
	buckets                   []float64 // cumulative counts per bucket of modelBounds
}

var modelBounds = []string{"0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"}

func newPodModel(rate float64) *podModel {
	return &podModel{rate: rate, buckets: make([]float64, len(modelBounds))}
}

func (p *podModel) setRate(r float64) {
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
}

// run advances the model every 100 ms with the Ready replicas readyFn reports.
func (p *podModel) run(ctx context.Context, readyFn func() int) {
	last := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	n := 0
	r := readyFn()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if n++; n%5 == 0 {
				r = readyFn()
			}
			dt := now.Sub(last).Seconds()
			last = now
			p.mu.Lock()
			p.ready = r
			capacity := float64(r*e2eSlots) / e2eServiceMean.Seconds()
			served := min(p.rate, capacity) * dt
			p.ok += served
			p.refused += p.rate*dt - served
			p.busy += served * e2eServiceMean.Seconds()
			lat := 1.5 * e2eServiceMean.Seconds() // in the (0.1, 0.25] bucket
			p.durSum += served * lat
			for i := 2; i < len(p.buckets); i++ {
				p.buckets[i] += served
			}
			p.mu.Unlock()
		}
	}
}

// ServeHTTP writes the app's metrics in the Prometheus text format.
func (p *podModel) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b bytes.Buffer
	b.WriteString("# TYPE http_requests_total counter\n")
	fmt.Fprintf(&b, "http_requests_total{code=\"200\"} %g\nhttp_requests_total{code=\"503\"} %g\n", p.ok, p.refused)
	b.WriteString("# TYPE http_request_duration_seconds histogram\n")
	for i, le := range modelBounds {
		fmt.Fprintf(&b, "http_request_duration_seconds_bucket{le=%q} %g\n", le, p.buckets[i])
	}
	fmt.Fprintf(&b, "http_request_duration_seconds_sum %g\nhttp_request_duration_seconds_count %g\n", p.durSum, p.buckets[len(p.buckets)-1])
	inFlight := min(p.rate*e2eServiceMean.Seconds(), float64(p.ready*e2eSlots))
	fmt.Fprintf(&b, "# TYPE app_worker_busy_seconds_total counter\napp_worker_busy_seconds_total %g\n", p.busy)
	fmt.Fprintf(&b, "# TYPE app_worker_slots gauge\napp_worker_slots %d\n", p.ready*e2eSlots)
	fmt.Fprintf(&b, "# TYPE http_requests_in_flight gauge\nhttp_requests_in_flight %g\n", inFlight)
	fmt.Fprintf(&b, "# TYPE http_requests_queued gauge\nhttp_requests_queued 0\n")
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.Write(b.Bytes())
}

// promServer is a Prometheus process.
type promServer struct {
	*process
	url, listen string
}

// startPrometheus runs Prometheus scraping target every second, with its data in dir
// (kept across a restart), on listen (a fresh address when empty).
func startPrometheus(t *testing.T, bin, dir, target string, listen ...string) *promServer {
	t.Helper()
	addr := ""
	if len(listen) > 0 {
		addr = listen[0]
	} else {
		addr = freeAddr(t)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &promServer{url: "http://" + addr, listen: addr}
	p.process = startProcess(t, "prometheus", bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+addr, "--log.level=warn")
	waitFor(t, "Prometheus ready", time.Minute, func() bool {
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

func (p *promServer) stop(t *testing.T) { p.kill(t, syscall.SIGTERM) }

// process is a child process whose output is kept.
type process struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// lines returns the output's lines that start with prefix.
func (p *process) lines(prefix string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(p.output()))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			out = append(out, sc.Text())
		}
	}
	return out
}

func startProcess(t *testing.T, name, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			out := p.output()
			if len(out) > 4000 {
				out = "..." + out[len(out)-4000:]
			}
			t.Logf("%s output:\n%s", name, out)
		}
	})
	return p
}

// kill sends sig and waits (up to 30 s) for the process to end.
func (p *process) kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 30 s of %v", p.name, sig)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if cond() {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v", what, limit)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func scrapeText(url string) string {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b)
}

// scrapeMetrics reads a /metrics page into name{labels} -> value.
func scrapeMetrics(base string) map[string]float64 {
	return promtest.Samples(strings.NewReader(scrapeText(base + "/metrics")))
}
