// Package live is the thin production adapter around the policies trained in simulation:
// a controller that reads the policy's inputs from Prometheus each control interval,
// applies the safety rules and scales a workload through a Scaler.
//
// The controller's core (Controller.Step) takes its inputs through small interfaces
// (Querier, Scaler, Clock) so that its safety rules are tested without a backend or
// Prometheus. The backends beside it implement Scaler: live/docker scales a Docker
// Compose service, live/kubernetes a Deployment or StatefulSet. The demo workload (the
// app, a load balancer and a load generator) is in live/workload.
package live
