package kubernetes

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/intelliscale/intelliscale/internal/repo"
)

var update = flag.Bool("update", false, "regenerate deploy/k8s/grafana-config.yaml from deploy/grafana")

// manifest is one decoded object of deploy/k8s and the file it came from.
type manifest struct {
	file string
	obj  runtime.Object
}

// loadManifests decodes every document of the files kustomization.yaml lists, strictly
// (an unknown or duplicate field is an error).
func loadManifests(t *testing.T, dir string) []manifest {
	t.Helper()
	var kust struct {
		Namespace string   `yaml:"namespace"`
		Resources []string `yaml:"resources"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if kust.Namespace == "" {
		t.Error("kustomization.yaml sets no namespace: the Roles would land in whatever namespace kubectl uses")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var have []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			have = append(have, filepath.Base(f))
		}
	}
	slices.Sort(have)
	listed := slices.Sorted(slices.Values(kust.Resources))
	if !slices.Equal(have, listed) {
		t.Errorf("kustomization.yaml lists %v, the directory has %v", listed, have)
	}
	dec := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var out []manifest
	for _, f := range kust.Resources {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if err != nil {
				break
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := dec.Decode(doc, nil, nil)
			if err != nil {
				t.Errorf("%s document %d: %v", f, i+1, err)
				continue
			}
			if m, ok := obj.(metav1.Object); ok && m.GetNamespace() != "" {
				t.Errorf("%s: %s sets namespace %q: leave it to the kustomization", f, m.GetName(), m.GetNamespace())
			}
			out = append(out, manifest{file: f, obj: obj})
		}
	}
	return out
}

func find[T runtime.Object](ms []manifest, name string) (T, bool) {
	var zero T
	for _, m := range ms {
		if o, ok := m.obj.(T); ok && m.obj.(metav1.Object).GetName() == name {
			return o, true
		}
	}
	return zero, false
}

func all[T runtime.Object](ms []manifest) []T {
	var out []T
	for _, m := range ms {
		if o, ok := m.obj.(T); ok {
			out = append(out, o)
		}
	}
	return out
}

func labelSet(m map[string]string) labels.Set { return labels.Set(m) }

func arg(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func TestManifests(t *testing.T) {
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "deploy", "k8s")
	if *update {
		writeGrafanaConfig(t, root)
	}
	ms := loadManifests(t, dir)
	if len(ms) < 10 {
		t.Fatalf("only %d objects in deploy/k8s", len(ms))
	}
	for _, m := range ms {
		switch m.obj.(type) {
		case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
			t.Errorf("%s: cluster-wide RBAC: everything here is namespaced", m.file)
		}
	}

	// The controller's target: the Deployment it names, opted in with the label.
	ctl, ok := find[*appsv1.Deployment](ms, "intelliscale-controller")
	if !ok {
		t.Fatal("no controller Deployment")
	}
	c := ctl.Spec.Template.Spec.Containers[0]
	if arg(c.Args, "backend") != "kubernetes" || arg(c.Args, "mode") != "enforce" {
		t.Errorf("controller args %v: want --backend=kubernetes --mode=enforce", c.Args)
	}
	kind, target, err := ParseWorkload(arg(c.Args, "workload"))
	if err != nil || kind != Deployment {
		t.Fatalf("controller --workload: %s %s %v", kind, target, err)
	}
	app, ok := find[*appsv1.Deployment](ms, target)
	if !ok {
		t.Fatalf("the controller's target deployment/%s is not in the manifests", target)
	}
	if app.Labels[ManagedLabel] != "true" {
		t.Errorf("deployment/%s lacks %s=true: the controller would refuse it", target, ManagedLabel)
	}
	for _, d := range all[*appsv1.Deployment](ms) {
		if d.Name != target && d.Labels[ManagedLabel] != "" {
			t.Errorf("deployment/%s carries %s but is not the controller's target", d.Name, ManagedLabel)
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labelSet(d.Spec.Template.Labels)) {
			t.Errorf("deployment/%s: selector %v does not match its pod template's labels %v", d.Name, d.Spec.Selector, d.Spec.Template.Labels)
		}
	}
	svc, ok := find[*corev1.Service](ms, target)
	if !ok || !labelSet(svc.Spec.Selector).AsSelector().Matches(labelSet(app.Spec.Template.Labels)) {
		t.Errorf("no Service selecting the pods of deployment/%s", target)
	}

	// Least privilege: the controller's ServiceAccount is bound to one Role, whose rules
	// are exactly: read its target by name, change its scale by name, list HPAs.
	sa := ctl.Spec.Template.Spec.ServiceAccountName
	if sa == "" || sa == "default" {
		t.Fatalf("controller runs as service account %q: want its own", sa)
	}
	var roles []string
	for _, rb := range all[*rbacv1.RoleBinding](ms) {
		for _, s := range rb.Subjects {
			if s.Kind == "ServiceAccount" && s.Name == sa {
				if rb.RoleRef.Kind != "Role" {
					t.Errorf("rolebinding/%s binds %s %s", rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name)
				}
				roles = append(roles, rb.RoleRef.Name)
			}
		}
	}
	if len(roles) != 1 {
		t.Fatalf("service account %s bound to roles %v, want exactly one", sa, roles)
	}
	role, ok := find[*rbacv1.Role](ms, roles[0])
	if !ok {
		t.Fatalf("role %s not in the manifests", roles[0])
	}
	want := map[string]string{
		"apps/deployments " + target:             "get,list,watch",
		"apps/deployments/scale " + target:       "get,patch,update",
		"autoscaling/horizontalpodautoscalers *": "list",
	}
	got := map[string]string{}
	for i, r := range role.Rules {
		if len(r.NonResourceURLs) > 0 {
			t.Errorf("role %s rule %d grants non-resource URLs %v", role.Name, i, r.NonResourceURLs)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				names := []string{"*"}
				if len(r.ResourceNames) > 0 {
					names = r.ResourceNames
				}
				for _, n := range names {
					key := g + "/" + res + " " + n
					verbs := slices.Sorted(slices.Values(r.Verbs))
					if got[key] != "" {
						verbs = slices.Sorted(slices.Values(append(strings.Split(got[key], ","), verbs...)))
					}
					got[key] = strings.Join(slices.Compact(verbs), ",")
				}
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("role %s grants %v\nwant exactly %v", role.Name, got, want)
	}

	// Prometheus discovers the target's pods through the Kubernetes API, by the label
	// and port name the app's pod template has.
	cm, ok := find[*corev1.ConfigMap](ms, "prometheus-config")
	if !ok {
		t.Fatal("no prometheus-config ConfigMap")
	}
	var prom struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
			SD      []struct {
				Role       string `yaml:"role"`
				Namespaces struct {
					Own bool `yaml:"own_namespace"`
				} `yaml:"namespaces"`
			} `yaml:"kubernetes_sd_configs"`
			Relabel []struct {
				Source []string `yaml:"source_labels"`
				Regex  string   `yaml:"regex"`
				Action string   `yaml:"action"`
			} `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["prometheus.yml"]), &prom); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	var appJob bool
	for _, sc := range prom.ScrapeConfigs {
		if sc.JobName != "app" {
			continue
		}
		appJob = len(sc.SD) == 1 && sc.SD[0].Role == "pod" && sc.SD[0].Namespaces.Own
		port := app.Spec.Template.Spec.Containers[0].Ports[0].Name
		keep := sc.Relabel[0]
		if keep.Action != "keep" || keep.Regex != app.Spec.Template.Labels["app.kubernetes.io/name"]+";"+port {
			t.Errorf("app job keeps %q, want the app pods' label and port %q", keep.Regex, port)
		}
	}
	if !appJob {
		t.Error("no app job with kubernetes_sd_configs role pod in its own namespace")
	}
	if prom, ok := find[*appsv1.Deployment](ms, "prometheus"); !ok || prom.Spec.Template.Spec.ServiceAccountName != "prometheus" {
		t.Error("Prometheus does not run as its service account")
	}

	// Grafana's provisioning is the Compose stack's, byte for byte.
	for name, files := range grafanaConfigMaps {
		cm, ok := find[*corev1.ConfigMap](ms, name)
		if !ok {
			t.Errorf("no ConfigMap %s", name)
			continue
		}
		for key, path := range files {
			b, err := os.ReadFile(filepath.Join(root, path))
			if err != nil {
				t.Fatal(err)
			}
			if cm.Data[key] != string(b) {
				t.Errorf("ConfigMap %s key %s differs from %s (go test ./live/kubernetes -run TestManifests -update)", name, key, path)
			}
		}
	}
}

