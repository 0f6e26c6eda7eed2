package kubernetes

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/live"
)

// wantPolicy always asks for the same count.
type wantPolicy int

func (p wantPolicy) Queries() []string { return []string{"load"} }
func (p wantPolicy) Decide(time.Time, []float64, live.Replicas) (int, error) {
	return int(p), nil
}

// constProm answers every query with a fresh 0.
type constProm struct{}

func (constProm) Query(context.Context, string, time.Time) (float64, error) { return 0, nil }
func (constProm) MetricNames(context.Context) ([]string, error)             { return nil, nil }

// scrape returns the controller's /metrics page.
func scrape(t *testing.T, c *live.Controller) string {
	t.Helper()
	w := httptest.NewRecorder()
	c.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}
