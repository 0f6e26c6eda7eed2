package docker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/intelliscale/intelliscale/live"
)

// fakeDocker is an in-memory engine with just the calls the scaler makes.
type fakeDocker struct {
	mu         sync.Mutex
	containers map[string]*container.InspectResponse
	seq        int
	stopped    []string
	created    []client.ContainerCreateOptions
	listLeaks  bool  // the list ignores the filter, as a buggy engine might
	stopErr    error // returned by ContainerStop
	startErr   error // returned by ContainerStart
}

func newFakeDocker() *fakeDocker {
	return &fakeDocker{containers: map[string]*container.InspectResponse{}}
}

func (f *fakeDocker) add(name string, labels map[string]string, status container.ContainerState, health container.HealthStatus) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("%064x", f.seq)
	st := &container.State{Status: status}
	if health != "" {
		st.Health = &container.Health{Status: health}
	}
	f.containers[id] = &container.InspectResponse{
		ID: id, Name: "/" + name, State: st,
		Config:     &container.Config{Image: "intelliscale:local", Hostname: id[:12], Labels: labels, Cmd: []string{"live", "app"}},
		HostConfig: &container.HostConfig{NetworkMode: "p_default"},
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{
			"p_default": {Aliases: []string{"app", id[:12]}},
		}},
	}
	return id
}

func (f *fakeDocker) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []container.Summary
	for id, c := range f.containers {
		match := true
		for term := range o.Filters["label"] {
			k, v, _ := strings.Cut(term, "=")
			if c.Config.Labels[k] != v {
				match = false
			}
		}
		if match || f.listLeaks {
			out = append(out, container.Summary{ID: id, Labels: c.Config.Labels})
		}
	}
	return client.ContainerListResult{Items: out}, nil
}

func (f *fakeDocker) ContainerInspect(_ context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[id]
	if !ok {
		return client.ContainerInspectResult{}, fmt.Errorf("No such container: %s", id)
	}
	return client.ContainerInspectResult{Container: *c}, nil
}

func (f *fakeDocker) ContainerCreate(_ context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	f.mu.Lock()
	f.created = append(f.created, o)
	f.mu.Unlock()
	id := f.add(o.Name, o.Config.Labels, container.StateCreated, "")
	return client.ContainerCreateResult{ID: id}, nil
}

func (f *fakeDocker) ContainerStart(_ context.Context, id string, _ client.ContainerStartOptions) (client.ContainerStartResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return client.ContainerStartResult{}, f.startErr
	}
	f.containers[id].State = &container.State{Status: container.StateRunning, Health: &container.Health{Status: container.Starting}}
	return client.ContainerStartResult{}, nil
}

func (f *fakeDocker) ContainerStop(_ context.Context, id string, _ client.ContainerStopOptions) (client.ContainerStopResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopErr != nil {
		return client.ContainerStopResult{}, f.stopErr
	}
	f.stopped = append(f.stopped, strings.TrimPrefix(f.containers[id].Name, "/"))
	f.containers[id].State.Status = container.StateExited
	return client.ContainerStopResult{}, nil
}

func (f *fakeDocker) ContainerRemove(_ context.Context, id string, _ client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.containers, id)
	return client.ContainerRemoveResult{}, nil
}

func (f *fakeDocker) NetworkConnect(context.Context, string, client.NetworkConnectOptions) (client.NetworkConnectResult, error) {
	return client.NetworkConnectResult{}, nil
}

func composeLabels(project, service, num string) map[string]string {
	return map[string]string{labelProject: project, labelService: service, labelNumber: num}
}