// grafanaConfigMaps: ConfigMap name -> key -> file under the checkout.
var grafanaConfigMaps = map[string]map[string]string{
	"grafana-datasources":         {"prometheus.yml": "deploy/grafana/provisioning/datasources/prometheus.yml"},
	"grafana-dashboard-providers": {"intelliscale.yml": "deploy/grafana/provisioning/dashboards/intelliscale.yml"},
	"grafana-dashboards":          {"intelliscale.json": "deploy/grafana/dashboards/intelliscale.json"},
}

// writeGrafanaConfig regenerates deploy/k8s/grafana-config.yaml.
func writeGrafanaConfig(t *testing.T, root string) {
	var b strings.Builder
	b.WriteString("# Generated from deploy/grafana by `go test ./live/kubernetes -run TestManifests -update`;\n# do not edit: the test fails when it differs from those files.\n")
	for i, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range grafanaConfigMaps {
			if !yield(k) {
				return
			}
		}
	}) {
		if i > 0 {
			b.WriteString("---\n")
		}
		data := map[string]string{}
		for key, path := range grafanaConfigMaps[name] {
			f, err := os.ReadFile(filepath.Join(root, path))
			if err != nil {
				t.Fatal(err)
			}
			data[key] = string(f)
		}
		doc := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name}, "data": data}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		b.Write(buf.Bytes())
	}
	if err := os.WriteFile(filepath.Join(root, "deploy", "k8s", "grafana-config.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
