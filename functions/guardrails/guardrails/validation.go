package guardrails

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// The Kubernetes syntax rules for the values the function copies into objects,
// checked here so that a mistake fails the build with its origin instead of
// failing at apply time against the API server.
var (
	dnsLabelPattern     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomainPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	labelNamePattern    = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	secretKeyPattern    = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
)

// protocols are the NetworkPolicy port protocols Kubernetes accepts.
var protocols = []string{"TCP", "UDP", "SCTP"}

const defaultProtocol = "TCP"

func isDNSLabel(s string) bool {
	return len(s) <= 63 && dnsLabelPattern.MatchString(s)
}

func isDNSSubdomain(s string) bool {
	return len(s) <= 253 && dnsSubdomainPattern.MatchString(s)
}

func isLabelKey(key string) bool {
	prefix, name, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix {
		name = key
	} else if prefix == "" || !isDNSSubdomain(prefix) {
		return false
	}
	return len(name) <= 63 && labelNamePattern.MatchString(name)
}

func isLabelValue(value string) bool {
	return value == "" || (len(value) <= 63 && labelNamePattern.MatchString(value))
}

// nameSyntax is a Kubernetes name syntax and how error messages describe it.
type nameSyntax struct {
	valid   func(string) bool
	allowed string
}

var (
	dnsLabel     = nameSyntax{isDNSLabel, "lowercase letters, digits and '-', at most 63 characters"}
	dnsSubdomain = nameSyntax{isDNSSubdomain, "lowercase letters, digits, '-' and '.', at most 253 characters"}
)

func (e *FieldErrors) requireName(field, value, what string, syntax nameSyntax) {
	switch {
	case value == "":
		e.add(field, "%s is required", what)
	case !syntax.valid(value):
		e.add(field, "%q is not a valid %s; allowed: %s", value, what, syntax.allowed)
	}
}

// requireLabels checks a label selector's matchLabels. An empty selector would
// select every pod, which is never what a guardrail means.
func (e *FieldErrors) requireLabels(field string, labels map[string]string) {
	if len(labels) == 0 {
		e.add(field, "at least one label is required (an empty selector matches every pod)")
		return
	}
	for _, key := range sortedKeys(labels) {
		if !isLabelKey(key) {
			e.add(field, "%q is not a valid label key; allowed: [prefix/]name, name of at most 63 letters, digits, '-', '_', '.'", key)
		}
		if !isLabelValue(labels[key]) {
			e.add(keyField(field, key), "%q is not a valid label value; allowed: at most 63 letters, digits, '-', '_', '.', starting and ending alphanumeric", labels[key])
		}
	}
}

func (e *FieldErrors) requirePort(field string, port int) {
	if port < 1 || port > 65535 {
		e.add(field, "%d is out of range; allowed values: 1-65535", port)
	}
}

// protocolOrDefault returns the protocol to emit, reporting a value Kubernetes
// would refuse.
func (e *FieldErrors) protocolOrDefault(field, protocol string) string {
	if protocol == "" {
		return defaultProtocol
	}
	if !slices.Contains(protocols, protocol) {
		e.add(field, "%q is not a protocol; allowed values: %s", protocol, strings.Join(protocols, ", "))
	}
	return protocol
}

// requireCIDR accepts only canonical prefixes: Kubernetes refuses host bits in
// an ipBlock, and a prefix of length zero opens the port to every destination.
func (e *FieldErrors) requireCIDR(field, cidr string, allowAnyDestination bool) {
	prefix, err := netip.ParsePrefix(cidr)
	switch {
	case err != nil:
		e.add(field, "%q is not a CIDR; allowed: an IPv4 or IPv6 prefix such as 10.0.0.0/16", cidr)
	case prefix.Masked() != prefix:
		e.add(field, "%q has host bits set; use %s", cidr, prefix.Masked())
	case prefix.Bits() == 0 && !allowAnyDestination:
		e.add(field, "%q opens the port to every destination; set allowAnyDestination: true on the endpoint to allow it", cidr)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// oneOf formats the allowed values of a closed set, or says that none exist.
func oneOf(values []string, none string) string {
	if len(values) == 0 {
		return none
	}
	return "allowed values: " + strings.Join(values, ", ")
}

// keyField renders a map entry in a field path, e.g. endpoints[object-store].
func keyField(field, key string) string {
	return fmt.Sprintf("%s[%s]", field, key)
}
