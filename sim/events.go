package sim

// Event kinds. Arrivals are not queued: the simulator keeps the single next arrival
// aside and compares its time with the head of the queue.
const (
	evDone     uint8 = iota // a request finishes service (idx: request)
	evTimeout               // a request in service reaches its deadline (idx: request)
	evReady                 // a Provisioning replica becomes Ready (idx: replica)
	evDrainEnd              // a Draining replica's grace period ends (idx: replica)
)

// event is one scheduled occurrence. gen guards replica events against a replica
// slot that was cancelled or reused since the event was scheduled.
type event struct {
	t    int64  // virtual time, ns
	seq  uint64 // scheduling order: breaks ties in t identically on every run
	idx  int32
	gen  uint32
	kind uint8
}

func (a *event) before(b *event) bool {
	return a.t < b.t || (a.t == b.t && a.seq < b.seq)
}

// eventQueue is a binary min-heap of events ordered by (t, seq). It is written out
// rather than built on container/heap to avoid boxing each event in an interface.
type eventQueue []event

func (q *eventQueue) push(e event) {
	h := append(*q, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *eventQueue) pop() event {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r].before(&h[l]) {
			c = r
		}
		if !h[c].before(&h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	*q = h
	return top
}
