package kubernetes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/intelliscale/intelliscale/live"
)

func int32p(v int32) *int32 { return &v }

func deployment(name string, labels map[string]string, spec, status, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: labels, ResourceVersion: "1"},
		Spec:       appsv1.DeploymentSpec{Replicas: int32p(spec)},
		Status:     appsv1.DeploymentStatus{Replicas: status, ReadyReplicas: ready},
	}
}

var managed = map[string]string{ManagedLabel: "true", "app": "web"}

// fakeCluster is a fake clientset whose scale subresource writes go to the tracked
// workload, with optimistic concurrency on its resource version, as the API server does.
type fakeCluster struct {
	*fake.Clientset
	writes []int32 // replica counts written through scale
}

func newFakeCluster(objs ...runtime.Object) *fakeCluster {
	f := &fakeCluster{Clientset: fake.NewClientset(objs...)}
	f.PrependReactor("update", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "scale" {
			return false, nil, nil
		}
		sc := u.GetObject().(*autoscalingv1.Scale)
		gvr := a.GetResource()
		obj, err := f.Tracker().Get(gvr, a.GetNamespace(), sc.Name)
		if err != nil {
			return true, nil, err
		}
		m := obj.(metav1.Object)
		if sc.ResourceVersion != "" && sc.ResourceVersion != m.GetResourceVersion() {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: gvr.Resource}, sc.Name,
				errors.New("the object has been modified; please apply your changes to the latest version and try again"))
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			o.Spec.Replicas = int32p(sc.Spec.Replicas)
		case *appsv1.StatefulSet:
			o.Spec.Replicas = int32p(sc.Spec.Replicas)
		}
		bump(m)
		f.writes = append(f.writes, sc.Spec.Replicas)
		return true, sc, f.Tracker().Update(gvr, obj, a.GetNamespace())
	})
	return f
}

func bump(m metav1.Object) {
	var v int
	fmt.Sscan(m.GetResourceVersion(), &v)
	m.SetResourceVersion(fmt.Sprint(v + 1))
}

var deploymentsGVR = appsv1.SchemeGroupVersion.WithResource("deployments")

// edit changes the tracked deployment's replicas as someone else would.
func (f *fakeCluster) edit(t *testing.T, name string, replicas int32) {
	obj, err := f.Tracker().Get(deploymentsGVR, "shop", name)
	if err != nil {
		t.Fatal(err)
	}
	d := obj.(*appsv1.Deployment)
	d.Spec.Replicas = int32p(replicas)
	bump(d)
	if err := f.Tracker().Update(deploymentsGVR, d, "shop"); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeCluster) spec(t *testing.T, name string) int32 {
	d, err := f.AppsV1().Deployments("shop").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return *d.Spec.Replicas
}

