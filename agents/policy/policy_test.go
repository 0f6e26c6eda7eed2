package policy

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/env/features"
)

// testPolicy is a valid small policy: 13 default features, 2 hidden layers of 8,
// 7 actions, random weights and statistics.
func testPolicy(t testing.TB, seed uint64) *Policy {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	spec := features.Default(0.5)
	in := len(spec.Features)
	sizes := []int{in, 8, 8, 7}
	n := 0
	for i := 1; i < len(sizes); i++ {
		n += sizes[i-1]*sizes[i] + sizes[i]
	}
	params := make([]float64, n)
	for i := range params {
		params[i] = rng.NormFloat64()
	}
	z := &Normaliser{Mean: make([]float64, in), Var: make([]float64, in), Count: 1234.5, Clip: 5}
	for i := range z.Mean {
		z.Mean[i] = rng.NormFloat64()
		z.Var[i] = rng.Float64() * 3
	}
	return &Policy{
		Version: Version, Algorithm: "ppo",
		Network:    Network{Sizes: sizes, Activation: "tanh", Params: params},
		Normaliser: z, Features: spec, Actions: []int{-3, -2, -1, 0, 1, 2, 3},
		Sim: SimInfo{ControlIntervalSeconds: 15, ScrapeIntervalSeconds: 15, SLOLatencySeconds: 0.5, SLOTarget: 0.95,
			MinReplicas: 1, MaxReplicas: 50, Concurrency: 4},
		Training: TrainingInfo{Steps: 1000, Episodes: 2, Seed: seed, ConfigHash: "sha256:00", Traces: []string{"bursty-train"}},
	}
}

