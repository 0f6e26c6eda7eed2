package policy

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/env"
)

func targetPolicy(t *testing.T) *Policy {
	t.Helper()
	p := testPolicy(t, 4)
	p.ActionMode = env.ActionTarget
	p.Actions = []int{40, 50, 60, 70, 80, 90, 95}
	return p
}

func deployNode(t *testing.T, doc string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}

// TestDeployHeadroomScaleRoundTrip: a headroom scale set at deploy time is saved,
// checksummed and loaded, and the loaded policy's actuator asks for the counts the
// scaled targets give; scale 1 is the file as trained, byte for byte.
func TestDeployHeadroomScaleRoundTrip(t *testing.T) {
	plain, err := targetPolicy(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain, []byte("headroom_scale")) {
		t.Fatal("a policy as trained writes headroom_scale")
	}
	one := targetPolicy(t)
	if err := (Deploy{HeadroomScale: new(1.0)}).Apply(one); err != nil {
		t.Fatal(err)
	}
	if b, _ := one.Marshal(); !bytes.Equal(b, plain) {
		t.Error("headroom_scale 1 changed the file")
	}

	p := targetPolicy(t)
	d, err := DecodeDeploy(deployNode(t, "headroom_scale: 0.5"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Apply(p); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path) // verifies the checksum
	if err != nil {
		t.Fatal(err)
	}
	if q.HeadroomScale != 0.5 || q.Checksum == targetPolicy(t).Checksum {
		t.Fatalf("loaded headroom_scale %v", q.HeadroomScale)
	}
	a, err := q.Actuator()
	if err != nil {
		t.Fatal(err)
	}
	obs := make([]float64, len(q.Features.Features))
	for i, f := range q.Features.Features {
		switch f.Name {
		case "ready":
			obs[i] = 20 / f.Scale
		case "utilisation":
			obs[i] = 0.6
		}
	}
	// Action 0 (40%) at headroom scale 0.5 is a 70% target: ceil(20 * 0.6 / 0.7).
	if got := a.Target(20, 0, obs); got != 18 {
		t.Errorf("loaded policy asks for %d replicas, want 18", got)
	}
}

// TestDeployRejects: bad deploy parameters and a headroom scale on a policy whose
// actions are not targets get errors naming the field; the policy is unchanged.
func TestDeployRejects(t *testing.T) {
	for _, c := range []struct {
		doc, mode, want string
	}{
		{"headroom_scale: 1.2", env.ActionDelta, `headroom_scale: 1.2: only for action_mode target or forecast, not "delta"`},
		// Every value out of range gets one message, 0 included.
		{"headroom_scale: 0", env.ActionTarget, "headroom_scale: 0: must be > 0 and at most 10"},
		{"headroom_scale: -1", env.ActionTarget, "headroom_scale: -1: must be > 0 and at most 10"},
		{"headroom_scale: 11", env.ActionTarget, "headroom_scale: 11: must be > 0 and at most 10"},
		{"headroom_scale: 1e9", env.ActionTarget, "headroom_scale: 1e+09: must be > 0 and at most 10"},
		{"headroom_scale: .nan", env.ActionTarget, "headroom_scale: NaN: must be > 0 and at most 10"},
		{"headroom_scale: fast", env.ActionTarget, "headroom_scale"},
		{"scale: 1.2", env.ActionTarget, `unknown key "scale"`},
		{"[1.2]", env.ActionTarget, "must be a mapping"},
	} {
		p := targetPolicy(t)
		p.ActionMode = c.mode
		if c.mode == env.ActionDelta {
			p.Actions = []int{-3, -2, -1, 0, 1, 2, 3}
		}
		before, _ := p.Marshal()
		d, err := DecodeDeploy(deployNode(t, c.doc))
		if err == nil {
			err = d.Apply(p)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s (%s): error %v, want %q", c.doc, c.mode, err, c.want)
		}
		if after, _ := p.Marshal(); !bytes.Equal(before, after) {
			t.Errorf("%s: the policy changed", c.doc)
		}
	}
	// A file that carries a headroom scale for delta actions is refused on load.
	p := testPolicy(t, 4)
	p.HeadroomScale = 1.5
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "headroom_scale") {
		t.Errorf("delta policy with headroom_scale: %v", err)
	}
	if !IsDeployKnob("headroom_scale") || IsDeployKnob("env.slo_weight") || IsDeployKnob("lagrangian.budget") {
		t.Error("IsDeployKnob")
	}
}