func TestDockerScalerCountsStatesAndScalesUp(t *testing.T) {
	f := newFakeDocker()
	f.add("p_app_1", composeLabels("p", "app", "1"), container.StateRunning, container.Healthy)
	f.add("p_app_2", composeLabels("p", "app", "2"), container.StateRunning, container.Starting)
	f.add("p_app_3", composeLabels("p", "app", "3"), container.StateExited, "")
	f.add("other_app_1", composeLabels("other", "app", "1"), container.StateRunning, "")
	f.add("p_lb_1", composeLabels("p", "lb", "1"), container.StateRunning, "")
	s, err := NewScaler(f, "p", "app", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := s.Replicas(ctx)
	if err != nil || r != (live.Replicas{Ready: 1, Provisioning: 1}) {
		t.Fatalf("replicas %+v err %v: want 1 ready, 1 provisioning (exited and other services ignored)", r, err)
	}
	if err := s.Scale(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 2 {
		t.Fatalf("created %d, want 2", len(f.created))
	}
	c := f.created[0]
	if c.Name != "p_app_4" || c.Config.Labels[labelNumber] != "4" || c.Config.Labels[labelProject] != "p" || c.Config.Hostname != "" {
		t.Errorf("new replica: name %s labels %v hostname %q", c.Name, c.Config.Labels, c.Config.Hostname)
	}
	if got := c.NetworkingConfig.EndpointsConfig["p_default"].Aliases; !slices.Equal(got, []string{"app"}) {
		t.Errorf("aliases %v, want [app] (the template's own id dropped)", got)
	}
	if r, _ := s.Replicas(ctx); r.Current() != 4 {
		t.Errorf("after scale to 4: %+v", r)
	}
}

func TestDockerScalerDrainsProvisioningThenNewest(t *testing.T) {
	f := newFakeDocker()
	f.add("p_app_1", composeLabels("p", "app", "1"), container.StateRunning, container.Healthy)
	f.add("p_app_2", composeLabels("p", "app", "2"), container.StateRunning, container.Healthy)
	f.add("p_app_3", composeLabels("p", "app", "3"), container.StateRunning, container.Healthy)
	f.add("p_app_4", composeLabels("p", "app", "4"), container.StateRunning, container.Starting)
	s, _ := NewScaler(f, "p", "app", time.Second, nil)
	ctx := context.Background()
	if err := s.Scale(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(ctx); err != nil {
		t.Fatal(err)
	}
	slices.Sort(f.stopped)
	if fmt.Sprint(f.stopped) != "[p_app_3 p_app_4]" {
		t.Errorf("stopped %v, want the provisioning p_app_4 and the newest ready p_app_3", f.stopped)
	}
	if r, _ := s.Replicas(ctx); r != (live.Replicas{Ready: 2}) {
		t.Errorf("after drain: %+v", r)
	}
}

func TestDockerScalerRefusesForeignContainers(t *testing.T) {
	f := newFakeDocker()
	f.listLeaks = true // the engine's filter fails: the scaler must check labels itself
	f.add("p_app_1", composeLabels("p", "app", "1"), container.StateRunning, "")
	f.add("x_app_1", composeLabels("x", "app", "1"), container.StateRunning, "")
	f.add("p_db_1", composeLabels("p", "db", "1"), container.StateRunning, "")
	s, _ := NewScaler(f, "p", "app", time.Second, nil)
	ctx := context.Background()
	if r, _ := s.Replicas(ctx); r != (live.Replicas{Ready: 1}) {
		t.Errorf("replicas %+v: foreign containers counted", r)
	}
	if err := s.Scale(ctx, 0); err != nil {
		t.Fatal(err)
	}
	s.wait(ctx)
	if fmt.Sprint(f.stopped) != "[p_app_1]" {
		t.Errorf("stopped %v: only p_app_1 may be touched", f.stopped)
	}
	// A replica whose labels do not name the service is refused outright.
	bad := replica{id: "z", name: "x_app_1", info: container.InspectResponse{Config: &container.Config{Labels: composeLabels("x", "app", "1")}}}
	if err := s.drain(bad); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("drain of a foreign container: %v", err)
	}
	if _, err := NewScaler(f, "", "app", time.Second, nil); err == nil {
		t.Error("empty project accepted")
	}
	// With nothing running there is no template to copy.
	if err := s.Scale(ctx, 1); err == nil || !strings.Contains(err.Error(), "no running replica") {
		t.Errorf("scale up with no template: %v", err)
	}
}

// A drain that fails in the background is reported once through Failures (the
// controller counts it as a scaler error), and Close waits for drains.
func TestDockerScalerReportsBackgroundFailures(t *testing.T) {
	f := newFakeDocker()
	f.add("p_app_1", composeLabels("p", "app", "1"), container.StateRunning, container.Healthy)
	f.add("p_app_2", composeLabels("p", "app", "2"), container.StateRunning, container.Healthy)
	f.stopErr = errors.New("engine busy")
	s, _ := NewScaler(f, "p", "app", time.Second, nil)
	if err := s.Scale(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	fs := s.Failures()
	if len(fs) != 1 || !strings.Contains(fs[0].Error(), "stop p_app_2: engine busy") {
		t.Errorf("failures %v, want the failed stop of p_app_2", fs)
	}
	if again := s.Failures(); len(again) != 0 {
		t.Errorf("failures reported twice: %v", again)
	}
	var _ live.BackgroundFailures = s
	if s.Target() != "compose p/app" {
		t.Errorf("target %q", s.Target())
	}
}