func TestParseWorkload(t *testing.T) {
	for in, want := range map[string]string{
		"deployment/web": "deployment web", "deploy/web": "deployment web", "deployments.apps/web": "deployment web",
		"statefulset/db": "statefulset db", "sts/db": "statefulset db",
	} {
		k, n, err := ParseWorkload(in)
		if err != nil || k+" "+n != want {
			t.Errorf("%q: %s %s %v, want %s", in, k, n, err, want)
		}
	}
	for _, bad := range []string{"web", "deployment/", "pod/web", "deployment/a/b", "/web"} {
		if _, _, err := ParseWorkload(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReplicasFromStatus(t *testing.T) {
	f := newFakeCluster(deployment("web", managed, 3, 4, 2))
	s, err := NewScaler(context.Background(), f, "shop", Deployment, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Replicas(context.Background())
	if err != nil || r != (live.Replicas{Ready: 2, Provisioning: 1, Draining: 1}) {
		t.Errorf("replicas %+v %v: want 2 ready, 1 provisioning (3 desired), 1 draining (4 pods)", r, err)
	}
	if s.Target() != "deployment shop/web" {
		t.Errorf("target %q", s.Target())
	}
}

func TestRefusesTargetWithoutOptInLabel(t *testing.T) {
	f := newFakeCluster(deployment("web", map[string]string{"app": "web"}, 2, 2, 2),
		deployment("half", map[string]string{ManagedLabel: "yes"}, 2, 2, 2))
	for _, name := range []string{"web", "half"} {
		_, err := NewScaler(context.Background(), f, "shop", Deployment, name, nil)
		if err == nil || !strings.Contains(err.Error(), ManagedLabel+"=true") {
			t.Errorf("%s: %v, want refused for lacking the label", name, err)
		}
	}
	// The label removed after start: the next scale is refused and writes nothing.
	f2 := newFakeCluster(deployment("web", managed, 2, 2, 2))
	s, err := NewScaler(context.Background(), f2, "shop", Deployment, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := f2.Tracker().Get(deploymentsGVR, "shop", "web")
	d := obj.(*appsv1.Deployment)
	d.Labels = map[string]string{"app": "web"}
	if err := f2.Tracker().Update(deploymentsGVR, d, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := s.Scale(context.Background(), 4); err == nil || len(f2.writes) != 0 {
		t.Errorf("scale after the label was removed: %v, writes %v", err, f2.writes)
	}
}

func TestRefusesWorkloadAnHPAScales(t *testing.T) {
	hpa := func(name, kind, target string) *autoscalingv1.HorizontalPodAutoscaler {
		return &autoscalingv1.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: kind, Name: target, APIVersion: "apps/v1"},
				MaxReplicas:    5,
			},
		}
	}
	f := newFakeCluster(deployment("web", managed, 2, 2, 2), deployment("api", managed, 2, 2, 2),
		hpa("web-hpa", "Deployment", "web"), hpa("db-hpa", "StatefulSet", "api"))
	_, err := NewScaler(context.Background(), f, "shop", Deployment, "web", nil)
	if !errors.Is(err, errHPA) || !strings.Contains(err.Error(), "shop/web-hpa") {
		t.Errorf("web: %v, want refused naming the HPA", err)
	}
	// An HPA on a StatefulSet of the same name does not target the Deployment.
	if _, err := NewScaler(context.Background(), f, "shop", Deployment, "api", nil); err != nil {
		t.Errorf("api: %v", err)
	}
}

// A concurrent edit between our read and our write conflicts; the scale is retried on
// a fresh read and written once, and it touches only the target's scale.
func TestConflictRetriedOnFreshRead(t *testing.T) {
	f := newFakeCluster(deployment("web", managed, 2, 2, 2), deployment("other", managed, 1, 1, 1))
	var logw bytes.Buffer
	s, err := NewScaler(context.Background(), f, "shop", Deployment, "web", &logw)
	if err != nil {
		t.Fatal(err)
	}
	edits := 0
	s.beforeWrite = func() {
		if edits == 0 {
			f.edit(t, "web", 3) // someone else scales to 3 while we decide on 4
		}
		edits++
	}
	f.ClearActions()
	if err := s.Scale(context.Background(), 4); err != nil {
		t.Fatal(err)
	}
	if s.Conflicts() != 1 || fmt.Sprint(f.writes) != "[4]" {
		t.Errorf("conflicts %d, writes %v: want one conflict and one write", s.Conflicts(), f.writes)
	}
	if !strings.Contains(logw.String(), "conflict") {
		t.Errorf("log lacks the conflict:\n%s", logw.String())
	}
	var verbs []string
	for _, a := range f.Actions() {
		v := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			v += "/" + sub
		}
		if n, ok := a.(interface{ GetName() string }); ok && n.GetName() != "web" {
			t.Errorf("action on another object: %s %s", v, n.GetName())
		}
		verbs = append(verbs, v)
	}
	if fmt.Sprint(verbs) != "[get deployments update deployments/scale get deployments update deployments/scale]" {
		t.Errorf("actions %v", verbs)
	}
	if got := f.spec(t, "web"); got != 4 {
		t.Errorf("replicas %d after the retried scale, want 4", got)
	}
	// Already at the target: nothing is written.
	if err := s.Scale(context.Background(), 4); err != nil || len(f.writes) != 1 {
		t.Errorf("scale to the current count: %v, writes %v", err, f.writes)
	}
	// Conflicts without end are bounded.
	s.beforeWrite = func() { f.edit(t, "web", 1) }
	if err := s.Scale(context.Background(), 5); err == nil || !apierrors.IsConflict(errors.Unwrap(err)) {
		t.Errorf("endless conflicts: %v, want the conflict after %d retries", err, s.conflictRetries)
	}
}

func TestStatefulSetScale(t *testing.T) {
	st := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop", Labels: managed, ResourceVersion: "7"},
		Spec:       appsv1.StatefulSetSpec{Replicas: int32p(1)},
		Status:     appsv1.StatefulSetStatus{Replicas: 1, ReadyReplicas: 1},
	}
	f := newFakeCluster(st)
	s, err := NewScaler(context.Background(), f, "shop", StatefulSet, "db", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Scale(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	r, err := s.Replicas(context.Background())
	if err != nil || r != (live.Replicas{Ready: 1, Provisioning: 2}) {
		t.Errorf("after scale to 3: %+v %v", r, err)
	}
}

// Forbidden (RBAC) answers fail the read; through the controller, that is a hold
// with the failure counted as a scaler error, and nothing is written.
func TestForbiddenHoldsTheController(t *testing.T) {
	f := newFakeCluster(deployment("web", managed, 2, 2, 2))
	s, err := NewScaler(context.Background(), f, "shop", Deployment, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.PrependReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web",
			errors.New(`User "system:serviceaccount:shop:intelliscale" cannot get resource "deployments"`))
	})
	if _, err := s.Replicas(context.Background()); !apierrors.IsForbidden(errors.Unwrap(err)) {
		t.Fatalf("replicas: %v, want forbidden", err)
	}
	ctl, err := live.NewController(live.ControllerConfig{Mode: live.Enforce, Max: 5, Retries: 1, Backoff: time.Millisecond, MaxBackoff: time.Millisecond},
		wantPolicy(4), constProm{}, s, live.WallClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := ctl.Step(context.Background())
	if d.Action != "hold" || len(f.writes) != 0 {
		t.Errorf("decision %s, writes %v: want hold and nothing written", d, f.writes)
	}
	if !strings.Contains(scrape(t, ctl), `intelliscale_errors_total{kind="scaler"} 2`) {
		t.Errorf("the forbidden reads (2 attempts) are not counted as scaler errors")
	}
}

// A scaler created after a restart reads the state from the cluster.
func TestRestartReadsClusterState(t *testing.T) {
	f := newFakeCluster(deployment("web", managed, 2, 2, 2))
	s, _ := NewScaler(context.Background(), f, "shop", Deployment, "web", nil)
	if err := s.Scale(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	s2, err := NewScaler(context.Background(), f, "shop", Deployment, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := s2.Replicas(context.Background()); r.Current() != 5 {
		t.Errorf("restarted scaler sees %+v, want 5 desired from the cluster", r)
	}
}
