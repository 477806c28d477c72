// Package guardrails is the philotes-guardrails KRM function: it reads the
// guardrails.philotes.io annotations of Deployments and StatefulSets and adds
// the PodDisruptionBudgets, NetworkPolicies and KEDA ScaledObjects that the
// workload's environment requires. README.md one directory up is its contract.
package guardrails

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Only these kinds are guarded: they are what the charts render, and their
// selectors and replicas are where a PDB, a NetworkPolicy and KEDA attach.
var workloadKinds = []string{"Deployment", "StatefulSet"}

const workloadGroup = "apps"

type workload struct {
	node        *yaml.RNode
	ref         yaml.ResourceIdentifier
	kind        string
	namespace   string
	name        string
	annotations map[string]string
	labels      map[string]string
	selector    map[string]string
}

func (w *workload) String() string {
	return objectKey{kind: w.kind, namespace: w.namespace, name: w.name}.String()
}

func (w *workload) guardrail(t objectType, spec any) desiredObject {
	return desiredObject{
		objectType: t,
		namespace:  w.namespace,
		name:       w.name,
		labels:     guardedLabels(w.labels),
		spec:       spec,
		owner:      w.String(),
		ownerRef:   w.ref,
		ownerField: "metadata.name",
	}
}

// autoscaler is an HPA or a ScaledObject already in the input; KEDA refuses a
// second autoscaler on the workload it scales.
type autoscaler struct {
	key                    objectKey
	targetKind, targetName string
}

// change is what the function does to a guarded workload itself.
type change struct {
	node         *yaml.RNode
	enforced     string
	dropReplicas bool
}

type itemInfo struct {
	key       objectKey
	ref       yaml.ResourceIdentifier
	local     bool
	generated bool
	adopt     bool
}

// run holds one invocation's state: the function sees every item once to
// index it, then plans every workload, then writes only when nothing failed.
type run struct {
	policy      *GuardrailPolicy
	policyRef   yaml.ResourceIdentifier
	items       []itemInfo
	workloads   []*workload
	autoscalers []autoscaler
	changes     []change
	desired     map[objectKey]desiredObject
	// denyLabels holds, per namespace that needs a default deny, the labels
	// every guarded workload there shares.
	denyLabels map[string]map[string]string
	results    framework.Results
}

// apply returns the items with every guarded workload's guardrails in place:
// input order first (existing guardrail objects updated where they stand),
// then the added objects sorted by kind, namespace and name. On any problem it
// returns no items and one error result per problem.
// The policy must come from LoadPolicy: defaulted and valid.
func apply(policy *GuardrailPolicy, items []*yaml.RNode) ([]*yaml.RNode, framework.Results) {
	r := &run{
		policy:     policy,
		policyRef:  yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: policy.APIVersion, Kind: policy.Kind}, NameMeta: yaml.NameMeta{Name: policy.Metadata.Name, Namespace: policy.Metadata.Namespace}},
		items:      make([]itemInfo, len(items)),
		desired:    map[objectKey]desiredObject{},
		denyLabels: map[string]map[string]string{},
	}
	for i, item := range items {
		r.items[i] = r.inspect(item)
	}
	for _, w := range r.workloads {
		r.plan(w)
	}
	r.planDefaultDenies()
	r.checkOwnership()
	if r.results.ExitCode() != 0 {
		return nil, r.results
	}
	out, err := r.write(items)
	if err != nil {
		return nil, framework.Results{{Severity: framework.Error, Message: "writing the guardrails: " + err.Error()}}
	}
	return out, r.results
}

func (r *run) fail(ref yaml.ResourceIdentifier, errs FieldErrors) {
	for _, fe := range errs {
		r.results = append(r.results, &framework.Result{
			Severity:    framework.Error,
			ResourceRef: &ref,
			Field:       &framework.Field{Path: fe.Field},
			Message:     fe.Message,
		})
	}
}

