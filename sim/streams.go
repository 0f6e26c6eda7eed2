package sim

import "math/rand/v2"

// streams are the run's random sources, one per kind of draw, all from Config.Seed:
// arrival gaps, service times, the random balancer's picks and start-up delays. A
// policy changes how many replicas start and in what order requests are served,
// never the draws of another stream, so every policy run with one seed on one
// trace sees the same arrivals, each with the same service time (common random
// numbers), and the difference between two policies is theirs, not the noise's.
type streams struct {
	arrRng, svcRng, lbRng, upRng *rand.Rand
}

// newStreams derives the four streams from seed: one PCG per stream, the seed and a
// stream constant ("arrive", "serve", "route", "start") as its two words.
func newStreams(seed uint64) streams {
	pcg := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream^0x9e3779b97f4a7c15)) }
	return streams{
		arrRng: pcg(0x617272697665), // "arrive"
		svcRng: pcg(0x7365727665),   // "serve"
		lbRng:  pcg(0x726f757465),   // "route"
		upRng:  pcg(0x7374617274),   // "start"
	}
}
