// Package elasticity defines how well supply tracks demand: the demand a service
// needs (from queueing theory) and the SPEC Research Group elasticity metrics,
// responsiveness, scaling accuracy and SLO figures computed from a run's timeline.
// It is pure arithmetic: no I/O, no randomness. METRICS.md gives every formula.
package elasticity

// Queue describes the service for demand: how many ready replicas a rate needs.
type Queue struct {
	ServiceMean float64 // mean service time of one request, seconds
	ServiceSCV  float64 // squared coefficient of variation of service time (1 for exponential)
	Slots       int     // worker slots per replica
	SLOLatency  float64 // seconds: a response slower than this violates the SLO
	SLOTarget   float64 // share of requests that must meet SLOLatency, e.g. 0.95
	MaxReplicas int     // returned when even this many do not meet the SLO
}

// Demand returns d, the fewest ready replicas that meet the SLO at arrival rate
// rate (requests per second); 0 when rate is 0.
func Demand(q Queue, rate float64) int { panic("unimplemented") }

// Series is a run's timeline as the metrics need it: one entry per control interval.
type Series struct {
	Interval float64 // seconds per entry
	Demand   []int   // d_t
	Supply   []int   // s_t: ready replicas during interval t
	Desired  []int   // the autoscaler's decision at the end of interval t
	// Totals over the run.
	Requests   int64   // arrived
	Violations int64   // completed slower than the SLO plus dropped
	Dropped    int64   // dropped
	Cost       float64 // accrued cost
}

// Summary holds the figures of one run. Percentages are in [0, 100].
type Summary struct {
	ThetaU, ThetaO float64 // SPEC under/over-provisioning accuracy, percent of demand
	TauU, TauO     float64 // SPEC under/over-provisioning timeshare, percent of time
	Instability    float64 // SPEC instability k, percent of time
	ScalingActions int     // number of changes of the desired count

	UnderProvisionSeconds float64 // mean length of an under-provisioned episode, seconds
	TimeToMeetDemand      float64 // mean seconds from a demand rise until supply meets it
	Accuracy              float64 // percent of intervals with d <= s <= d+1

	SLOViolations float64 // percent of requests slower than the SLO or dropped
	DropRate      float64 // percent of requests dropped
	P50, P95, P99 float64 // response-time quantiles over the run, seconds (filled by sim)
	Cost          float64 // total cost (replica-hours at the default price)
}

// Compute returns the summary of s (latency quantiles left zero).
func Compute(s Series) Summary { panic("unimplemented") }
