package chartdoc

import (
	"fmt"
	"math"
	"slices"
	"strings"

	yaml2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"
)

// valuesWalker turns one chart's values.yaml into schema properties and README rows.
type valuesWalker struct {
	chart    *chart
	problems *Problems
	rows     []row
	// borrowed maps a top-level key whose schema belongs to another chart
	// (global, a dependency's values) to that schema.
	borrowed map[string]*borrowedSection
}

type borrowedSection struct {
	schema  schema
	owner   string // the chart that documents the section
	library bool   // a library dependency: Helm hands it values, its templates render nothing
	inFile  bool   // the values file sets the section
}

func (w *valuesWalker) problem(line int, key string, format string, args ...any) {
	w.problems.add(Problem{File: w.chart.file(valuesFile), Line: line, Chart: w.chart.meta.Name, Key: key,
		Msg: fmt.Sprintf(format, args...)})
}

type pair struct{ key, value *yaml.Node }

// pairs lists a mapping's entries with aliases resolved, refusing what Helm
// and this generator could read differently.
func (w *valuesWalker) pairs(m *yaml.Node, parent string) []pair {
	pairs := make([]pair, 0, len(m.Content)/2)
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, value := m.Content[i], m.Content[i+1]
		at := join(parent, key.Value)
		if key.Value == "<<" {
			w.problem(key.Line, at, "YAML merge keys are not supported: write the keys out")
			continue
		}
		if seen[key.Value] {
			w.problem(key.Line, at, "the key is set twice")
			continue
		}
		seen[key.Value] = true
		pairs = append(pairs, pair{key, resolveAlias(value)})
	}
	return pairs
}

// resolveAlias returns the node an alias (*name) stands for.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// documentedKeys returns the schema properties of a mapping's documented keys.
// In a free-form map (one whose @schema describes its entries) undocumented
// entries are data, not keys.
func (w *valuesWalker) documentedKeys(m *yaml.Node, parent string, freeForm bool) schema {
	properties := schema{}
	for _, p := range w.pairs(m, parent) {
		at := join(parent, p.key.Value)
		if section, ok := w.borrowed[p.key.Value]; ok && parent == "" {
			section.inFile = true
			section.schema["description"] = w.borrowedKey(p, at, section.schema, section.owner)
			continue
		}
		doc, err := parseDoc(p.key.HeadComment)
		if err != nil {
			w.problem(p.key.Line, at, "%v", err)
			continue
		}
		if doc == nil {
			if !freeForm {
				w.problem(p.key.Line, at, "no `# --` description above the key")
				if p.value.Kind == yaml.MappingNode {
					w.documentedKeys(p.value, at, false) // report the keys below too, in one run
				}
			}
			continue
		}
		if s := w.ownKey(p, at, doc); s != nil {
			properties[p.key.Value] = s
		}
	}
	return properties
}

// ownKey builds the schema of a documented key from its default and its
// directives, and adds its README row ahead of its children's.
func (w *valuesWalker) ownKey(p pair, at string, doc *keyDoc) schema {
	rowIndex := len(w.rows)
	w.rows = append(w.rows, row{})
	s := schema{"description": doc.description}
	var valueType string
	switch p.value.Kind {
	case yaml.MappingNode:
		valueType = "object"
		s["type"], s["additionalProperties"] = "object", false
		s["properties"] = w.documentedKeys(p.value, at, opensMap(doc.schema))
	case yaml.SequenceNode:
		valueType = "array"
		s["type"] = "array"
		if _, given := doc.schema["items"]; !given && len(p.value.Content) > 0 {
			s["items"] = w.inferData(p.value.Content[0], at+"[]")
		}
	default:
		value, err := scalarValue(p.value)
		if err != nil {
			w.problem(p.value.Line, at, "%v", err)
			w.rows = w.rows[:rowIndex]
			return nil
		}
		if valueType = jsonType(value); valueType != "null" {
			s["type"] = valueType
		}
	}
	if doc.types != nil {
		if !allows(doc.types, valueType) {
			w.problem(p.key.Line, at, "the default is %s, which @type %s does not allow", article(valueType), strings.Join(doc.types, "|"))
		}
		s["type"] = typeKeyword(doc.types)
		if slices.Contains(doc.types, "object") && p.value.Kind != yaml.MappingNode {
			s["additionalProperties"] = false
		}
	}
	if doc.enum != nil {
		w.applyEnum(s, p, at, doc.enum)
	}
	mergePatch(s, doc.schema)
	if properties := propertiesOf(s); properties != nil && len(properties) == 0 && s["additionalProperties"] != false {
		delete(s, "properties") // a free-form map without documented keys
	}
	if _, typed := s["type"]; !typed && valueType == "null" {
		w.problem(p.key.Line, at, "the default is null, so the type is unknown: add @type (for example @type string|null)")
	}
	incomplete(s, at, false, func(part, msg string) { w.problem(p.key.Line, part, "%s", msg) })
	w.rows[rowIndex] = w.row(p, at, typeLabel(s), descriptionOf(s)) // @schema may reword the description
	return s
}

