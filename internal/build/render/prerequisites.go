package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// allKeys stands for a Secret read whole (envFrom, a volume): every key it holds.
const allKeys = "(every key it holds)"

// prerequisites is what an environment's manifests need from the cluster before the
// first sync, and what is there once it is Ready, read from the rendered objects.
type prerequisites struct {
	// crds names the CRD of every custom kind, sorted.
	crds []string
	// secrets maps each Secret the objects read but do not create to its keys.
	secrets   map[string][]string
	workloads []workload // in the order of the manifests
	jobs      []string
}

// workload is a Deployment or StatefulSet.
type workload struct{ kind, name string }

func (w workload) String() string { return w.kind + "/" + w.name }

// UnmetSecrets are the Secrets, with their keys, that manifests read but
// neither render nor have an ExternalSecret produce: what must exist before
// they are applied.
func UnmetSecrets(manifests []byte) (map[string][]string, error) {
	p, err := readPrerequisites(Environment{Name: "manifests", Manifests: manifests})
	return p.secrets, err
}

func readPrerequisites(env Environment) (prerequisites, error) {
	nodes, err := kio.FromBytes(env.Manifests)
	if err != nil {
		return prerequisites{}, fmt.Errorf("%s: %w", env.Name, err)
	}
	p := prerequisites{secrets: map[string][]string{}}
	rendered := map[string]bool{}
	// produced maps each Secret an ExternalSecret writes to the keys it writes.
	produced := map[string][]string{}
	for _, n := range nodes {
		if crd := customResourceDefinition(n); crd != "" && !slices.Contains(p.crds, crd) {
			p.crds = append(p.crds, crd)
		}
		switch n.GetKind() {
		case "Secret":
			rendered[n.GetName()] = true
		case "ExternalSecret":
			// Merge and None write into a Secret that must already exist, or write nothing.
			if policy, _ := n.Pipe(yaml.Lookup("spec", "target", "creationPolicy")); policy != nil && yaml.GetValue(policy) != "Owner" && yaml.GetValue(policy) != "Orphan" {
				break
			}
			target, _ := n.Pipe(yaml.Lookup("spec", "target", "name"))
			name := n.GetName()
			if target != nil {
				name = yaml.GetValue(target)
			}
			data, _ := n.Pipe(yaml.Lookup("spec", "data"))
			for _, entry := range elements(data) {
				produced[name] = append(produced[name], scalar(entry, "secretKey"))
			}
		case "Deployment", "StatefulSet":
			p.workloads = append(p.workloads, workload{kind: n.GetKind(), name: n.GetName()})
		case "Job":
			p.jobs = append(p.jobs, n.GetName())
		case "Ingress":
			tls, _ := n.Pipe(yaml.Lookup("spec", "tls"))
			for _, entry := range elements(tls) {
				if name := scalar(entry, "secretName"); name != "" {
					p.need(name, "tls.crt", "tls.key")
				}
			}
		}
		p.readReferences(n.YNode())
	}
	for name, keys := range p.secrets {
		// What an ExternalSecret writes is there; a key it lacks is still needed.
		keys = slices.DeleteFunc(keys, func(key string) bool { return slices.Contains(produced[name], key) })
		if rendered[name] || len(keys) == 0 {
			delete(p.secrets, name)
		} else {
			p.secrets[name] = keys
		}
	}
	slices.Sort(p.crds)
	return p, nil
}

// customResourceDefinition names the CRD of an object of a custom kind, or is
// empty. Kubernetes' own API groups have no dot or are builtInGroups; a CRD is
// named <plural>.<group>, and the custom kinds the charts render all take the
// lowercase kind plus "s" (a test compares the names with the CRDs themselves).
func customResourceDefinition(n *yaml.RNode) string {
	group, _, hasGroup := strings.Cut(n.GetApiVersion(), "/")
	if !hasGroup || !strings.Contains(group, ".") || slices.Contains(builtInGroups, group) {
		return ""
	}
	return strings.ToLower(n.GetKind()) + "s." + group
}

