package policy

import (
	"errors"
	"fmt"
	"reflect"
)

// Ensemble returns one policy deciding by a vote (Policy.Vote: "" or VoteMedian,
// VoteCautious) of the greedy actions of the networks of ps (Act): typically one
// training configuration run with several seeds, deployed as one policy instead of
// one seed. The policies must agree on everything but their networks, observation
// statistics and training records: features, actions (in increasing order), action
// mode, shield, headroom scale and simulator; an error about one of them is a
// *MemberError. The ensemble's Network, Normaliser and Training are those of
// ps[0]; every further network, ensembles' members included, becomes a Member, and
// vote replaces theirs. ps are not modified.
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

// compatible reports how p's decisions would differ from a's other than by their
// networks (nil when they can form an ensemble).
func compatible(a, p *Policy) error {
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
		return fmt.Errorf("it was trained on another simulator (%+v) than the first policy (%+v)", p.Sim, a.Sim)
	}
	return nil
}