func (r *run) inspect(item *yaml.RNode) itemInfo {
	meta, problems := readMetadata(item)
	ref := meta.ref()
	info := itemInfo{key: meta.key(), ref: ref}
	if len(problems) > 0 {
		r.fail(ref, problems)
		return info
	}
	annotations := meta.annotations
	if value, marked := annotations[localConfigAnnotation]; marked && value != "false" {
		info.local = true
		return info
	}
	info.generated = meta.labels[GeneratedByLabel] == GeneratedByValue
	if value, set := annotations[AdoptAnnotation]; set {
		switch value {
		case "true":
			info.adopt = true
		case "false":
		default:
			r.fail(ref, FieldErrors{{Field: annotationField(AdoptAnnotation), Message: fmt.Sprintf("%q is not allowed; allowed values: \"true\", \"false\"", value)}})
		}
	}

	if target := autoscalerTarget(info.key, item); target != nil {
		r.autoscalers = append(r.autoscalers, *target)
	}

	var contract []string
	for key := range annotations {
		if strings.HasPrefix(key, annotationPrefix) && key != AdoptAnnotation {
			contract = append(contract, key)
		}
	}
	if len(contract) == 0 {
		return info
	}
	slices.Sort(contract)
	if info.key.group != workloadGroup || !slices.Contains(workloadKinds, info.key.kind) {
		r.fail(ref, FieldErrors{{Field: annotationField(contract[0]), Message: fmt.Sprintf(
			"guardrails annotations are not read on a %s; allowed kinds: %s (%s/v1)",
			info.key.kind, strings.Join(workloadKinds, ", "), workloadGroup)}})
		return info
	}

	var errs FieldErrors
	for _, key := range contract {
		if !slices.Contains(knownAnnotations, key) {
			errs.add(annotationField(key), "unknown guardrails annotation; allowed: %s", strings.Join(knownAnnotations, ", "))
		}
	}
	_, guarded := annotations[EnvironmentAnnotation]
	if !guarded {
		for _, key := range []string{NetworkAnnotation, ScalingAnnotation, MaxUnavailableAnnotation} {
			if _, set := annotations[key]; set {
				errs.add(annotationField(key), "takes effect only with %s; allowed values there: %s",
					EnvironmentAnnotation, r.policy.EnvironmentNames())
			}
		}
	}
	r.fail(ref, errs)
	if !guarded {
		return info
	}
	r.workloads = append(r.workloads, &workload{
		node:        item,
		ref:         ref,
		kind:        info.key.kind,
		namespace:   info.key.namespace,
		name:        info.key.name,
		annotations: annotations,
		labels:      meta.labels,
	})
	return info
}

// autoscalerTarget reads what an HPA or ScaledObject scales; KEDA defaults the
// target kind to Deployment.
func autoscalerTarget(key objectKey, item *yaml.RNode) *autoscaler {
	isHPA := key.group == "autoscaling" && key.kind == "HorizontalPodAutoscaler"
	isScaledObject := key.group == scaledObjectType.group() && key.kind == scaledObjectType.kind
	if !isHPA && !isScaledObject {
		return nil
	}
	ref := field(field(mapping(item.YNode()), "spec"), "scaleTargetRef")
	if ref == nil {
		return nil
	}
	target := &autoscaler{key: key, targetKind: scalar(field(ref, "kind")), targetName: scalar(field(ref, "name"))}
	if target.targetKind == "" && isScaledObject {
		target.targetKind = "Deployment"
	}
	return target
}