// slowAct is the obvious version of Act: normalise, then layer by layer y = tanh(Wx+b)
// with plain loops, argmax (first on ties).
func slowAct(p *Policy, obs []float64) int {
	x := make([]float64, len(obs))
	for j, v := range obs {
		z := p.Normaliser
		y := (v - z.Mean[j]) / math.Sqrt(z.Var[j]+1e-8)
		x[j] = math.Max(-z.Clip, math.Min(z.Clip, y))
	}
	off := 0
	s := p.Network.Sizes
	for l := 1; l < len(s); l++ {
		in, out := s[l-1], s[l]
		w, b := p.Network.Params[off:off+in*out], p.Network.Params[off+in*out:off+in*out+out]
		off += in*out + out
		y := make([]float64, out)
		for o := range out {
			acc := b[o]
			for i := range in {
				acc += w[o*in+i] * x[i]
			}
			if l < len(s)-1 {
				acc = math.Tanh(acc)
			}
			y[o] = acc
		}
		x = y
	}
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func TestActMatchesSlowForward(t *testing.T) {
	p := testPolicy(t, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	counts := make([]int, len(p.Actions))
	for k := range 500 {
		obs := make([]float64, p.NumInputs())
		for i := range obs {
			obs[i] = rng.NormFloat64() * 3
		}
		got, want := p.Act(obs), slowAct(p, obs)
		if got != want {
			t.Fatalf("sample %d: Act %d, slow forward %d", k, got, want)
		}
		counts[got]++
	}
	used := 0
	for _, c := range counts {
		if c > 0 {
			used++
		}
	}
	if used < 2 {
		t.Fatalf("actions chosen %v: the test policy should not be constant", counts)
	}
	if p.Act(make([]float64, p.NumInputs()+1)) != -1 {
		t.Fatal("an observation of the wrong length should give -1")
	}
}

func TestActAllocationFree(t *testing.T) {
	p := testPolicy(t, 4)
	obs := make([]float64, p.NumInputs())
	p.Act(obs)
	if a := testing.AllocsPerRun(100, func() { p.Act(obs) }); a != 0 {
		t.Fatalf("Act allocates %v times per call after the first", a)
	}
}

func TestRoundTripBytesAndDecisions(t *testing.T) {
	p := testPolicy(t, 5)
	b1, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Checksum, "sha256:") || len(p.Checksum) != 7+64 {
		t.Fatalf("checksum %q", p.Checksum)
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatal("save, load, save gave different bytes")
	}
	for i, v := range p.Network.Params {
		if math.Float64bits(v) != math.Float64bits(q.Network.Params[i]) {
			t.Fatalf("param %d: %v became %v", i, v, q.Network.Params[i])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		obs := make([]float64, p.NumInputs())
		for i := range obs {
			obs[i] = rng.NormFloat64() * 2
		}
		if p.Act(obs) != q.Act(obs) {
			t.Fatal("loaded policy decides differently")
		}
	}
	// No temporary files are left beside it.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries after Save, want 1", len(ents))
	}
}

func TestReadRejectsHostileFiles(t *testing.T) {
	good, err := testPolicy(t, 6).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// resign re-computes the checksum of a modified policy, so that the check under
	// test is the one reached.
	resign := func(mod func(p *Policy)) []byte {
		p := testPolicy(t, 6)
		mod(p)
		p.Checksum = ""
		sum, err := p.ComputeChecksum()
		if err != nil {
			t.Fatal(err)
		}
		p.Checksum = sum
		var buf bytes.Buffer
		if err := jsonEncode(&buf, p); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "policy"},
		{"truncated", good[:len(good)/2], "unexpected end"},
		{"not json", []byte("ISNN\x01\x00"), "policy: not JSON: not a policy file"},
		{"a CSV file", []byte("seconds,rate\n0,12\n"), "policy: not JSON: not a policy file"},
		{"JSON but not an object", []byte("[1, 2]"), "a JSON array, want an object"},
		{"broken object", []byte("{\n\"version\": 1,\n x}"), "line 3 column 3: invalid character"},
		{"no version", []byte(`{"algorithm":"ppo"}`), "no version"},
		{"wrong version", bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": 2`), 1), "version 2"},
		{"unknown field", bytes.Replace(good, []byte(`"version": 1,`), []byte(`"version": 1, "extra": 3,`), 1), "unknown field"},
		{"bad checksum", bytes.Replace(good, []byte(`"count": 1234.5`), []byte(`"count": 1234.25`), 1), "checksum"},
		{"trailing data", append(append([]byte(nil), good...), []byte(`{}`)...), "after top-level value"},
		{"sizes not matching params", resign(func(p *Policy) { p.Network.Sizes[1] = 9 }), "need"},
		{"huge sizes", resign(func(p *Policy) { p.Network.Sizes = []int{13, 1e12, 7} }), "sizes[1]"},
		{"huge product", resign(func(p *Policy) { p.Network.Sizes = []int{13, 4000, 4000, 7} }), "parameters"},
		{"too many layers", resign(func(p *Policy) { p.Network.Sizes = make([]int, 40) }), "sizes"},
		{"NaN weight", bytes.Replace(resign(func(p *Policy) { p.Network.Params[3] = 7.25 }), []byte("7.25"), []byte("NaN"), 1), "invalid character 'N'"},
		{"huge weight", bytes.Replace(resign(func(p *Policy) { p.Network.Params[3] = 7.25 }), []byte("7.25"), []byte("1e999"), 1), "1e999"},
		{"bad activation", resign(func(p *Policy) { p.Network.Activation = "sigmoid" }), "activation"},
		{"bad algorithm", resign(func(p *Policy) { p.Algorithm = "a2c" }), "algorithm"},
		{"unknown feature metric", resign(func(p *Policy) { p.Features.Features[0].Expr = "sum(no_such_metric)" }), "no_such_metric"},
		{"feature count", resign(func(p *Policy) { p.Features.Features = p.Features.Features[:5] }), "features for a network"},
		{"action count", resign(func(p *Policy) { p.Actions = p.Actions[:3] }), "actions for a network"},
		{"normaliser length", resign(func(p *Policy) { p.Normaliser.Mean = p.Normaliser.Mean[:2] }), "normaliser"},
		{"negative variance", resign(func(p *Policy) { p.Normaliser.Var[2] = -1 }), "normaliser.var[2]"},
		{"zero count", resign(func(p *Policy) { p.Normaliser.Count = 0 }), "normaliser.count"},
		{"zero control interval", resign(func(p *Policy) { p.Sim.ControlIntervalSeconds = 0 }), "control_interval"},
		{"min above max", resign(func(p *Policy) { p.Sim.MinReplicas = 60 }), "min/max"},
		{"unknown action mode", resign(func(p *Policy) { p.ActionMode = "ratio" }), "action_mode"},
		{"percent below -100", resign(func(p *Policy) { p.ActionMode, p.Actions[0] = env.ActionPercent, -200 }), "percent"},
		{"negative shield window", resign(func(p *Policy) { p.Shield.ScaleDownWindow = -time.Second }), "scale_down_window"},
		{"huge file", append([]byte(`{"version":1,"pad":"`), bytes.Repeat([]byte("x"), MaxFileBytes)...), "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Read(bytes.NewReader(c.data))
			if err == nil {
				t.Fatalf("accepted: %+v", p.Network.Sizes)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
	if _, err := Read(bytes.NewReader(good)); err != nil {
		t.Fatalf("the untouched file is rejected: %v", err)
	}
}

// TestReadErrorsSpeakJSON: an error about a file that is not a policy says what the
// file holds in JSON's terms, never Go's ("cannot unmarshal ... into Go struct field").
func TestReadErrorsSpeakJSON(t *testing.T) {
	good, err := testPolicy(t, 6).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string // the whole message
	}{
		{"empty", nil, "policy: empty file: not a policy file"},
		{"only whitespace", []byte(" \n\t\n"), "policy: empty file: not a policy file"},
		{"a list", []byte(`[{"version": 1}]`), "policy: a JSON array, want an object: not a policy file"},
		{"a string", []byte(`"policy.json"`), "policy: a JSON string, want an object: not a policy file"},
		{"version as a string", bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": "1"`), 1), "policy: line 2 column 17: version: a JSON string, want an integer"},
		{"a size as a string", bytes.Replace(good, []byte(`"sizes": [`+"\n"+`      13`), []byte(`"sizes": [`+"\n"+`      "13"`), 1), "policy: line 6 column 11: network.sizes: a JSON string, want an integer"},
		{"unknown field", bytes.Replace(good, []byte(`"version": 1,`), []byte(`"version": 1, "extra": 3,`), 1), `policy: unknown field "extra"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.data))
			if err == nil || err.Error() != c.want {
				t.Fatalf("error %v\nwant %s", err, c.want)
			}
		})
	}
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || err.Error() != dir+": is a directory, want a policy file" {
		t.Fatalf("a directory: %v", err)
	}
}

// jsonEncode writes a policy without validating it (to craft bad files).
func jsonEncode(buf *bytes.Buffer, p *Policy) error {
	b, err := marshalUnchecked(p)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

func TestMarshalRejectsNonFiniteWeights(t *testing.T) {
	p := testPolicy(t, 8)
	p.Network.Params[3] = math.Inf(1)
	if _, err := p.Marshal(); err == nil || !strings.Contains(err.Error(), "params[3]") {
		t.Fatalf("error %v: want one naming network.params[3]", err)
	}
	p.Network.Params[3] = math.NaN()
	if _, err := p.Marshal(); err == nil || !strings.Contains(err.Error(), "params[3]") {
		t.Fatalf("error %v: want one naming network.params[3]", err)
	}
}

func TestLoadRefusesLargeFileBeforeReading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileBytes + 1); err != nil { // sparse: nothing to read
		t.Fatal(err)
	}
	f.Close()
	_, err = Load(path)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "big.json") {
		t.Fatalf("error %v: want ErrTooLarge naming the file", err)
	}
}

func FuzzRead(f *testing.F) {
	good, err := testPolicy(f, 7).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"network":{"sizes":[1000000000000,2]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Anything accepted must act without panicking and survive a round trip.
		obs := make([]float64, p.NumInputs())
		if a := p.Act(obs); a < 0 || a >= len(p.Actions) {
			t.Fatalf("accepted policy acts %d with %d actions", a, len(p.Actions))
		}
		if _, err := p.Marshal(); err != nil {
			t.Fatalf("accepted policy does not marshal: %v", err)
		}
	})
}

// TestShieldAndActionModeRoundTrip: a policy with percent actions and a shield keeps
// them through Save and Load, and its actuator decides as the one built from the
// original.
func TestShieldAndActionModeRoundTrip(t *testing.T) {
	p := testPolicy(t, 9)
	p.ActionMode = env.ActionPercent
	p.Actions = []int{-30, -15, -5, 0, 10, 25, 50}
	p.Shield = env.Shield{ScaleDownWindow: 5 * time.Minute, MaxUpPercent: 100, MaxDownPercent: 10}
	path := filepath.Join(t.TempDir(), "p.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if q.ActionMode != p.ActionMode || q.Shield != p.Shield {
		t.Fatalf("loaded mode %q shield %+v, saved %q %+v", q.ActionMode, q.Shield, p.ActionMode, p.Shield)
	}
	a, _ := p.Actuator()
	b, err := q.Actuator()
	if err != nil {
		t.Fatal(err)
	}
	cur := 40
	for k := range 200 {
		now := time.Duration(k) * 15 * time.Second
		da, db := a.Desired(now, cur, k%7, nil, 1, 50), b.Desired(now, cur, k%7, nil, 1, 50)
		if da != db {
			t.Fatalf("decision %d: %d vs %d", k, da, db)
		}
		cur = da
	}
	// A policy without them writes neither field (older files stay byte-identical).
	plain, err := testPolicy(t, 9).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain, []byte("shield")) || bytes.Contains(plain, []byte("action_mode")) {
		t.Fatal("a delta policy without a shield writes shield or action_mode")
	}
}

// TestHiddenFeatures: a hidden feature reaches the network as 0, whatever its value,
// as the environment gave it to the learner; the flag survives the file, allocation
// free, and a file without hidden features keeps its bytes.
func TestHiddenFeatures(t *testing.T) {
	p := testPolicy(t, 6)
	plain, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain, []byte(`"hidden"`)) {
		t.Fatal("a policy without hidden features writes the key")
	}
	q := testPolicy(t, 6)
	q.Features.Features = slices.Clone(q.Features.Features)
	ready := slices.Index(q.Features.Names(), "ready")
	q.Features.Features[ready].Hidden = true
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := q.Save(path); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Features.Features[ready].Hidden {
		t.Fatal("hidden lost in the file")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	differs := false
	for range 300 {
		obs := make([]float64, r.NumInputs())
		for i := range obs {
			obs[i] = rng.NormFloat64() * 3
		}
		zero := slices.Clone(obs)
		zero[ready] = 0
		a := r.Act(obs)
		if a != slowAct(p, zero) {
			t.Fatal("a hidden feature's value reached the network")
		}
		differs = differs || p.Act(obs) != a
	}
	if !differs {
		t.Fatal("hiding ready never changed a decision: the test proves nothing")
	}
	obs := make([]float64, r.NumInputs())
	r.Act(obs)
	if a := testing.AllocsPerRun(100, func() { r.Act(obs) }); a != 0 {
		t.Fatalf("Act with a hidden feature allocates %v times per call", a)
	}
}