// applyEnum sets the enum keyword, typing each @enum token as the key's type
// wants, and checks that the default is one of them.
func (w *valuesWalker) applyEnum(s schema, p pair, at string, tokens []string) {
	types := typesOf(s)
	values := make([]any, len(tokens))
	for i, token := range tokens {
		switch {
		case token == "null" && slices.Contains(types, "null"):
			values[i] = nil
		case slices.Contains(types, "string"):
			values[i] = token
		default:
			value, err := resolvePlain(token)
			if err != nil {
				w.problem(p.key.Line, at, "@enum value %q: %v", token, err)
				return
			}
			values[i] = value
		}
	}
	s["enum"] = values
	if p.value.Kind != yaml.ScalarNode {
		return
	}
	value, err := scalarValue(p.value)
	if err != nil {
		return // reported with the key's type
	}
	if !slices.ContainsFunc(values, func(allowed any) bool { return sameJSON(allowed, value) }) {
		w.problem(p.key.Line, at, "the default %s is not one of @enum %s", compactScalar(value), strings.Join(tokens, "|"))
	}
}

// inferData describes list items from the first item of a default: maps are
// closed with the keys the item has, and every scalar must show its type.
func (w *valuesWalker) inferData(n *yaml.Node, at string) schema {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		properties := schema{}
		for _, p := range w.pairs(n, at) {
			properties[p.key.Value] = w.inferData(p.value, join(at, p.key.Value))
		}
		return schema{"type": "object", "additionalProperties": false, "properties": properties}
	case yaml.SequenceNode:
		s := schema{"type": "array"}
		if len(n.Content) > 0 {
			s["items"] = w.inferData(n.Content[0], at+"[]")
		}
		return s
	}
	value, err := scalarValue(n)
	if err != nil {
		w.problem(n.Line, at, "%v", err)
		return schema{}
	}
	valueType := jsonType(value)
	if valueType == "null" {
		w.problem(n.Line, at, `the type cannot be inferred from null: describe the items with @schema {"items": {...}}`)
		return schema{}
	}
	return schema{"type": valueType}
}

// borrowedKey checks a key of a section whose schema another chart owns (global,
// a dependency's values), adds its README row, and returns its description.
func (w *valuesWalker) borrowedKey(p pair, at string, s schema, owner string) string {
	description := descriptionOf(s)
	doc, err := parseDoc(p.key.HeadComment)
	switch {
	case err != nil:
		w.problem(p.key.Line, at, "%v", err)
	case doc != nil && doc.hasDirectives():
		w.problem(p.key.Line, at, "the key's schema belongs to the %s chart: refine it there, not with directives here", owner)
	case doc != nil:
		description = doc.description
	}
	if valueType := nodeType(p.value); valueType != "null" && typesOf(s) != nil && !allows(typesOf(s), valueType) {
		w.problem(p.value.Line, at, "the value is %s, but the %s chart takes %s", article(valueType), owner, typeLabel(s))
	}
	w.rows = append(w.rows, w.row(p, at, typeLabel(s), description))
	if p.value.Kind != yaml.MappingNode {
		return description
	}
	properties := propertiesOf(s)
	for _, child := range w.pairs(p.value, at) {
		childAt := join(at, child.key.Value)
		if childSchema, ok := properties[child.key.Value].(map[string]any); ok {
			w.borrowedKey(child, childAt, childSchema, owner)
		} else if s["additionalProperties"] == false {
			w.problem(child.key.Line, childAt, "the %s chart has no such value (see its README)", owner)
		}
		// Anything else is an entry of a free-form map: data, not a key.
	}
	return description
}

