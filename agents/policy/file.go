package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/internal/atomicfile"
)

// The policy file is JSON; its fields (all required unless noted):
//
//	version            int: 1
//	algorithm          a training algorithm's name (agents.LearnerNames: "dqn", "ppo")
//	network            {sizes: [in, hidden..., out], activation: "tanh"|"relu"|"identity",
//	                    params: [weights and biases, layer by layer: W (out×in, row-major), b]}
//	normaliser         optional {mean: [in], var: [in], count, clip}
//	features           [{name, expr, doc, fill, scale, clip}], one per network input
//	actions            [replica change of each action], one per network output
//	action_mode        optional "delta" (the default: actions are replica changes) or
//	                   "percent" (percent changes of the count in force)
//	shield             optional {scale_down_window_seconds, max_up_percent,
//	                   max_down_percent}: env.Shield, applied to every decision
//	sim                {control_interval_seconds, scrape_interval_seconds, slo_latency_seconds,
//	                    slo_target, min_replicas, max_replicas, concurrency}
//	training           {steps, episodes, seed, config_hash, traces, build (optional:
//	                    the build that wrote the file)}
//	members            optional [{algorithm, network, normaliser (optional), training}]:
//	                   the further networks of an ensemble, each as the fields above
//	vote               optional "median" (the default) or "cautious": how an
//	                   ensemble's networks decide together
//	checksum           "sha256:<hex>" of the compact JSON encoding of all the above with
//	                   checksum "" (so re-indenting the file keeps it valid)
type fileV1 struct {
	Version    int         `json:"version"`
	Algorithm  string      `json:"algorithm"`
	Network    networkJSON `json:"network"`
	Normaliser *normJSON   `json:"normaliser,omitempty"`
	Features   []featJSON  `json:"features"`
	Actions    []int       `json:"actions"`
	ActionMode string      `json:"action_mode,omitempty"`
	Shield     *shieldJSON `json:"shield,omitempty"`
	// HeadroomScale is omitted at 0 (the policy as trained), so that files without it
	// keep their bytes and checksums.
	HeadroomScale float64   `json:"headroom_scale,omitempty"`
	Sim           simJSON   `json:"sim"`
	Training      trainJSON `json:"training"`
	// Members is omitted for a single network, so that its file keeps its bytes.
	Members  []memberJSON `json:"members,omitempty"`
	Vote     string       `json:"vote,omitempty"`
	Checksum string       `json:"checksum"`
}

type memberJSON struct {
	Algorithm  string      `json:"algorithm"`
	Network    networkJSON `json:"network"`
	Normaliser *normJSON   `json:"normaliser,omitempty"`
	Training   trainJSON   `json:"training"`
}

type networkJSON struct {
	Sizes      []int     `json:"sizes"`
	Activation string    `json:"activation"`
	Params     []float64 `json:"params"`
}

type normJSON struct {
	Mean  []float64 `json:"mean"`
	Var   []float64 `json:"var"`
	Count float64   `json:"count"`
	Clip  float64   `json:"clip"`
}

type featJSON struct {
	Name  string  `json:"name"`
	Expr  string  `json:"expr"`
	Doc   string  `json:"doc,omitempty"`
	Fill  float64 `json:"fill"`
	Scale float64 `json:"scale"`
	Clip  float64 `json:"clip"`
	// Hidden is omitted when false, so that files without it keep their bytes.
	Hidden bool `json:"hidden,omitempty"`
}

type shieldJSON struct {
	ScaleDownWindowSeconds float64 `json:"scale_down_window_seconds"`
	MaxUpPercent           float64 `json:"max_up_percent"`
	MaxDownPercent         float64 `json:"max_down_percent"`
}

type simJSON struct {
	ControlIntervalSeconds float64 `json:"control_interval_seconds"`
	ScrapeIntervalSeconds  float64 `json:"scrape_interval_seconds"`
	SLOLatencySeconds      float64 `json:"slo_latency_seconds"`
	SLOTarget              float64 `json:"slo_target"`
	MinReplicas            int     `json:"min_replicas"`
	MaxReplicas            int     `json:"max_replicas"`
	Concurrency            int     `json:"concurrency"`
}

type trainJSON struct {
	Steps      int      `json:"steps"`
	Episodes   int      `json:"episodes"`
	Seed       uint64   `json:"seed"`
	ConfigHash string   `json:"config_hash"`
	Traces     []string `json:"traces"`
	Build      string   `json:"build,omitempty"`
}

func toNetworkJSON(n Network) networkJSON {
	return networkJSON{Sizes: n.Sizes, Activation: n.Activation, Params: n.Params}
}

