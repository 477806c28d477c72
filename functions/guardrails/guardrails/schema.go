package guardrails

import (
	"reflect"
	"strings"
)

// policyPlural names the config kind in the definition's name, as a CRD would.
const policyPlural = "guardrailpolicies"

// FunctionDefinitionPath is where the published definition of the function config lives,
// relative to the repository root; `make generate` writes it and `make verify` checks it.
const FunctionDefinitionPath = "functions/guardrails/krm-function-definition.yaml"

// schemaConstraints are what the Go types cannot say, by the JSON path of the field ("*" for
// any map key); the values come from the same constants Validate uses.
var schemaConstraints = map[string]map[string]any{
	"apiVersion":                               {"enum": []string{PolicyAPIVersion}},
	"kind":                                     {"enum": []string{PolicyKind}},
	"spec.environments":                        {"propertyNames": map[string]any{"pattern": dnsLabelPattern.String(), "maxLength": 63}},
	"spec.networkPolicy.defaultDenyName":       {"pattern": dnsSubdomainPattern.String(), "maxLength": 253},
	"spec.networkPolicy.dns.namespace":         {"pattern": dnsLabelPattern.String(), "maxLength": 63},
	"spec.networkPolicy.dns.port":              {"minimum": 1, "maximum": 65535},
	"spec.networkPolicy.namespaces.*":          {"pattern": dnsLabelPattern.String(), "maxLength": 63},
	"spec.networkPolicy.endpoints.*.namespace": {"pattern": dnsLabelPattern.String(), "maxLength": 63},
	"spec.networkPolicy.endpoints.*.port":      {"minimum": 1, "maximum": 65535},
	"spec.networkPolicy.endpoints.*.protocol":  {"enum": protocols},
	"spec.networkPolicy.endpoints.*.cidrs":     {"minItems": 1},
	"spec.keda.pollingInterval":                {"minimum": 1},
	"spec.keda.cooldownPeriod":                 {"minimum": 0},
	"spec.keda.targetLagBytes":                 {"minimum": 1},
	"spec.keda.activationLagBytes":             {"minimum": 0},
}

// ConfigSchema is the OpenAPI v3 schema of GuardrailPolicy, derived from its Go types: every
// object closed (the function refuses unknown fields), scalar fields without omitempty
// required, and the constraints above. Values the schema cannot express (CIDRs without host
// bits, label syntax) are still the function's to refuse.
func ConfigSchema() map[string]any {
	return typeSchema(reflect.TypeFor[GuardrailPolicy](), "")
}

func typeSchema(t reflect.Type, path string) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var schema map[string]any
	switch t.Kind() {
	case reflect.Struct:
		properties := map[string]any{}
		var required []string
		for i := range t.NumField() {
			field := t.Field(i)
			name, options, _ := strings.Cut(field.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			properties[name] = typeSchema(field.Type, join(path, name))
			if !strings.Contains(options, "omitempty") && field.Type.Kind() != reflect.Struct {
				required = append(required, name)
			}
		}
		schema = map[string]any{"type": "object", "properties": properties, "additionalProperties": false}
		if len(required) > 0 {
			schema["required"] = required
		}
	case reflect.Map:
		schema = map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem(), join(path, "*"))}
	case reflect.Slice:
		schema = map[string]any{"type": "array", "items": typeSchema(t.Elem(), join(path, "[]"))}
	case reflect.Bool:
		schema = map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		schema = map[string]any{"type": "integer"}
	default:
		schema = map[string]any{"type": "string"}
	}
	for key, value := range schemaConstraints[path] {
		schema[key] = value
	}
	return schema
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// FunctionDefinition is the published KRMFunctionDefinition of the function: its config
// kind, the schema above, and where its contract is documented.
func FunctionDefinition() map[string]any {
	group, version, _ := strings.Cut(PolicyAPIVersion, "/")
	return map[string]any{
		"apiVersion": "config.kubernetes.io/v1alpha1",
		"kind":       "KRMFunctionDefinition",
		"metadata":   map[string]any{"name": policyPlural + "." + group},
		"spec": map[string]any{
			"group":       group,
			"names":       map[string]any{"kind": PolicyKind},
			"description": "philotes-guardrails adds PodDisruptionBudgets, NetworkPolicies and KEDA ScaledObjects to the workloads that carry the guardrails.philotes.io annotations, as the environment policy in its config says.",
			"versions": []any{map[string]any{
				"name":       version,
				"idempotent": true,
				"usage":      "functions/guardrails/README.md",
				"schema":     map[string]any{"openAPIV3Schema": ConfigSchema()},
			}},
		},
	}
}
