package guardrails

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The annotation contract (README.md documents it for the charts).
const (
	annotationPrefix         = "guardrails.philotes.io/"
	EnvironmentAnnotation    = annotationPrefix + "environment"
	NetworkAnnotation        = annotationPrefix + "network"
	ScalingAnnotation        = annotationPrefix + "scaling"
	MaxUnavailableAnnotation = annotationPrefix + "max-unavailable"
	// EnforcedAnnotation is written by the function; the overlays fail the
	// build when a workload lacks it, which catches a build without --enable-exec.
	EnforcedAnnotation = annotationPrefix + "enforced"
	GeneratedByLabel   = annotationPrefix + "generated-by"
	GeneratedByValue   = "philotes-guardrails"
	// AdoptAnnotation "true" on an object the function did not generate lets it
	// take the object over when it would generate one of the same name; without
	// it, that collision is an error.
	AdoptAnnotation = annotationPrefix + "adopt"

	localConfigAnnotation = "config.kubernetes.io/local-config"
)

var knownAnnotations = []string{
	EnvironmentAnnotation, NetworkAnnotation, ScalingAnnotation, MaxUnavailableAnnotation, EnforcedAnnotation, AdoptAnnotation,
}

// The names the enforced annotation lists, in the order it lists them.
const (
	enforcedPDB           = "pdb"
	enforcedNetworkPolicy = "networkpolicy"
	enforcedKEDA          = "keda"
	enforcedNothing       = "none"
)

func annotationField(key string) string {
	return "metadata.annotations[" + key + "]"
}

// decodeAnnotation decodes a JSON annotation; a value that does not decode is
// reported on the annotation as a whole.
func decodeAnnotation[T any](key, value string) (T, FieldErrors) {
	var decoded T
	if err := decodeStrict([]byte(value), &decoded); err != nil {
		return decoded, FieldErrors{{Field: annotationField(key), Message: err.Error()}}
	}
	return decoded, nil
}

// network is the guardrails.philotes.io/network annotation: the traffic a
// workload needs, by name; the config resolves the names.
type network struct {
	Ingress []ingressRule `json:"ingress,omitempty"`
	Egress  []egressRule  `json:"egress,omitempty"`
}

type ingressRule struct {
	Port     int           `json:"port"`
	Protocol string        `json:"protocol,omitempty"`
	From     []ingressPeer `json:"from"`
}

type ingressPeer struct {
	Namespace string            `json:"namespace,omitempty"`
	Pods      map[string]string `json:"pods,omitempty"`
}

type egressRule struct {
	Endpoint string            `json:"endpoint,omitempty"`
	Pods     map[string]string `json:"pods,omitempty"`
	Port     int               `json:"port,omitempty"`
	Protocol string            `json:"protocol,omitempty"`
}

// parseNetwork decodes and checks the annotation on its own; names are
// resolved against the config only where a NetworkPolicy is generated.
func parseNetwork(value string) (network, FieldErrors) {
	n, errs := decodeAnnotation[network](NetworkAnnotation, value)
	if len(errs) > 0 {
		return n, errs
	}
	field := annotationField(NetworkAnnotation)
	for i := range n.Ingress {
		rule := &n.Ingress[i]
		at := fmt.Sprintf("%s.ingress[%d]", field, i)
		errs.requirePort(at+".port", rule.Port)
		rule.Protocol = errs.protocolOrDefault(at+".protocol", rule.Protocol)
		if len(rule.From) == 0 {
			errs.add(at+".from", "at least one peer is required; an ingress rule without peers would open the port to every source")
		}
		for j, peer := range rule.From {
			peerAt := fmt.Sprintf("%s.from[%d]", at, j)
			switch {
			case peer.Namespace != "" && peer.Pods != nil:
				errs.add(peerAt, "set either namespace or pods, not both")
			case peer.Namespace != "":
			case peer.Pods != nil:
				errs.requireLabels(peerAt+".pods", peer.Pods)
			default:
				errs.add(peerAt, "a peer is required; allowed: namespace (a key of the config's networkPolicy.namespaces) or pods (labels)")
			}
		}
	}
	for i := range n.Egress {
		rule := &n.Egress[i]
		at := fmt.Sprintf("%s.egress[%d]", field, i)
		switch {
		case rule.Endpoint != "" && rule.Pods != nil:
			errs.add(at, "set either endpoint or pods, not both")
		case rule.Endpoint != "":
			if rule.Port != 0 || rule.Protocol != "" {
				errs.add(at, "port and protocol of an endpoint come from the config's networkPolicy.endpoints[%s]; remove them here", rule.Endpoint)
			}
		case rule.Pods != nil:
			errs.requireLabels(at+".pods", rule.Pods)
			errs.requirePort(at+".port", rule.Port)
			rule.Protocol = errs.protocolOrDefault(at+".protocol", rule.Protocol)
		default:
			errs.add(at, "a destination is required; allowed: endpoint (a key of the config's networkPolicy.endpoints) or pods (labels) with port")
		}
	}
	return n, errs
}

