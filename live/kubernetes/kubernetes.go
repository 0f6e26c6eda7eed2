// Package kubernetes is the controller's backend for Kubernetes: it scales one
// Deployment or StatefulSet through its scale subresource with client-go.
//
// It touches nothing but its target: it reads the workload (its ready replicas come
// from the workload's status, so a restarted controller carries on from the cluster's
// state) and writes its scale subresource, and at start it lists the namespace's
// HorizontalPodAutoscalers to refuse a workload that one already scales. A target
// without the opt-in label ManagedLabel=true is refused, at start and at every scale.
// A conflict (someone else changed the workload between our read and our write) is
// retried on a fresh read. Opening the backend is bounded as each later call is: an
// API server that accepts the connection and never answers is refused at start.
package kubernetes

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/intelliscale/intelliscale/live"
)

// ManagedLabel is the opt-in label: the controller scales only a workload labelled
// ManagedLabel=true.
const ManagedLabel = "intelliscale.io/managed"

// Kinds of workload the scaler accepts.
const (
	Deployment  = "deployment"
	StatefulSet = "statefulset"
)

// Scaler scales one Deployment or StatefulSet through its scale subresource.
type Scaler struct {
	client    kubernetes.Interface
	namespace string
	kind      string
	name      string
	log       io.Writer
	// conflictRetries bounds the retries of a write that conflicts.
	conflictRetries int
	conflicts       int
	// beforeWrite, when set, runs between the read and the write of a scale (tests
	// use it to edit the workload concurrently).
	beforeWrite func()
}

// ParseWorkload parses "deployment/NAME" or "statefulset/NAME" (also "deploy/",
// "sts/", and the plural and apps/v1 forms kubectl accepts).
func ParseWorkload(s string) (kind, name string, err error) {
	k, n, ok := strings.Cut(s, "/")
	if !ok || n == "" || strings.Contains(n, "/") {
		return "", "", fmt.Errorf("workload %q: want deployment/NAME or statefulset/NAME", s)
	}
	switch strings.ToLower(strings.TrimSuffix(k, ".apps")) {
	case "deployment", "deployments", "deploy":
		return Deployment, n, nil
	case "statefulset", "statefulsets", "sts":
		return StatefulSet, n, nil
	}
	return "", "", fmt.Errorf("workload %q: kind %q: want deployment or statefulset", s, k)
}

