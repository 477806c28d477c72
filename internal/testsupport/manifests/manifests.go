// Package manifests reads the multi-document YAML that `helm template` and
// `kustomize build` print into kyaml RNodes, and finds objects in it, so that
// tests of charts, overlays and rendered manifests query objects the same way.
package manifests

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// Objects are Kubernetes objects in the order they were read.
type Objects []*yaml.RNode

// Parse reads multi-document YAML. Empty documents (a template that rendered
// nothing, comments only) are skipped; a document that is not a Kubernetes
// object (no apiVersion or kind) is an error naming its position.
func Parse(data []byte) (Objects, error) {
	nodes, err := (&kio.ByteReader{
		Reader:                bytes.NewReader(data),
		OmitReaderAnnotations: true,
		// A `kind: List` stays one object, as kubectl would see it in a file.
		DisableUnwrapping: true,
	}).Read()
	if err != nil {
		return nil, fmt.Errorf("parsing manifests: %w", err)
	}
	for i, node := range nodes {
		if node.GetApiVersion() == "" || node.GetKind() == "" {
			return nil, fmt.Errorf("parsing manifests: document %d is not a Kubernetes object (apiVersion %q, kind %q)",
				i+1, node.GetApiVersion(), node.GetKind())
		}
	}
	return nodes, nil
}

// OfKind returns the objects of one kind, in order.
func (o Objects) OfKind(kind string) Objects {
	var matched Objects
	for _, node := range o {
		if node.GetKind() == kind {
			matched = append(matched, node)
		}
	}
	return matched
}

// Find returns the object of a kind and name, or nil when there is none.
func (o Objects) Find(kind, name string) *yaml.RNode {
	for _, node := range o {
		if node.GetKind() == kind && node.GetName() == name {
			return node
		}
	}
	return nil
}

// Names returns the names of the objects, in order.
func (o Objects) Names() []string {
	names := make([]string, len(o))
	for i, node := range o {
		names[i] = node.GetName()
	}
	return names
}

// IDs returns "Kind/name" of every object, sorted: a readable summary for
// failure messages.
func (o Objects) IDs() []string {
	ids := make([]string, len(o))
	for i, node := range o {
		ids[i] = ID(node)
	}
	slices.Sort(ids)
	return ids
}

// ID is "Kind/name" of an object.
func ID(node *yaml.RNode) string {
	return node.GetKind() + "/" + node.GetName()
}

// Workloads are the kinds whose objects carry a pod template.
var Workloads = []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}

// PodSpec returns the pod spec of a workload (or of a Pod), or nil for
// another kind.
func PodSpec(node *yaml.RNode) *yaml.RNode {
	switch node.GetKind() {
	case "Pod":
		return Lookup(node, "spec")
	case "CronJob":
		return Lookup(node, "spec", "jobTemplate", "spec", "template", "spec")
	}
	if slices.Contains(Workloads, node.GetKind()) {
		return Lookup(node, "spec", "template", "spec")
	}
	return nil
}

// Containers returns the init containers and containers of a pod spec.
func Containers(podSpec *yaml.RNode) []*yaml.RNode {
	var containers []*yaml.RNode
	for _, field := range []string{"initContainers", "containers"} {
		if list := Lookup(podSpec, field); list != nil {
			items, _ := list.Elements()
			containers = append(containers, items...)
		}
	}
	return containers
}

// Lookup returns the node at a path of field names, or nil when a field is
// missing. Field names are taken whole, so label keys with dots work.
func Lookup(node *yaml.RNode, fields ...string) *yaml.RNode {
	if node == nil {
		return nil
	}
	found, err := node.Pipe(yaml.Lookup(fields...))
	if err != nil {
		return nil
	}
	return found
}

// String returns the scalar at a path, or "" when it is missing.
func String(node *yaml.RNode, fields ...string) string {
	found := Lookup(node, fields...)
	if found == nil || found.YNode().Kind != yaml.ScalarNode {
		return ""
	}
	return found.YNode().Value
}

// StringMap returns the map of scalars at a path (labels, a ConfigMap's data),
// or nil when it is missing.
func StringMap(node *yaml.RNode, fields ...string) map[string]string {
	found := Lookup(node, fields...)
	if found == nil || found.YNode().Kind != yaml.MappingNode {
		return nil
	}
	values := map[string]string{}
	content := found.YNode().Content
	for i := 0; i+1 < len(content); i += 2 {
		values[content[i].Value] = content[i+1].Value
	}
	return values
}

// Decode converts the node at a path into v through JSON field names, as
// Kubernetes clients do: declare small structs for the fields a test reads.
func Decode(node *yaml.RNode, v any, fields ...string) error {
	found := Lookup(node, fields...)
	if found == nil {
		return fmt.Errorf("%s has no %s", ID(node), strings.Join(fields, "."))
	}
	text, err := found.String()
	if err != nil {
		return fmt.Errorf("%s %s: %w", ID(node), strings.Join(fields, "."), err)
	}
	if err := sigsyaml.Unmarshal([]byte(text), v); err != nil {
		return fmt.Errorf("%s %s: %w", ID(node), strings.Join(fields, "."), err)
	}
	return nil
}

// clusterScoped are the built-in kinds that live outside namespaces.
var clusterScoped = []string{
	"APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding",
	"CSIDriver", "CSINode", "CustomResourceDefinition", "FlowSchema", "IngressClass",
	"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration",
	"Namespace", "Node", "PersistentVolume", "PriorityClass", "PriorityLevelConfiguration",
	"RuntimeClass", "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
	"ValidatingWebhookConfiguration", "VolumeAttachment",
	// Cluster-wide kinds of the operators Philotes integrates with.
	"ClusterTriggerAuthentication", "ClusterIssuer",
}

// Namespaced reports whether objects of a kind belong in a namespace. Kinds
// not known to be cluster-scoped count as namespaced, so a new kind is checked
// rather than silently skipped.
func Namespaced(kind string) bool {
	return !slices.Contains(clusterScoped, kind)
}

// Encode writes objects back as multi-document YAML in a stable form (kyaml's
// formatting, keys as written), e.g. for snapshot files.
func Encode(o Objects) ([]byte, error) {
	var out bytes.Buffer
	err := kio.ByteWriter{Writer: &out}.Write(o)
	if err != nil {
		return nil, fmt.Errorf("encoding manifests: %w", err)
	}
	return out.Bytes(), nil
}
