package guardrails

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// schemaAt is the sub-schema at a constraint path ("*" a map value, "[]" an array item).
func schemaAt(schema map[string]any, path string) map[string]any {
	for _, step := range strings.Split(path, ".") {
		switch step {
		case "*":
			schema, _ = schema["additionalProperties"].(map[string]any)
		case "[]":
			schema, _ = schema["items"].(map[string]any)
		default:
			properties, _ := schema["properties"].(map[string]any)
			schema, _ = properties[step].(map[string]any)
		}
		if schema == nil {
			return nil
		}
	}
	return schema
}

// Every constraint lands on a field of the config (a renamed field cannot leave its constraint
// behind), every object is closed as the function's decoding is, and the fields the function
// requires are required.
func TestConfigSchemaFollowsTheConfigTypes(t *testing.T) {
	schema := ConfigSchema()
	for _, path := range slices.Sorted(maps.Keys(schemaConstraints)) {
		at := schemaAt(schema, path)
		if at == nil {
			t.Errorf("constraint %s names no field of GuardrailPolicy", path)
			continue
		}
		for key, value := range schemaConstraints[path] {
			if _, ok := at[key]; !ok {
				t.Errorf("%s lacks its %s %v", path, key, value)
			}
		}
	}
	for path, required := range map[string][]string{"": {"apiVersion", "kind"}, "spec.networkPolicy.endpoints.*": {"port"}} {
		at := schema
		if path != "" {
			at = schemaAt(schema, path)
		}
		if got, _ := at["required"].([]string); !slices.Equal(got, required) {
			t.Errorf("%q requires %v, want %v", path, got, required)
		}
	}
	var walk func(path string, s map[string]any)
	walk = func(path string, s map[string]any) {
		if properties, ok := s["properties"].(map[string]any); ok {
			if s["additionalProperties"] != false {
				t.Errorf("%q is open to unknown fields, which the function refuses", path)
			}
			for name, sub := range properties {
				walk(join(path, name), sub.(map[string]any))
			}
		}
	}
	walk("", schema)
	if got := schemaAt(schema, "spec.environments")["propertyNames"]; got == nil {
		t.Error("spec.environments accepts any environment name")
	}
}
