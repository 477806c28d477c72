package chartdoc

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// draft07 is the JSON Schema dialect of the generated files: Helm 3 up to 3.17
// validates with a draft-04/06/07 library, Helm 3.18+ and Helm 4 with one that
// reads every draft the $schema keyword names, so draft-07 is what all accept.
const draft07 = "http://json-schema.org/draft-07/schema#"

// schema is a JSON Schema object; encoding/json writes its keys sorted.
type schema = map[string]any

func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			out[k] = cloneJSON(item)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = cloneJSON(item)
		}
		return out
	default:
		return v
	}
}

func cloneSchema(s schema) schema { return cloneJSON(s).(schema) }

// mergePatch merges an @schema object into a generated schema the way a JSON
// merge patch (RFC 7386) does: objects merge key by key, anything else
// replaces, and null removes the generated keyword.
func mergePatch(dst, patch schema) {
	for k, v := range patch {
		if v == nil {
			delete(dst, k)
			continue
		}
		if patchObject, ok := v.(map[string]any); ok {
			if dstObject, ok := dst[k].(map[string]any); ok {
				mergePatch(dstObject, patchObject)
				continue
			}
		}
		dst[k] = cloneJSON(v)
	}
}

// typesOf lists the types a schema's "type" keyword allows; nil when it has none.
func typesOf(s schema) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []string:
		return t
	case []any:
		types := make([]string, 0, len(t))
		for _, item := range t {
			if name, ok := item.(string); ok {
				types = append(types, name)
			}
		}
		return types
	}
	return nil
}

// typeKeyword is the "type" keyword for a list of types: a string for one type.
func typeKeyword(types []string) any {
	if len(types) == 1 {
		return types[0]
	}
	return slices.Clone(types)
}

// typeLabel is how the README shows a schema's type.
func typeLabel(s schema) string {
	if types := typesOf(s); len(types) > 0 {
		return strings.Join(types, "|")
	}
	return "any"
}

// allows reports whether a value of JSON type valueType satisfies the types.
func allows(types []string, valueType string) bool {
	return slices.Contains(types, valueType) || valueType == "integer" && slices.Contains(types, "number")
}

func descriptionOf(s schema) string {
	description, _ := s["description"].(string)
	return description
}

func propertiesOf(s schema) schema {
	properties, _ := s["properties"].(map[string]any)
	return properties
}

// opensMap reports whether an @schema makes a map free-form: its entries are
// then data described by additionalProperties or patternProperties, not keys.
func opensMap(patch schema) bool {
	additional, declared := patch["additionalProperties"]
	_, patterned := patch["patternProperties"]
	return declared && additional != false || patterned
}

// incomplete reports every part of a schema whose content the generator could
// not tell: a list without items, or a closed map without a single key, which
// would accept only {}. Properties of documented keys are checked with their
// own key, so the walk descends into them only within inferred or given data.
func incomplete(s schema, at string, descendProperties bool, report func(at, msg string)) {
	types := typesOf(s)
	if slices.Contains(types, "array") {
		if _, ok := s["items"]; !ok {
			report(at, `the list's items are unknown: give them with @schema {"items": {...}}, or put one item in the default`)
		}
	}
	if slices.Contains(types, "object") && s["additionalProperties"] == false && len(propertiesOf(s)) == 0 && s["patternProperties"] == nil {
		report(at, `the map has no documented key, so it would accept only {}: document its keys, or open it with @schema {"additionalProperties": {...}}`)
	}
	if items, ok := s["items"].(map[string]any); ok {
		incomplete(items, at+"[]", true, report)
	}
	if additional, ok := s["additionalProperties"].(map[string]any); ok {
		incomplete(additional, at+".*", true, report)
	}
	if descendProperties {
		properties := propertiesOf(s)
		for _, name := range slices.Sorted(maps.Keys(properties)) {
			if property, ok := properties[name].(map[string]any); ok {
				incomplete(property, at+"."+name, true, report)
			}
		}
	}
}

// encodeJSON writes JSON without HTML escaping; indented output ends with a newline.
func encodeJSON(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	encoder := json.NewEncoder(&b)
	encoder.SetEscapeHTML(false)
	if indent {
		encoder.SetIndent("", "  ")
	}
	if err := encoder.Encode(v); err != nil {
		return nil, err
	}
	if !indent {
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
	}
	return b.Bytes(), nil
}
