// Package bench holds the render benchmarks: every environment through the
// Kustomize door and the Helm door beside bare `helm template` of the same
// charts and values, the guardrail function on each environment's rendering,
// and the cost of a growing fleet of worker sources. `make bench` runs them
// and docs/benchmarks.md shows the results.
package bench