func (n networkJSON) network() Network {
	return Network{Sizes: n.Sizes, Activation: n.Activation, Params: n.Params}
}

func toNormJSON(z *Normaliser) *normJSON {
	if z == nil {
		return nil
	}
	return &normJSON{Mean: z.Mean, Var: z.Var, Count: z.Count, Clip: z.Clip}
}

func (z *normJSON) normaliser() *Normaliser {
	if z == nil {
		return nil
	}
	return &Normaliser{Mean: z.Mean, Var: z.Var, Count: z.Count, Clip: z.Clip}
}

func toTrainJSON(t TrainingInfo) trainJSON {
	return trainJSON{Steps: t.Steps, Episodes: t.Episodes, Seed: t.Seed, ConfigHash: t.ConfigHash, Traces: t.Traces, Build: t.Build}
}

func (t trainJSON) info() TrainingInfo {
	return TrainingInfo{Steps: t.Steps, Episodes: t.Episodes, Seed: t.Seed, ConfigHash: t.ConfigHash, Traces: t.Traces, Build: t.Build}
}

func (p *Policy) toFile() *fileV1 {
	f := &fileV1{
		Version: p.Version, Algorithm: p.Algorithm,
		Network: toNetworkJSON(p.Network), Normaliser: toNormJSON(p.Normaliser),
		Actions: p.Actions, HeadroomScale: p.HeadroomScale,
		Sim: simJSON{
			ControlIntervalSeconds: p.Sim.ControlIntervalSeconds, ScrapeIntervalSeconds: p.Sim.ScrapeIntervalSeconds,
			SLOLatencySeconds: p.Sim.SLOLatencySeconds, SLOTarget: p.Sim.SLOTarget,
			MinReplicas: p.Sim.MinReplicas, MaxReplicas: p.Sim.MaxReplicas, Concurrency: p.Sim.Concurrency,
		},
		Training: toTrainJSON(p.Training),
		Vote:     p.Vote,
		Checksum: p.Checksum,
	}
	for _, m := range p.Members {
		f.Members = append(f.Members, memberJSON{Algorithm: m.Algorithm, Network: toNetworkJSON(m.Network),
			Normaliser: toNormJSON(m.Normaliser), Training: toTrainJSON(m.Training)})
	}
	if p.ActionMode != env.ActionDelta {
		f.ActionMode = p.ActionMode
	}
	if sh := p.Shield; !sh.IsZero() {
		f.Shield = &shieldJSON{ScaleDownWindowSeconds: sh.ScaleDownWindow.Seconds(), MaxUpPercent: sh.MaxUpPercent, MaxDownPercent: sh.MaxDownPercent}
	}
	f.Features = make([]featJSON, len(p.Features.Features))
	for i, ft := range p.Features.Features {
		f.Features[i] = featJSON{Name: ft.Name, Expr: ft.Expr, Doc: ft.Doc, Fill: ft.Fill, Scale: ft.Scale, Clip: ft.Clip, Hidden: ft.Hidden}
	}
	return f
}

func (f *fileV1) policy() *Policy {
	p := &Policy{
		Version: f.Version, Algorithm: f.Algorithm,
		Network: f.Network.network(), Normaliser: f.Normaliser.normaliser(),
		Actions: f.Actions, HeadroomScale: f.HeadroomScale,
		Sim: SimInfo{
			ControlIntervalSeconds: f.Sim.ControlIntervalSeconds, ScrapeIntervalSeconds: f.Sim.ScrapeIntervalSeconds,
			SLOLatencySeconds: f.Sim.SLOLatencySeconds, SLOTarget: f.Sim.SLOTarget,
			MinReplicas: f.Sim.MinReplicas, MaxReplicas: f.Sim.MaxReplicas, Concurrency: f.Sim.Concurrency,
		},
		Training: f.Training.info(),
		Vote:     f.Vote,
		Checksum: f.Checksum,
	}
	for _, m := range f.Members {
		p.Members = append(p.Members, Member{Algorithm: m.Algorithm, Network: m.Network.network(),
			Normaliser: m.Normaliser.normaliser(), Training: m.Training.info()})
	}
	p.ActionMode = f.ActionMode
	if sh := f.Shield; sh != nil {
		w := sh.ScaleDownWindowSeconds
		if !(w >= 0 && w <= 1e6) {
			w = -1 // Validate rejects it
		}
		p.Shield = env.Shield{ScaleDownWindow: time.Duration(math.Round(w * 1e9)), MaxUpPercent: sh.MaxUpPercent, MaxDownPercent: sh.MaxDownPercent}
	}
	p.Features.Features = make([]features.Feature, len(f.Features))
	for i, ft := range f.Features {
		p.Features.Features[i] = features.Feature{Name: ft.Name, Expr: ft.Expr, Doc: ft.Doc, Fill: ft.Fill, Scale: ft.Scale, Clip: ft.Clip, Hidden: ft.Hidden}
	}
	return p
}

