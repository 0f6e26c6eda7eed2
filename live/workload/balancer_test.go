package workload

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

type fakeResolver struct {
	mu  sync.Mutex
	ips []string
	err error
}

func (r *fakeResolver) LookupHost(context.Context, string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ips...), r.err
}

func TestBalancerLeastOutstanding(t *testing.T) {
	r := &fakeResolver{ips: []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}}
	b, err := NewBalancer(BalancerConfig{Port: 80}, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Three acquisitions with none released spread over the three replicas.
	seen := map[string]int{}
	var held []*backend
	for i := 0; i < 6; i++ {
		be := b.acquire(nil)
		seen[be.addr]++
		held = append(held, be)
	}
	for _, a := range []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"} {
		if seen[a] != 2 {
			t.Errorf("%s got %d of 6 outstanding, want 2 each: %v", a, seen[a], seen)
		}
	}
	// Free two on one replica: it now has the fewest and gets the next two.
	var one *backend
	for _, be := range held {
		if be.addr == "10.0.0.2:80" {
			one = be
			b.release(be)
		}
	}
	if got := b.acquire(nil); got != one {
		t.Errorf("next went to %s, want the least loaded %s", got.addr, one.addr)
	}
	if got := b.acquire([]*backend{one}); got == one {
		t.Errorf("acquire ignored the tried list")
	}
}

func TestBalancerReResolves(t *testing.T) {
	r := &fakeResolver{ips: []string{"10.0.0.1"}}
	b, _ := NewBalancer(BalancerConfig{}, r, nil)
	ctx := context.Background()
	b.Refresh(ctx)
	kept := b.acquire(nil) // one outstanding on 10.0.0.1
	r.ips = []string{"10.0.0.1", "10.0.0.2", "10.0.0.2"}
	b.Refresh(ctx)
	if got := fmt.Sprint(b.Backends()); got != "[10.0.0.1:8080 10.0.0.2:8080]" {
		t.Errorf("backends %s after scale-up", got)
	}
	if got := b.acquire(nil); got.addr != "10.0.0.2:8080" {
		t.Errorf("new replica not preferred: %s (the old one keeps its outstanding count)", got.addr)
	}
	if kept.outstanding != 1 {
		t.Errorf("outstanding of a kept replica reset to %d", kept.outstanding)
	}
	r.err = fmt.Errorf("SERVFAIL")
	if err := b.Refresh(ctx); err == nil || len(b.Backends()) != 2 {
		t.Errorf("resolve error: err %v, backends %v: want an error and the previous set kept", err, b.Backends())
	}
	r.err, r.ips = nil, []string{"10.0.0.2"}
	b.Refresh(ctx)
	if got := fmt.Sprint(b.Backends()); got != "[10.0.0.2:8080]" {
		t.Errorf("backends %s after scale-down", got)
	}
}

func TestBalancerProxiesAndRetriesDeadReplica(t *testing.T) {
	var hits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	host, port, _ := net.SplitHostPort(u.Host)
	// A dead address on the same port sorts first; the balancer must fall through to
	// the live one.
	dead, _ := net.Listen("tcp", "127.0.0.2:"+port)
	if dead != nil {
		dead.Close()
	}
	var p int
	fmt.Sscan(port, &p)
	r := &fakeResolver{ips: []string{"127.0.0.2", host}}
	b, _ := NewBalancer(BalancerConfig{Port: p, Tries: 2}, r, nil)
	b.Refresh(context.Background())
	front := httptest.NewServer(b)
	defer front.Close()
	for i := 0; i < 4; i++ {
		resp, err := http.Get(front.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot {
			t.Errorf("request %d: %d, want the replica's 418", i, resp.StatusCode)
		}
	}
	if _, ok := hits.Load("/x"); !ok {
		t.Error("path not forwarded")
	}
	r.ips = nil
	b.Refresh(context.Background())
	resp, err := http.Get(front.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("no replicas: %d, want 503", resp.StatusCode)
	}
}

// TestBalancerRoutesOnlyToReady: with a ready path, a replica is sent requests only
// while it answers that path 200, and an unreachable one not at all.
func TestBalancerRoutesOnlyToReady(t *testing.T) {
	var ready sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ready" {
			if _, ok := ready.Load("yes"); !ok {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	host, port, _ := net.SplitHostPort(u.Host)
	var p int
	fmt.Sscan(port, &p)
	r := &fakeResolver{ips: []string{host, "127.0.0.2"}} // 127.0.0.2: nothing listens there
	b, err := NewBalancer(BalancerConfig{Port: p, ReadyPath: "/ready"}, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := b.Backends(); len(got) != 0 {
		t.Errorf("backends %v while the replica answers /ready 503: want none", got)
	}
	front := httptest.NewServer(b)
	defer front.Close()
	resp, err := http.Get(front.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("no ready replica: %d, want 503", resp.StatusCode)
	}
	ready.Store("yes", true)
	b.Refresh(ctx)
	if got, want := fmt.Sprint(b.Backends()), "["+net.JoinHostPort(host, port)+"]"; got != want {
		t.Errorf("backends %s once ready, want %s (the unreachable one left out)", got, want)
	}
	ready.Delete("yes")
	b.Refresh(ctx)
	if got := b.Backends(); len(got) != 0 {
		t.Errorf("backends %v after the replica stopped being ready: want none", got)
	}
	if _, err := NewBalancer(BalancerConfig{ReadyPath: "ready"}, r, nil); err == nil {
		t.Error("ready path without a leading /: accepted")
	}
}
