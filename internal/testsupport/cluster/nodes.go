package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// addFakeNodes registers one node per zone for kwok to play the kubelet of.
// kwok's node stage fills in the rest of the status (conditions, addresses);
// the capacity is given here, as a kubelet registers it, because kwok's
// default has no ephemeral-storage and every container requests some.
func (c *Cluster) addFakeNodes() error {
	manifests := make([]string, 0, len(zones))
	for _, zone := range zones {
		name := "kwok-" + zone
		c.Nodes = append(c.Nodes, name)
		manifests = append(manifests, fmt.Sprintf(`apiVersion: v1
kind: Node
metadata:
  name: %[1]s
  annotations:
    %[3]s: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: %[1]s
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: %[2]s
status:
  capacity: &capacity
    cpu: 1k
    memory: 1Ti
    ephemeral-storage: 1Ti
    pods: 1M
  allocatable: *capacity
`, name, zone, fakeNodeAnnotation))
	}
	path := filepath.Join(c.dir, "nodes.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(manifests, "---\n")), 0o600); err != nil {
		return err
	}
	if _, err := c.ApplyErr("--filename=" + path); err != nil {
		return fmt.Errorf("adding the fake nodes: %w", err)
	}
	return nil
}

// nodesSchedulable is nil once every fake node is Ready and the node controller
// has lifted the taints a new node starts with.
func (c *Cluster) nodesSchedulable() error {
	out, err := c.KubectlErr("get", "nodes", "--output=json")
	if err != nil {
		return err
	}
	var nodes struct {
		Items []struct {
			Metadata struct{ Name string }
			Spec     struct {
				Taints []struct{ Key, Effect string }
			}
			Status struct{ Conditions conditions }
		}
	}
	if err := json.Unmarshal(out, &nodes); err != nil {
		return fmt.Errorf("decoding the node list: %w", err)
	}
	pending := slices.Clone(c.Nodes)
	var reasons []string
	for _, node := range nodes.Items {
		switch {
		case !node.Status.Conditions.isTrue("Ready"):
			reasons = append(reasons, node.Metadata.Name+" is not Ready")
		case len(node.Spec.Taints) > 0:
			reasons = append(reasons, fmt.Sprintf("%s is tainted %v", node.Metadata.Name, node.Spec.Taints))
		default:
			pending = slices.DeleteFunc(pending, func(name string) bool { return name == node.Metadata.Name })
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("nodes %v are not schedulable yet: %s", pending, strings.Join(reasons, "; "))
	}
	return nil
}

// conditions are the status conditions of a node or a pod.
type conditions []struct{ Type, Status string }

func (cs conditions) isTrue(conditionType string) bool {
	return slices.ContainsFunc(cs, func(c struct{ Type, Status string }) bool {
		return c.Type == conditionType && c.Status == "True"
	})
}
