// Package e2e proves the deployment against a real Kubernetes control plane
// started by internal/testsupport/cluster: what is rendered must be admitted, become
// Available and survive rollouts and node drains.
package e2e
