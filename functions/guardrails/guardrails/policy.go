package guardrails

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	k8syaml "sigs.k8s.io/yaml"
)

// The function config's type; kustomize passes the transformer declaration itself.
const (
	PolicyAPIVersion = "guardrails.philotes.io/v1alpha1"
	PolicyKind       = "GuardrailPolicy"
)

// Defaults documented in README.md; the worker chart's keda.* values use the same.
const (
	DefaultDenyName              = "default-deny"
	DefaultDNSNamespace          = "kube-system"
	DefaultDNSPort               = 53
	DefaultPollingInterval int64 = 30
	DefaultCooldownPeriod  int64 = 300
	DefaultTargetLagBytes  int64 = 1048576
	DefaultActivationLag   int64 = 0
)

func defaultDNSPods() map[string]string { return map[string]string{"k8s-app": "kube-dns"} }

// GuardrailPolicy is the function config.
type GuardrailPolicy struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   PolicyMetadata `json:"metadata"`
	Spec       PolicySpec     `json:"spec"`
}

// PolicyMetadata holds what kustomize puts in a transformer declaration's metadata.
type PolicyMetadata struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// PolicySpec mirrors the umbrella chart's global.networkPolicy and the worker
// chart's keda values, so that one values file can produce both doors' settings.
type PolicySpec struct {
	// Environments says, per environment name, which guardrails it enforces.
	// The function knows no environment of its own: a workload whose
	// environment is not listed here is an error.
	Environments  map[string]*EnvironmentPolicy `json:"environments,omitempty"`
	NetworkPolicy NetworkPolicyConfig           `json:"networkPolicy"`
	KEDA          KEDAConfig                    `json:"keda"`
}

// EnvironmentPolicy says which guardrails an environment enforces; an omitted
// guardrail is not enforced.
type EnvironmentPolicy struct {
	PodDisruptionBudget *bool `json:"podDisruptionBudget,omitempty"`
	NetworkPolicy       *bool `json:"networkPolicy,omitempty"`
	KEDA                *bool `json:"keda,omitempty"`
}

// NetworkPolicyConfig resolves the names the network annotation uses.
type NetworkPolicyConfig struct {
	DefaultDenyName string `json:"defaultDenyName,omitempty"`
	DNS             DNS    `json:"dns"`
	// Namespaces maps the names used in ingress[].from[].namespace to the
	// namespaces' kubernetes.io/metadata.name.
	Namespaces map[string]string   `json:"namespaces,omitempty"`
	Endpoints  map[string]Endpoint `json:"endpoints,omitempty"`
}

// DNS is the cluster DNS every NetworkPolicy lets the workload reach.
type DNS struct {
	Namespace string            `json:"namespace,omitempty"`
	Pods      map[string]string `json:"pods,omitempty"`
	Port      int               `json:"port,omitempty"`
}

// Endpoint is a destination the network annotation names: external by CIDR,
// or pods (in another namespace when Namespace is set).
type Endpoint struct {
	CIDRs               []string          `json:"cidrs,omitempty"`
	Namespace           string            `json:"namespace,omitempty"`
	Pods                map[string]string `json:"pods,omitempty"`
	Port                int               `json:"port"`
	Protocol            string            `json:"protocol,omitempty"`
	AllowAnyDestination bool              `json:"allowAnyDestination,omitempty"`
}

// KEDAConfig tunes the ScaledObjects; pointers tell "unset" from a valid 0.
type KEDAConfig struct {
	PollingInterval    *int64 `json:"pollingInterval,omitempty"`
	CooldownPeriod     *int64 `json:"cooldownPeriod,omitempty"`
	TargetLagBytes     *int64 `json:"targetLagBytes,omitempty"`
	ActivationLagBytes *int64 `json:"activationLagBytes,omitempty"`
}

// Default fills every unset field with the documented default.
func (p *GuardrailPolicy) Default() error {
	if p.Spec.Environments == nil {
		p.Spec.Environments = map[string]*EnvironmentPolicy{}
	}
	for name, enforces := range p.Spec.Environments {
		if enforces == nil {
			enforces = &EnvironmentPolicy{}
			p.Spec.Environments[name] = enforces
		}
		enforces.PodDisruptionBudget = orDefault(enforces.PodDisruptionBudget, ptr(false))
		enforces.NetworkPolicy = orDefault(enforces.NetworkPolicy, ptr(false))
		enforces.KEDA = orDefault(enforces.KEDA, ptr(false))
	}

	np := &p.Spec.NetworkPolicy
	if np.DefaultDenyName == "" {
		np.DefaultDenyName = DefaultDenyName
	}
	if np.DNS.Namespace == "" {
		np.DNS.Namespace = DefaultDNSNamespace
	}
	if len(np.DNS.Pods) == 0 {
		np.DNS.Pods = defaultDNSPods()
	}
	if np.DNS.Port == 0 {
		np.DNS.Port = DefaultDNSPort
	}
	for name, endpoint := range np.Endpoints {
		if endpoint.Protocol == "" {
			endpoint.Protocol = defaultProtocol
			np.Endpoints[name] = endpoint
		}
	}

	k := &p.Spec.KEDA
	k.PollingInterval = orDefault(k.PollingInterval, ptr(DefaultPollingInterval))
	k.CooldownPeriod = orDefault(k.CooldownPeriod, ptr(DefaultCooldownPeriod))
	k.TargetLagBytes = orDefault(k.TargetLagBytes, ptr(DefaultTargetLagBytes))
	k.ActivationLagBytes = orDefault(k.ActivationLagBytes, ptr(DefaultActivationLag))
	return nil
}