// NewScaler checks the target and returns a scaler for it: the workload must exist,
// carry ManagedLabel=true, and no HorizontalPodAutoscaler of its namespace may target
// it.
func NewScaler(ctx context.Context, client kubernetes.Interface, namespace, kind, name string, logw io.Writer) (*Scaler, error) {
	if namespace == "" || name == "" {
		return nil, fmt.Errorf("kubernetes scaler: namespace %q and name %q must both be set", namespace, name)
	}
	if kind != Deployment && kind != StatefulSet {
		return nil, fmt.Errorf("kubernetes scaler: kind %q: want %s or %s", kind, Deployment, StatefulSet)
	}
	if logw == nil {
		logw = io.Discard
	}
	s := &Scaler{client: client, namespace: namespace, kind: kind, name: name, log: logw, conflictRetries: 5}
	if _, err := s.read(ctx); err != nil {
		return nil, err
	}
	if err := s.checkNoHPA(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Target implements live.Scaler.
func (s *Scaler) Target() string { return s.kind + " " + s.namespace + "/" + s.name }

// Close implements live.Scaler: nothing runs in the background.
func (s *Scaler) Close() error { return nil }

// Conflicts is the number of writes that conflicted and were retried.
func (s *Scaler) Conflicts() int { return s.conflicts }

// workload is what the scaler reads of its target.
type workload struct {
	labels          map[string]string
	resourceVersion string
	spec            int // desired replicas
	status          int // pods that exist (not terminating)
	ready           int
}

// read gets the workload and checks its label.
func (s *Scaler) read(ctx context.Context) (workload, error) {
	var w workload
	switch s.kind {
	case Deployment:
		d, err := s.client.AppsV1().Deployments(s.namespace).Get(ctx, s.name, metav1.GetOptions{})
		if err != nil {
			return w, fmt.Errorf("get %s: %w", s.Target(), err)
		}
		w = workload{labels: d.Labels, resourceVersion: d.ResourceVersion, spec: specReplicas(d.Spec.Replicas),
			status: int(d.Status.Replicas), ready: int(d.Status.ReadyReplicas)}
	case StatefulSet:
		st, err := s.client.AppsV1().StatefulSets(s.namespace).Get(ctx, s.name, metav1.GetOptions{})
		if err != nil {
			return w, fmt.Errorf("get %s: %w", s.Target(), err)
		}
		w = workload{labels: st.Labels, resourceVersion: st.ResourceVersion, spec: specReplicas(st.Spec.Replicas),
			status: int(st.Status.Replicas), ready: int(st.Status.ReadyReplicas)}
	}
	if w.labels[ManagedLabel] != "true" {
		return w, fmt.Errorf("%s lacks the label %s=true: refusing to scale a workload that has not opted in", s.Target(), ManagedLabel)
	}
	return w, nil
}

// specReplicas is the API's default of 1 for an unset count.
func specReplicas(r *int32) int {
	if r == nil {
		return 1
	}
	return int(*r)
}

var errHPA = errors.New("a HorizontalPodAutoscaler already scales it")

// checkNoHPA refuses a target that a HorizontalPodAutoscaler of the namespace scales:
// two controllers would fight over its replica count.
func (s *Scaler) checkNoHPA(ctx context.Context) error {
	hpas, err := s.client.AutoscalingV1().HorizontalPodAutoscalers(s.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list the HorizontalPodAutoscalers of namespace %s (to refuse a workload one scales): %w", s.namespace, err)
	}
	for _, h := range hpas.Items {
		ref := h.Spec.ScaleTargetRef
		if ref.Name == s.name && strings.EqualFold(ref.Kind, s.kind) && (ref.APIVersion == "" || strings.HasPrefix(ref.APIVersion, "apps/")) {
			return fmt.Errorf("%s: %w (%s/%s): delete it or choose another workload", s.Target(), errHPA, h.Namespace, h.Name)
		}
	}
	return nil
}

// Replicas implements live.Scaler. Ready replicas are the workload's ready ones (at
// most the desired count); the rest of the desired count is provisioning; pods beyond
// the desired count are draining.
func (s *Scaler) Replicas(ctx context.Context) (live.Replicas, error) {
	w, err := s.read(ctx)
	if err != nil {
		return live.Replicas{}, err
	}
	ready := min(w.ready, w.spec)
	return live.Replicas{Ready: ready, Provisioning: w.spec - ready, Draining: max(w.status-w.spec, 0)}, nil
}

// Scale implements live.Scaler: it writes n to the scale subresource, with the
// resource version of a read that checked the label. A conflict is retried on a fresh
// read, up to a bound.
func (s *Scaler) Scale(ctx context.Context, n int) error {
	if n < 0 {
		return fmt.Errorf("scale %s to %d: must be >= 0", s.Target(), n)
	}
	for attempt := 0; ; attempt++ {
		w, err := s.read(ctx)
		if err != nil {
			return err
		}
		if w.spec == n {
			return nil
		}
		if s.beforeWrite != nil {
			s.beforeWrite()
		}
		sc := &autoscalingv1.Scale{
			ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace, ResourceVersion: w.resourceVersion},
			Spec:       autoscalingv1.ScaleSpec{Replicas: int32(n)},
		}
		switch s.kind {
		case Deployment:
			_, err = s.client.AppsV1().Deployments(s.namespace).UpdateScale(ctx, s.name, sc, metav1.UpdateOptions{})
		case StatefulSet:
			_, err = s.client.AppsV1().StatefulSets(s.namespace).UpdateScale(ctx, s.name, sc, metav1.UpdateOptions{})
		}
		switch {
		case err == nil:
			fmt.Fprintf(s.log, "scaled %s from %d to %d\n", s.Target(), w.spec, n)
			return nil
		case apierrors.IsConflict(err) && attempt < s.conflictRetries:
			s.conflicts++
			fmt.Fprintf(s.log, "scale %s to %d: conflict (changed since it was read at %d replicas); retrying on a fresh read\n", s.Target(), n, w.spec)
		default:
			return fmt.Errorf("scale %s to %d: %w", s.Target(), n, err)
		}
	}
}

// Backend is the kubernetes backend of the controller's --backend flag.
func Backend() live.Backend {
	return live.Backend{
		Name:    "kubernetes",
		Summary: "a Deployment or StatefulSet, through its scale subresource",
		Check: func(fs *flag.FlagSet) error {
			target := fs.Lookup("workload").Value.String()
			if target == "" {
				return errors.New("--workload is required with --backend kubernetes: deployment/NAME or statefulset/NAME")
			}
			if _, _, err := ParseWorkload(target); err != nil {
				return fmt.Errorf("--workload: %w", err)
			}
			return nil
		},
		Flags: func(fs *flag.FlagSet) live.OpenFunc {
			kubeconfig := fs.String("kubeconfig", "", "kubernetes: kubeconfig file (default: $KUBECONFIG, then ~/.kube/config; in a pod, its service account)")
			namespace := fs.String("namespace", "", "kubernetes: namespace of the workload (default: the kubeconfig context's, or the pod's)")
			target := fs.String("workload", "", "kubernetes: deployment/NAME or statefulset/NAME to scale (required; it must carry "+ManagedLabel+"=true)")
			return func(ctx context.Context, logw io.Writer, timeout time.Duration) (live.Scaler, error) {
				if *target == "" {
					return nil, errors.New("--workload is required with --backend kubernetes: deployment/NAME or statefulset/NAME")
				}
				kind, name, err := ParseWorkload(*target)
				if err != nil {
					return nil, fmt.Errorf("--workload: %w", err)
				}
				cfg, ns, err := clientConfig(*kubeconfig, *namespace)
				if err != nil {
					return nil, err
				}
				client, err := newClientForConfig(cfg)
				if err != nil {
					return nil, err
				}
				s, err := NewScaler(ctx, client, ns, kind, name, logw)
				if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
					// An API server that accepts the connection and never answers
					// would otherwise hold the start for ever.
					return nil, fmt.Errorf("kubernetes API server %s: no answer within %v (the controller's bound on each call to its backend): %w",
						cfg.Host, timeout, err)
				}
				return s, err
			}
		},
	}
}

// NewClient connects to the cluster a kubeconfig names: the file at path, else those
// KUBECONFIG lists, else ~/.kube/config; with none of them, inside a pod, the pod's
// service account (in-cluster config). namespace, when empty, is the kubeconfig
// context's namespace (the pod's in a cluster), else "default".
func NewClient(path, namespace string) (kubernetes.Interface, string, error) {
	cfg, namespace, err := clientConfig(path, namespace)
	if err != nil {
		return nil, "", err
	}
	c, err := newClientForConfig(cfg)
	if err != nil {
		return nil, "", err
	}
	return c, namespace, nil
}

// clientConfig loads the REST config and the namespace NewClient connects with.
func clientConfig(path, namespace string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("--kubeconfig: %w", err)
		}
		rules.ExplicitPath = path
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes client config: %w", err)
	}
	if namespace == "" {
		if namespace, _, err = cc.Namespace(); err != nil {
			return nil, "", fmt.Errorf("kubernetes namespace: %w", err)
		}
	}
	cfg.UserAgent = "intelliscale-controller"
	return cfg, namespace, nil
}

// newClientForConfig builds the clientset; it sends nothing.
func newClientForConfig(cfg *rest.Config) (kubernetes.Interface, error) {
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return c, nil
}
