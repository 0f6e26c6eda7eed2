package policy

import (
	"slices"
	"strings"
	"testing"
)

// A policy file holding an ensemble that Ensemble would not have made (a network
// of another algorithm, or one network twice, which counts twice in the vote) is
// refused when read, though its checksum holds, naming the member.
func TestReadRefusesAnEnsembleEnsembleWouldNotMake(t *testing.T) {
	clone := func(n Network) Network {
		return Network{Sizes: slices.Clone(n.Sizes), Activation: n.Activation, Params: slices.Clone(n.Params)}
	}
	cases := []struct {
		name   string
		tamper func(p *Policy)
		want   string
	}{
		{"a member of another algorithm", func(p *Policy) { p.Members[1].Algorithm = "dqn" },
			`policy: members[1].algorithm "dqn": the policy's network is of algorithm ppo`},
		{"a member repeating the network", func(p *Policy) { p.Members[1].Network = clone(p.Network) },
			"policy: members[1].network: the same as network: the same training twice"},
		{"a member repeating a member", func(p *Policy) { p.Members[1].Network = clone(p.Members[0].Network) },
			"policy: members[1].network: the same as members[0].network: the same training twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := testEnsemble(t, 1, 2, 3)
			if _, err := Unmarshal(mustMarshal(t, e)); err != nil {
				t.Fatalf("the ensemble as made: %v", err)
			}
			c.tamper(e)
			sum, err := e.ComputeChecksum()
			if err != nil {
				t.Fatal(err)
			}
			e.Checksum = sum
			b, err := marshalUnchecked(e)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Unmarshal(b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v\nwant it to contain %q", err, c.want)
			}
			if err := e.Validate(); err == nil {
				t.Errorf("Validate accepts it")
			}
		})
	}
}

func mustMarshal(t *testing.T, p *Policy) []byte {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
