package workload

import (
	"context"
	"testing"
)

// BenchmarkBalancerAcquire measures picking the least-outstanding of 5 replicas.
func BenchmarkBalancerAcquire(b *testing.B) {
	r := &fakeResolver{ips: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}}
	lb, _ := NewBalancer(BalancerConfig{}, r, nil)
	lb.Refresh(context.Background())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		lb.release(lb.acquire(nil))
	}
}
