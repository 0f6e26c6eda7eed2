package policy

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// Ensemble returns one policy deciding by a vote (Policy.Vote: "" or VoteMedian,
// VoteCautious) of the greedy actions of the networks of ps (Act): typically one
// training configuration run with several seeds, deployed as one policy instead of
// one seed. The policies must agree on everything but their networks, observation
// statistics and training records: features, actions (in increasing order), action
// mode, shield, headroom scale and simulator; an error about one of them is a
// *MemberError. The ensemble's Network, Normaliser and Training are those of
// ps[0]; every further network, ensembles' members included, becomes a Member, and
// vote replaces theirs. The networks must be of one algorithm, and none may be
// another's (a SameNetworkError: the same training twice). ps are not modified.
func Ensemble(ps []*Policy, vote string) (*Policy, error) {
	if len(ps) < 2 {
		return nil, fmt.Errorf("policy: an ensemble of %d policies: want at least 2", len(ps))
	}
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, &MemberError{Index: i, Err: err}
		}
	}
	first := ps[0]
	for i := 1; i < len(first.Actions); i++ {
		if first.Actions[i] <= first.Actions[i-1] {
			return nil, &MemberError{Index: 0, Err: fmt.Errorf("its actions %v: %w", first.Actions, ErrActionOrder)}
		}
	}
	for i, p := range ps {
		for j, q := range ps[:i] {
			if sameNetwork(p, q) {
				return nil, &MemberError{Index: i, Err: &SameNetworkError{Of: j}}
			}
		}
	}
	e := *first
	e.Members = append([]Member(nil), first.Members...)
	e.Checksum, e.nets, e.votes, e.nonFinite, e.Vote = "", nil, nil, 0, vote
	for i, p := range ps[1:] {
		if err := compatible(first, p); err != nil {
			return nil, &MemberError{Index: i + 1, Err: err}
		}
		e.Members = append(e.Members, Member{Algorithm: p.Algorithm, Network: p.Network, Normaliser: p.Normaliser, Training: p.Training})
		e.Members = append(e.Members, p.Members...)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// MemberError is Ensemble's error about one of its policies: ps[Index] is invalid
// or cannot join ps[0].
type MemberError struct {
	Index int
	Err   error
}

func (e *MemberError) Error() string { return fmt.Sprintf("policy %d: %v", e.Index+1, e.Err) }

func (e *MemberError) Unwrap() error { return e.Err }

// ErrActionOrder is the reason of the error for an ensemble whose actions are not
// in increasing order.
var ErrActionOrder = errors.New("an ensemble needs them in increasing order (it takes the median of its networks' actions)")

// SameNetworkError is the reason of Ensemble's MemberError for a policy with a
// network of ps[Of]: the same training twice, not another seed.
type SameNetworkError struct {
	Of int
}

func (e *SameNetworkError) Error() string {
	return fmt.Sprintf("it has a network of policy %d: the same training twice, not another seed", e.Of+1)
}

// sameNetwork reports whether p and q have a network in common, their members'
// included.
func sameNetwork(p, q *Policy) bool {
	for _, a := range networks(p) {
		for _, b := range networks(q) {
			if reflect.DeepEqual(a, b) {
				return true
			}
		}
	}
	return false
}

// networks are p's networks: its own, then its members'.
func networks(p *Policy) []Network {
	ns := []Network{p.Network}
	for _, m := range p.Members {
		ns = append(ns, m.Network)
	}
	return ns
}

// compatible reports how p's decisions would differ from a's other than by their
// networks, or how its networks were trained by another algorithm (nil when they
// can form an ensemble).
func compatible(a, p *Policy) error {
	for _, m := range append([]Member{{Algorithm: p.Algorithm}}, p.Members...) {
		if m.Algorithm != a.Algorithm {
			return fmt.Errorf("it was trained by %s, the first policy by %s: an ensemble's networks are of one algorithm", m.Algorithm, a.Algorithm)
		}
	}
	switch {
	case !reflect.DeepEqual(a.Features, p.Features):
		return errors.New("its features differ from the first policy's")
	case !reflect.DeepEqual(a.Actions, p.Actions) || a.ActionMode != p.ActionMode:
		return fmt.Errorf("its actions (%s %v) differ from the first policy's (%s %v)", p.ActionMode, p.Actions, a.ActionMode, a.Actions)
	case a.Shield != p.Shield:
		return errors.New("its shield differs from the first policy's")
	case a.HeadroomScale != p.HeadroomScale:
		return fmt.Errorf("its headroom scale %g differs from the first policy's %g", p.HeadroomScale, a.HeadroomScale)
	case a.Sim != p.Sim:
		return fmt.Errorf("it was trained on another simulator than the first policy: %s", strings.Join(simDifferences(a.Sim, p.Sim), ", "))
	}
	return nil
}

// simDifferences words the settings of p that differ from a's, as in a simulator
// config file: "control_interval 30s (the first policy: 15s)".
func simDifferences(a, p SimInfo) []string {
	var ds []string
	diff := func(setting, first, this string) {
		if first != this {
			ds = append(ds, fmt.Sprintf("%s %s (the first policy: %s)", setting, this, first))
		}
	}
	seconds := func(s float64) string { return yamldoc.Duration(time.Duration(math.Round(s * float64(time.Second)))) }
	diff("control_interval", seconds(a.ControlIntervalSeconds), seconds(p.ControlIntervalSeconds))
	diff("scrape_interval", seconds(a.ScrapeIntervalSeconds), seconds(p.ScrapeIntervalSeconds))
	diff("slo.latency", seconds(a.SLOLatencySeconds), seconds(p.SLOLatencySeconds))
	diff("slo.target", fmt.Sprint(a.SLOTarget), fmt.Sprint(p.SLOTarget))
	diff("min_replicas", fmt.Sprint(a.MinReplicas), fmt.Sprint(p.MinReplicas))
	diff("max_replicas", fmt.Sprint(a.MaxReplicas), fmt.Sprint(p.MaxReplicas))
	diff("concurrency", fmt.Sprint(a.Concurrency), fmt.Sprint(p.Concurrency))
	return ds
}