func (r *run) plan(w *workload) {
	var errs FieldErrors
	defer func() { r.fail(w.ref, errs) }()

	env := w.annotations[EnvironmentAnnotation]
	envPolicy, known := r.policy.Spec.Environments[env]
	if !known {
		errs.add(annotationField(EnvironmentAnnotation), "%q is not an environment of the GuardrailPolicy; allowed values: %s", env, r.policy.EnvironmentNames())
		envPolicy = &EnvironmentPolicy{PodDisruptionBudget: ptr(false), NetworkPolicy: ptr(false), KEDA: ptr(false)}
	}

	req := readRequest(w, &errs)
	if *envPolicy.PodDisruptionBudget || *envPolicy.NetworkPolicy {
		w.selector = workloadSelector(w.node, &errs)
	}
	var enforced []string
	if *envPolicy.PodDisruptionBudget {
		r.want(podDisruptionBudget(w, req.maxUnavailable))
		enforced = append(enforced, enforcedPDB)
	}
	if *envPolicy.NetworkPolicy {
		if _, set := w.annotations[NetworkAnnotation]; !set {
			errs.add(annotationField(NetworkAnnotation), "%s requires a NetworkPolicy: declare the traffic this workload needs, or {} for DNS only", env)
		}
		if req.network != nil {
			policy, problems := networkPolicy(w, *req.network, r.policy.Spec.NetworkPolicy)
			errs = append(errs, problems...)
			r.want(policy)
		}
		r.shareDefaultDeny(w)
		enforced = append(enforced, enforcedNetworkPolicy)
	}
	dropReplicas := false
	if *envPolicy.KEDA && req.scaling != nil {
		errs = append(errs, r.competingAutoscalers(w)...)
		r.want(scaledObject(w, *req.scaling, r.policy.Spec.KEDA))
		r.want(triggerAuthentication(w, *req.scaling))
		enforced = append(enforced, enforcedKEDA)
		dropReplicas = true
	}
	if len(enforced) == 0 {
		enforced = []string{enforcedNothing}
	}
	r.changes = append(r.changes, change{node: w.node, enforced: strings.Join(enforced, ","), dropReplicas: dropReplicas})
}

// request is what a workload's annotations ask for; network and scaling are
// nil when absent or invalid.
type request struct {
	maxUnavailable intOrPercent
	network        *network
	scaling        *scaling
}

// readRequest checks every annotation whatever the environment, so that dev
// already fails on what staging and production would refuse.
func readRequest(w *workload, errs *FieldErrors) request {
	req := request{maxUnavailable: intOrPercent{value: defaultMaxUnavailable}}
	if value, set := w.annotations[MaxUnavailableAnnotation]; set {
		var problems FieldErrors
		req.maxUnavailable, problems = parseMaxUnavailable(value)
		*errs = append(*errs, problems...)
	}
	if value, set := w.annotations[NetworkAnnotation]; set {
		traffic, problems := parseNetwork(value)
		*errs = append(*errs, problems...)
		if len(problems) == 0 {
			req.network = &traffic
		}
	}
	if value, set := w.annotations[ScalingAnnotation]; set {
		scale, problems := parseScaling(value)
		*errs = append(*errs, problems...)
		if w.kind != "Deployment" {
			errs.add(annotationField(ScalingAnnotation), "KEDA scales Deployments only; allowed kinds: Deployment")
		} else if len(problems) == 0 {
			req.scaling = &scale
		}
	}
	return req
}

// workloadSelector returns spec.selector.matchLabels, which the PDB and the
// NetworkPolicy copy. matchExpressions are refused rather than dropped: a
// guardrail selecting more pods than the workload would be wrong silently.
func workloadSelector(node *yaml.RNode, e *FieldErrors) map[string]string {
	selector := field(field(mapping(node.YNode()), "spec"), "selector")
	if selector == nil || selector.Kind != yaml.MappingNode {
		e.add("spec.selector.matchLabels", "is required: the PodDisruptionBudget and NetworkPolicy select the workload's pods with it")
		return nil
	}
	if expressions := field(selector, "matchExpressions"); expressions != nil && len(expressions.Content) > 0 {
		e.add("spec.selector.matchExpressions", "is not supported; allowed: spec.selector.matchLabels only")
	}
	labels := stringMap(field(selector, "matchLabels"), "spec.selector.matchLabels", e)
	e.requireLabels("spec.selector.matchLabels", labels)
	return labels
}

func (r *run) competingAutoscalers(w *workload) FieldErrors {
	var errs FieldErrors
	own := objectKey{group: scaledObjectType.group(), kind: scaledObjectType.kind, namespace: w.namespace, name: w.name}
	for _, a := range r.autoscalers {
		if a.key.namespace != w.namespace || a.targetKind != w.kind || a.targetName != w.name || a.key == own {
			continue
		}
		errs.add(annotationField(ScalingAnnotation),
			"%s also scales this workload, and KEDA refuses a second autoscaler; allowed: one autoscaler per workload (remove it, or the scaling annotation, or disable keda for this environment in the GuardrailPolicy)",
			a.key)
	}
	return errs
}

