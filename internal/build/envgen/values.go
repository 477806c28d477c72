package envgen

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// Values is a tree of Helm values as decoded from YAML.
type Values = map[string]any

// readValues decodes a values file; a missing or empty file is an empty tree.
func readValues(path string) (Values, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	values := Values{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return values, nil
}

// coalesce layers override on top of base the way Helm merges values files:
// maps merge key by key, anything else (scalars, lists) is replaced, and an
// explicit null deletes the key. Neither input is modified.
func coalesce(base, override Values) Values {
	out := make(Values, len(base)+len(override))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if v == nil {
			delete(out, k)
			continue
		}
		overrideMap, overrideIsMap := v.(map[string]any)
		baseMap, baseIsMap := out[k].(map[string]any)
		if overrideIsMap && baseIsMap {
			out[k] = coalesce(baseMap, overrideMap)
			continue
		}
		out[k] = v
	}
	return out
}

// lookup walks a dotted path of map keys; ok is false when any step is missing.
func lookup(values Values, path ...string) (any, bool) {
	var current any = values
	for _, key := range path {
		m, isMap := current.(map[string]any)
		if !isMap {
			return nil, false
		}
		next, present := m[key]
		if !present {
			return nil, false
		}
		current = next
	}
	return current, true
}

// lookupString is lookup for a string leaf; ok is false when it is missing or not a string.
func lookupString(values Values, path ...string) (string, bool) {
	value, found := lookup(values, path...)
	s, isString := value.(string)
	return s, found && isString
}

// lookupBool is lookup for a boolean leaf; a missing or non-boolean leaf is false.
func lookupBool(values Values, path ...string) bool {
	value, _ := lookup(values, path...)
	b, _ := value.(bool)
	return b
}