func (w *valuesWalker) row(p pair, at, typ, description string) row {
	def, err := compactJSON(p.value)
	if err != nil {
		w.problem(p.value.Line, at, "%v", err)
	}
	return row{key: at, typ: typ, def: def, description: description}
}

// join appends a key to a dotted path, quoting keys that hold a dot.
func join(parent, key string) string {
	if strings.ContainsAny(key, ". ") {
		key = `"` + key + `"`
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// scalarValue reads a scalar as Helm does. Helm parses values with a YAML 1.1
// parser (sigs.k8s.io/yaml over yaml.v2), to which yes, no, on and off are
// booleans, so plain scalars are resolved by that parser too.
func scalarValue(n *yaml.Node) (any, error) {
	if n.Style&yaml.TaggedStyle != 0 {
		return nil, fmt.Errorf("the explicit YAML tag %s is not supported", n.Tag)
	}
	if n.Style != 0 {
		return n.Value, nil // quoted or block text
	}
	return resolvePlain(n.Value)
}

func resolvePlain(text string) (any, error) {
	var value any
	if err := yaml2.Unmarshal([]byte(text), &value); err != nil {
		return nil, fmt.Errorf("cannot read %q: %v", text, err)
	}
	switch v := value.(type) {
	case nil, bool, string, int64, uint64:
		return v, nil
	case int:
		return int64(v), nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, fmt.Errorf("%s has no JSON form", text)
		}
		return v, nil
	}
	return nil, fmt.Errorf("cannot read %q as a single value", text)
}

// jsonType is the JSON Schema type of a scalar from scalarValue.
func jsonType(value any) string {
	switch value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int64, uint64:
		return "integer"
	case float64:
		return "number"
	}
	return "string"
}

// nodeType is the JSON Schema type of a value node; "" when a scalar cannot be read.
func nodeType(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "array"
	}
	value, err := scalarValue(n)
	if err != nil {
		return ""
	}
	return jsonType(value)
}

func article(valueType string) string {
	switch valueType {
	case "null":
		return "null"
	case "integer", "object", "array":
		return "an " + valueType
	}
	return "a " + valueType
}

// compactJSON writes a default as one line of JSON, keys in file order.
func compactJSON(n *yaml.Node) (string, error) {
	n = resolveAlias(n)
	var b strings.Builder
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		open, close, step := "[", "]", 1
		if n.Kind == yaml.MappingNode {
			open, close, step = "{", "}", 2
		}
		b.WriteString(open)
		for i := 0; i < len(n.Content); i += step {
			if i > 0 {
				b.WriteString(",")
			}
			if step == 2 {
				b.WriteString(compactScalar(n.Content[i].Value) + ":")
			}
			item, err := compactJSON(n.Content[i+step-1])
			if err != nil {
				return "", err
			}
			b.WriteString(item)
		}
		b.WriteString(close)
	default:
		value, err := scalarValue(n)
		if err != nil {
			return "", err
		}
		b.WriteString(compactScalar(value))
	}
	return b.String(), nil
}

// compactScalar encodes a value from scalarValue (or a key), which always has a JSON form.
func compactScalar(value any) string {
	data, err := encodeJSON(value, false)
	if err != nil {
		return fmt.Sprint(value)
	}
	return string(data)
}

func sameJSON(a, b any) bool { return compactScalar(a) == compactScalar(b) }
