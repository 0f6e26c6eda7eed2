package docker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/intelliscale/intelliscale/live"
)

// A --project or --service that names no container is refused when the scaler is
// opened: it used to run with zero replicas, proposing to scale up a service that
// has no replica to copy. A stopped container of the service is enough: it exists.
func TestOpenScalerRefusesAServiceWithNoContainer(t *testing.T) {
	f := newFakeDocker()
	f.add("p_app_1", composeLabels("p", "app", "1"), container.StateRunning, container.Healthy)
	f.add("q_web_1", composeLabels("q", "web", "1"), container.StateExited, "")
	ctx := context.Background()
	for _, tc := range []struct{ project, service string }{{"nosuch", "app"}, {"p", "web"}, {"q", "app"}} {
		_, err := openScaler(ctx, f, tc.project, tc.service, time.Second, nil)
		if err == nil || !strings.Contains(err.Error(), "--project "+tc.project+" --service "+tc.service) || !strings.Contains(err.Error(), "no container") {
			t.Errorf("project %s service %s: %v; want a refusal naming --project and --service", tc.project, tc.service, err)
		}
	}
	for _, tc := range []struct{ project, service string }{{"p", "app"}, {"q", "web"}} {
		if _, err := openScaler(ctx, f, tc.project, tc.service, time.Second, nil); err != nil {
			t.Errorf("project %s service %s: %v", tc.project, tc.service, err)
		}
	}
}

// A replica that was created but failed to start is removed: left in the created
// state it counted as provisioning for ever, so the retry saw the count reached,
// reported the scale applied and started nothing.
func TestFailedStartRemovesTheCreatedReplica(t *testing.T) {
	f := newFakeDocker()
	f.add("p_app_1", composeLabels("p", "app", "1"), container.StateRunning, container.Healthy)
	f.startErr = errors.New("network-scoped alias is supported only for containers in user defined networks")
	s, err := NewScaler(f, "p", "app", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Scale(ctx, 2); err == nil || !strings.Contains(err.Error(), "start p_app_2") {
		t.Fatalf("scale with a failing start: %v, want the start error", err)
	}
	// The retry the controller makes must fail again, not find the count reached.
	if err := s.Scale(ctx, 2); err == nil {
		t.Error("second attempt succeeded without starting anything")
	}
	if r, err := s.Replicas(ctx); err != nil || r != (live.Replicas{Ready: 1}) {
		t.Errorf("replicas %+v err %v: want 1 ready and no replica left created", r, err)
	}
	if n := len(f.containers); n != 1 {
		t.Errorf("%d containers left, want 1 (the created ones removed)", n)
	}
	f.startErr = nil
	if err := s.Scale(ctx, 2); err != nil {
		t.Fatalf("once starts work: %v", err)
	}
	if r, _ := s.Replicas(ctx); r.Current() != 2 {
		t.Errorf("replicas %+v, want 2", r)
	}
}