// Validate reports every invalid field of a defaulted policy.
func (p *GuardrailPolicy) Validate() error {
	var errs FieldErrors
	if p.APIVersion != PolicyAPIVersion || p.Kind != PolicyKind {
		errs.add("apiVersion/kind", "%s %s is not supported; allowed: apiVersion %s, kind %s",
			p.APIVersion, p.Kind, PolicyAPIVersion, PolicyKind)
	}
	for _, env := range sortedKeys(p.Spec.Environments) {
		errs.requireName(keyField("spec.environments", env), env, "environment name", dnsLabel)
	}

	np := p.Spec.NetworkPolicy
	errs.requireName("spec.networkPolicy.defaultDenyName", np.DefaultDenyName, "NetworkPolicy name", dnsSubdomain)
	errs.requireName("spec.networkPolicy.dns.namespace", np.DNS.Namespace, "namespace name", dnsLabel)
	errs.requireLabels("spec.networkPolicy.dns.pods", np.DNS.Pods)
	errs.requirePort("spec.networkPolicy.dns.port", np.DNS.Port)
	for _, key := range sortedKeys(np.Namespaces) {
		errs.requireName(keyField("spec.networkPolicy.namespaces", key), np.Namespaces[key], "namespace name", dnsLabel)
	}
	for _, name := range sortedKeys(np.Endpoints) {
		np.Endpoints[name].validate(&errs, keyField("spec.networkPolicy.endpoints", name))
	}

	k := p.Spec.KEDA
	requireAtLeast(&errs, "spec.keda.pollingInterval", k.PollingInterval, 1)
	requireAtLeast(&errs, "spec.keda.cooldownPeriod", k.CooldownPeriod, 0)
	requireAtLeast(&errs, "spec.keda.targetLagBytes", k.TargetLagBytes, 1)
	requireAtLeast(&errs, "spec.keda.activationLagBytes", k.ActivationLagBytes, 0)

	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (e Endpoint) validate(errs *FieldErrors, field string) {
	switch {
	case len(e.CIDRs) > 0 && (len(e.Pods) > 0 || e.Namespace != ""):
		errs.add(field, "set either cidrs or pods (with an optional namespace), not both")
	case len(e.CIDRs) > 0:
		for i, cidr := range e.CIDRs {
			errs.requireCIDR(fmt.Sprintf("%s.cidrs[%d]", field, i), cidr, e.AllowAnyDestination)
		}
	case len(e.Pods) > 0:
		errs.requireLabels(field+".pods", e.Pods)
		if e.Namespace != "" {
			errs.requireName(field+".namespace", e.Namespace, "namespace name", dnsLabel)
		}
	default:
		errs.add(field, "a destination is required; allowed: cidrs, or pods with an optional namespace")
	}
	errs.requirePort(field+".port", e.Port)
	errs.protocolOrDefault(field+".protocol", e.Protocol)
}

// LoadPolicy decodes, defaults and validates the function config. A missing
// config means every default, and no environment.
func LoadPolicy(node *yaml.RNode) (*GuardrailPolicy, error) {
	policy := &GuardrailPolicy{APIVersion: PolicyAPIVersion, Kind: PolicyKind}
	if node != nil && !node.IsNilOrEmpty() {
		text, err := node.String()
		if err != nil {
			return nil, FieldErrors{{Field: "functionConfig", Message: err.Error()}}
		}
		data, err := k8syaml.YAMLToJSON([]byte(text))
		if err != nil {
			return nil, FieldErrors{{Field: "functionConfig", Message: err.Error()}}
		}
		if err := decodeStrict(data, policy); err != nil {
			return nil, FieldErrors{{Field: "functionConfig", Message: err.Error()}}
		}
	}
	if err := policy.Default(); err != nil {
		return nil, err
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	return policy, nil
}

func requireAtLeast(errs *FieldErrors, field string, value *int64, minimum int64) {
	if value != nil && *value < minimum {
		errs.add(field, "%d is out of range; allowed values: %d or more", *value, minimum)
	}
}

func ptr[T any](v T) *T { return &v }

func orDefault[T any](value, fallback *T) *T {
	if value != nil {
		return value
	}
	return ptr(*fallback)
}

// EnvironmentNames lists the configured environments for messages: sorted, or
// a note that there is none.
func (p *GuardrailPolicy) EnvironmentNames() string {
	if len(p.Spec.Environments) == 0 {
		return "none (spec.environments of the GuardrailPolicy is empty)"
	}
	return strings.Join(sortedKeys(p.Spec.Environments), ", ")
}
