package live

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestGrafanaProvisioning checks what Grafana would load, since Grafana cannot run here:
// the datasource points at the stack's Prometheus, and every dashboard panel's PromQL
// parses and reads only metrics the stack exports.
func TestGrafanaProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type, Access, URL string
			IsDefault                    bool           `yaml:"isDefault"`
			JSONData                     map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	b, err := os.ReadFile("../deploy/grafana/provisioning/datasources/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&ds); err != nil {
		t.Fatalf("datasource: %v", err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Fatalf("datasource %+v: want one prometheus at http://prometheus:9090", ds.Datasources)
	}
	uid := ds.Datasources[0].UID

	files, _ := filepath.Glob("../deploy/grafana/dashboards/*.json")
	if len(files) == 0 {
		t.Fatal("no dashboards")
	}
	var seen []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID    string `json:"uid"`
			Title  string `json:"title"`
			Panels []struct {
				Title      string               `json:"title"`
				Datasource struct{ UID string } `json:"datasource"`
				Targets    []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.UID == "" || len(d.Panels) == 0 {
			t.Errorf("%s: no uid or no panels", f)
		}
		for _, p := range d.Panels {
			if p.Datasource.UID != uid {
				t.Errorf("%s panel %q: datasource %q, want %q", f, p.Title, p.Datasource.UID, uid)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s panel %q: no queries", f, p.Title)
			}
			for _, tg := range p.Targets {
				// Grafana substitutes its range variables before Prometheus sees them.
				expr := strings.ReplaceAll(tg.Expr, "$__rate_interval", "1m")
				names, err := metricsIn(expr)
				if err != nil {
					t.Errorf("%s panel %q: %q: %v", f, p.Title, tg.Expr, err)
					continue
				}
				for _, n := range names {
					if !slices.Contains(serviceMetrics, n) {
						t.Errorf("%s panel %q: unknown metric %s", f, p.Title, n)
					}
					seen = append(seen, n)
				}
			}
		}
	}
	// The dashboard shows the features: every metric the observation queries read.
	for _, q := range observationQueries(15e9, 5e8) {
		names, _ := metricsIn(q)
		for _, n := range names {
			if !slices.Contains(seen, n) {
				t.Errorf("no panel reads %s (used by the policies' features)", n)
			}
		}
	}
}