// scaling is the guardrails.philotes.io/scaling annotation of a replication worker.
type scaling struct {
	Type           string        `json:"type"`
	Slot           string        `json:"slot"`
	Host           string        `json:"host"`
	Port           int           `json:"port"`
	Database       string        `json:"database"`
	User           string        `json:"user"`
	SSLMode        string        `json:"sslmode"`
	PasswordSecret *secretKeyRef `json:"passwordSecret"`
}

type secretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

const replicationSlotScaling = "replication-slot"

var (
	// The slot name is spliced into the scaler's SQL: only PostgreSQL's own
	// slot-name alphabet may pass.
	slotPattern = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	sslModes    = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
)

func parseScaling(value string) (scaling, FieldErrors) {
	s, errs := decodeAnnotation[scaling](ScalingAnnotation, value)
	if len(errs) > 0 {
		return s, errs
	}
	field := annotationField(ScalingAnnotation)
	if s.Type != replicationSlotScaling {
		errs.add(field+".type", "%q is not a scaling type; allowed values: %s", s.Type, replicationSlotScaling)
	}
	if !slotPattern.MatchString(s.Slot) {
		errs.add(field+".slot", "%q is not a replication slot name; allowed: 1-63 of a-z, 0-9 and _", s.Slot)
	}
	requireText(&errs, field+".host", s.Host, "the source database host")
	errs.requirePort(field+".port", s.Port)
	requireText(&errs, field+".database", s.Database, "the source database name")
	requireText(&errs, field+".user", s.User, "the database user")
	if !slices.Contains(sslModes, s.SSLMode) {
		errs.add(field+".sslmode", "%q is not an sslmode; allowed values: %s", s.SSLMode, strings.Join(sslModes, ", "))
	}
	if s.PasswordSecret == nil {
		errs.add(field+".passwordSecret", "the Secret holding the password is required: {\"name\": ..., \"key\": ...}")
	} else {
		errs.requireName(field+".passwordSecret.name", s.PasswordSecret.Name, "Secret name", dnsSubdomain)
		if len(s.PasswordSecret.Key) > 253 || !secretKeyPattern.MatchString(s.PasswordSecret.Key) {
			errs.add(field+".passwordSecret.key", "%q is not a Secret key; allowed: letters, digits, '-', '_', '.'", s.PasswordSecret.Key)
		}
	}
	return s, errs
}

func requireText(errs *FieldErrors, field, value, what string) {
	if strings.TrimSpace(value) == "" || strings.ContainsAny(value, " \t\r\n") {
		errs.add(field, "%q: %s is required, without whitespace", value, what)
	}
}

// intOrPercent is a PodDisruptionBudget IntOrString: an int must be emitted as
// an int, since the API reads a string as a percentage.
type intOrPercent struct {
	value   int
	percent bool
}

func (v intOrPercent) yamlNode() *yaml.Node {
	if v.percent {
		return yaml.NewStringRNode(strconv.Itoa(v.value) + "%").YNode()
	}
	return intNode(int64(v.value))
}

const defaultMaxUnavailable = 1

var (
	countPattern   = regexp.MustCompile(`^[1-9][0-9]{0,8}$`)
	percentPattern = regexp.MustCompile(`^([1-9][0-9]?|100)%$`)
)

// parseMaxUnavailable refuses 0 and 0%: either would block every node drain.
func parseMaxUnavailable(value string) (intOrPercent, FieldErrors) {
	switch {
	case countPattern.MatchString(value):
		n, _ := strconv.Atoi(value)
		return intOrPercent{value: n}, nil
	case percentPattern.MatchString(value):
		n, _ := strconv.Atoi(strings.TrimSuffix(value, "%"))
		return intOrPercent{value: n, percent: true}, nil
	}
	return intOrPercent{}, FieldErrors{{
		Field:   annotationField(MaxUnavailableAnnotation),
		Message: fmt.Sprintf("%q is not allowed; allowed values: a positive integer (e.g. 1) or a percentage from 1%% to 100%%", value),
	}}
}