// shareDefaultDeny narrows the namespace's default deny labels to those all of
// its guarded workloads carry: it belongs to all of them.
func (r *run) shareDefaultDeny(w *workload) {
	shared, seen := r.denyLabels[w.namespace]
	if !seen {
		r.denyLabels[w.namespace] = guardedLabels(w.labels)
		return
	}
	for key, value := range shared {
		if key != GeneratedByLabel && w.labels[key] != value {
			delete(shared, key)
		}
	}
}

func (r *run) planDefaultDenies() {
	for _, namespace := range sortedKeys(r.denyLabels) {
		deny := defaultDeny(namespace, r.policy.Spec.NetworkPolicy.DefaultDenyName, r.denyLabels[namespace])
		deny.ownerRef = r.policyRef
		deny.ownerField = "spec.networkPolicy.defaultDenyName"
		r.want(deny)
	}
}

// want records an object to generate; two owners of one name would make the
// output depend on order, so that is an error naming both.
func (r *run) want(d desiredObject) {
	key := d.key()
	if first, taken := r.desired[key]; taken {
		r.fail(d.ownerRef, FieldErrors{{Field: d.ownerField, Message: fmt.Sprintf(
			"%s would be generated for both %s and %s; allowed: one owner per name (rename one of them)", key, first.owner, d.owner)}})
		return
	}
	r.desired[key] = d
}

// checkOwnership refuses to change an object the function did not generate:
// one that has the name of a guardrail it would generate is an error naming
// both, unless the object opts in with the adopt annotation.
func (r *run) checkOwnership() {
	for _, info := range r.items {
		d, wanted := r.desired[info.key]
		if !wanted || info.local || info.generated || info.adopt {
			continue
		}
		r.fail(info.ref, FieldErrors{{Field: "metadata.name", Message: fmt.Sprintf(
			"%s exists and was not generated by %s, which would generate it for %s; allowed: rename or remove it, or annotate it %s: \"true\" to let the function manage it",
			info.key, GeneratedByValue, d.owner, AdoptAnnotation)}})
	}
}

// report adds an Info result: the function took over or removed an object.
func (r *run) report(info itemInfo, message string) {
	ref := info.ref
	r.results = append(r.results, &framework.Result{Severity: framework.Info, ResourceRef: &ref, Message: message})
}

func (r *run) write(items []*yaml.RNode) ([]*yaml.RNode, error) {
	out := make([]*yaml.RNode, 0, len(items)+len(r.desired))
	written := make(map[objectKey]bool, len(r.desired))
	for i, item := range items {
		info := r.items[i]
		if info.local {
			out = append(out, item)
			continue
		}
		if d, wanted := r.desired[info.key]; wanted {
			if written[info.key] {
				continue // a second copy of a guardrail object would be a duplicate
			}
			if err := d.writeOver(item); err != nil {
				return nil, err
			}
			written[info.key] = true
			if !info.generated {
				r.report(info, fmt.Sprintf("adopted (%s): now generated for %s", AdoptAnnotation, d.owner))
			}
		} else if info.generated {
			r.report(info, "removed: generated earlier for a workload or environment that no longer asks for it")
			continue
		}
		out = append(out, item)
	}

	for _, c := range r.changes {
		if err := c.node.PipeE(yaml.SetAnnotation(EnforcedAnnotation, c.enforced)); err != nil {
			return nil, err
		}
		if c.dropReplicas {
			removeField(field(mapping(c.node.YNode()), "spec"), "replicas")
		}
	}

	added := make([]desiredObject, 0, len(r.desired)-len(written))
	for key, d := range r.desired {
		if !written[key] {
			added = append(added, d)
		}
	}
	slices.SortFunc(added, func(a, b desiredObject) int {
		return strings.Compare(a.kind+"\x00"+a.namespace+"\x00"+a.name, b.kind+"\x00"+b.namespace+"\x00"+b.name)
	})
	for _, d := range added {
		node, err := d.node()
		if err != nil {
			return nil, err
		}
		out = append(out, node)
	}
	return out, nil
}