// builtInGroups are the API groups with a dot that kube-apiserver serves itself. Not every
// *.k8s.io group is one: gateway.networking.k8s.io, for one, comes with its CRDs.
var builtInGroups = []string{
	"admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
	"authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io", "coordination.k8s.io",
	"discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io",
	"networking.k8s.io", "node.k8s.io", "rbac.authorization.k8s.io", "resource.k8s.io",
	"scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
}

func (p *prerequisites) need(name string, keys ...string) {
	for _, key := range keys {
		if !slices.Contains(p.secrets[name], key) {
			p.secrets[name] = append(p.secrets[name], key)
		}
	}
}

// readReferences finds every Secret reference below node: a container's
// secretKeyRef and envFrom secretRef, a pod's secret volume, and KEDA's
// secretTargetRef.
func (p *prerequisites) readReferences(node *yaml.Node) {
	switch node.Kind {
	case yaml.SequenceNode:
		for _, item := range node.Content {
			p.readReferences(item)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i].Value, yaml.NewRNode(node.Content[i+1])
			switch key {
			case "secretKeyRef":
				p.need(scalar(value, "name"), scalar(value, "key"))
			case "secretRef":
				if name := scalar(value, "name"); name != "" {
					p.need(name, allKeys)
				}
			case "secret":
				if name := scalar(value, "secretName"); name != "" {
					p.need(name, allKeys)
				}
			case "secretTargetRef":
				for _, ref := range elements(value) {
					p.need(scalar(ref, "name"), scalar(ref, "key"))
				}
			}
			p.readReferences(node.Content[i+1])
		}
	}
}

func elements(list *yaml.RNode) []*yaml.RNode {
	if list == nil || list.YNode().Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.RNode, 0, len(list.YNode().Content))
	for _, item := range list.YNode().Content {
		out = append(out, yaml.NewRNode(item))
	}
	return out
}

func scalar(n *yaml.RNode, field string) string {
	if n == nil || n.YNode().Kind != yaml.MappingNode {
		return ""
	}
	value := n.Field(field)
	if value == nil {
		return ""
	}
	return value.Value.YNode().Value
}

// prerequisitesTable is the Markdown of every environment's prerequisites and
// Ready state; tables[i] is what readPrerequisites read of envs[i].
func prerequisitesTable(envs []Environment, tables []prerequisites) string {
	var b strings.Builder
	b.WriteString("| environment | CRDs that must be installed | Secrets that must exist in the namespace (keys) | Ready: available workloads, completed Jobs |\n|---|---|---|---|\n")
	for i, env := range envs {
		p := tables[i]
		var secrets []string
		for _, name := range slices.Sorted(maps.Keys(p.secrets)) {
			keys := p.secrets[name]
			slices.Sort(keys)
			secrets = append(secrets, fmt.Sprintf("`%s` (%s)", name, strings.Join(keys, ", ")))
		}
		var workloads []string
		for _, w := range p.workloads {
			workloads = append(workloads, w.String())
		}
		fmt.Fprintf(&b, "| %s (`%s`) | %s | %s | %s; Jobs %s |\n", env.Name, env.Namespace,
			orNone(strings.Join(quoted(p.crds), ", ")), orNone(strings.Join(secrets, "<br>")), strings.Join(quoted(workloads), ", "), strings.Join(quoted(jobBases(p.jobs)), ", "))
	}
	return b.String()
}

// jobBases drops the hash suffix of the Jobs' names, which changes with their spec.
func jobBases(jobs []string) []string {
	out := make([]string, 0, len(jobs))
	for _, job := range jobs {
		if i := strings.LastIndex(job, "-"); i > 0 {
			job = job[:i] + "-…"
		}
		out = append(out, job)
	}
	return out
}

func quoted(items []string) []string {
	out := make([]string, len(items))
	for i, item := range items {
		out[i] = "`" + item + "`"
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
