// Package live is the thin production adapter around the policies trained in simulation:
// a workload service, a load balancer and a load generator for a Docker Compose stack,
// and a controller that reads the policy's features from Prometheus each control
// interval and scales the Compose service through the Docker Engine API.
//
// The controller's core (Controller.Step) takes its inputs through small interfaces
// (Querier, Scaler, Clock) so that its safety rules are tested without Docker or
// Prometheus; the wrappers that talk to the real services live in prom.go and docker.go.
package live