// ComputeChecksum returns "sha256:<hex>" of the canonical encoding of p with
// Checksum empty. p is not modified.
func (p *Policy) ComputeChecksum() (string, error) {
	f := p.toFile()
	f.Checksum = ""
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("policy: encoding: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Marshal validates p, sets its Checksum and returns the file's bytes (indented
// JSON, a trailing newline). The same policy always gives the same bytes.
func (p *Policy) Marshal() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sum, err := p.ComputeChecksum()
	if err != nil {
		return nil, err
	}
	p.Checksum = sum
	f := p.toFile()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("policy: encoding: %w", err)
	}
	if buf.Len() > MaxFileBytes {
		return nil, fmt.Errorf("policy: encoded file of %d bytes exceeds the %d-byte limit", buf.Len(), MaxFileBytes)
	}
	return buf.Bytes(), nil
}

// Save writes p to path atomically (a temporary file in the same directory, synced,
// then renamed), so that path holds either the old file or the whole new one.
func (p *Policy) Save(path string) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b)
}

// WriteFileAtomic writes data to path through a synced temporary file in the same
// directory and a rename.
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }

// ErrTooLarge is returned for input longer than MaxFileBytes.
var ErrTooLarge = errors.New("policy file too large")

// Read decodes a policy file: at most MaxFileBytes are read; the JSON must have
// exactly the known fields; the version, checksum and every dimension are checked
// (Validate) before the network is built.
func Read(r io.Reader) (*Policy, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("policy: reading: %w", err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("policy: more than %d bytes: %w", MaxFileBytes, ErrTooLarge)
	}
	return Unmarshal(b)
}

// Unmarshal decodes a policy file held in memory (see Read).
func Unmarshal(b []byte) (*Policy, error) {
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("policy: %d bytes, more than %d: %w", len(b), MaxFileBytes, ErrTooLarge)
	}
	if t := bytes.TrimSpace(b); len(t) == 0 {
		return nil, errors.New("policy: empty file: not a policy file")
	} else if t[0] != '{' && !json.Valid(t) {
		// Binary or other text (a checkpoint, a CSV file): not worth a position.
		return nil, errors.New("policy: not JSON: not a policy file")
	}
	// Check the version before the full decode, so that a future format gets a clear
	// error rather than an unknown-field one.
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return nil, fmt.Errorf("policy: a JSON %s, want an object: not a policy file", te.Value)
		}
		return nil, fmt.Errorf("policy: %w", jsonErr(b, err))
	}
	if head.Version == nil {
		return nil, errors.New("policy: no version field: not a policy file")
	}
	if *head.Version != Version {
		return nil, fmt.Errorf("policy: version %d: this build reads version %d", *head.Version, Version)
	}
	var f fileV1
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("policy: %w", jsonErr(b, err))
	}
	if dec.More() {
		return nil, errors.New("policy: trailing data after the JSON object")
	}
	p := f.policy()
	sum, err := p.ComputeChecksum()
	if err != nil {
		return nil, err
	}
	if p.Checksum != sum {
		return nil, fmt.Errorf("policy: checksum %q does not match the content (%s): the file is corrupt or was edited", p.Checksum, sum)
	}
	if err := p.build(); err != nil {
		return nil, err
	}
	return p, nil
}

// jsonErr adds the line and column of a syntax or type error.
func jsonErr(b []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("unknown field %s", f)
		}
		return err
	}
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(b[:off], '\n'))
	if te != nil && te.Field != "" {
		// Say it in the file's terms, not Go's ("cannot unmarshal string into Go
		// struct field networkJSON.network.sizes of type int").
		return fmt.Errorf("line %d column %d: %s: a JSON %s, want %s", line, col, te.Field, te.Value, jsonKind(te.Type.Kind()))
	}
	return fmt.Errorf("line %d column %d: %w", line, col, err)
}

// jsonKind names the JSON value a Go kind is decoded from.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}

// Load reads the policy file at path; a file larger than MaxFileBytes is refused
// before it is read. Errors name the file.
func Load(path string) (*Policy, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, want a policy file", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than %d: %w", path, fi.Size(), MaxFileBytes, ErrTooLarge)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	p, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// marshalUnchecked encodes p as it is (no validation, Checksum as set).
func marshalUnchecked(p *Policy) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p.toFile()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
