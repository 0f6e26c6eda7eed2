package features

import (
	"slices"
	"testing"
)

// TestSpecHide: with nothing hidden, Hide hands back obs itself; otherwise a copy
// with the hidden entries 0 and obs untouched, without allocating once dst has room.
func TestSpecHide(t *testing.T) {
	s := Default(0.5)
	obs := make([]float64, len(s.Features))
	for i := range obs {
		obs[i] = float64(i + 1)
	}
	if got := s.Hide(nil, obs); &got[0] != &obs[0] || s.AnyHidden() {
		t.Fatal("nothing hidden: Hide should return obs itself")
	}
	s.Features = slices.Clone(s.Features)
	r, p := slices.Index(s.Names(), "ready"), slices.Index(s.Names(), "provisioning")
	s.Features[r].Hidden, s.Features[p].Hidden = true, true
	dst := make([]float64, 0, len(obs))
	got := s.Hide(dst, obs)
	for i, v := range got {
		want := obs[i]
		if i == r || i == p {
			want = 0
		}
		if v != want || obs[i] != float64(i+1) {
			t.Fatalf("feature %d: %v (obs %v), want %v", i, v, obs[i], want)
		}
	}
	if a := testing.AllocsPerRun(50, func() { dst = s.Hide(dst, obs) }); a != 0 {
		t.Fatalf("Hide allocates %v times", a)
	}
}
