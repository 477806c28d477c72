package chartdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// keyDoc is what the comment block above a key says about it.
type keyDoc struct {
	description string
	enum        []string       // @enum tokens, typed later against the key's type
	types       []string       // @type
	schema      map[string]any // @schema
}

// jsonTypes are the types @type accepts, the JSON Schema primitive types.
var jsonTypes = []string{"string", "integer", "number", "boolean", "object", "array", "null"}

const descriptionMark = "--"

// parseDoc reads the comment block directly above a key, as yaml.v3 hands it
// over in the key's HeadComment. Only the block touching the key counts, and in
// it only the lines from the last `# --` on: lines above that are free comments
// (section titles, commented-out examples). It returns nil without error when
// the block has no `# --` line.
func parseDoc(headComment string) (*keyDoc, error) {
	lines := strings.Split(headComment, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) == "" {
			lines = lines[i+1:]
			break
		}
	}
	texts := make([]string, len(lines))
	start := -1
	for i, line := range lines {
		texts[i] = commentText(line)
		if texts[i] == descriptionMark || strings.HasPrefix(texts[i], descriptionMark+" ") {
			start = i
		}
	}
	if start < 0 {
		return nil, nil
	}
	for _, text := range texts[:start] {
		if isDirective(text) {
			return nil, fmt.Errorf("%s stands above the `# --` description; directives follow it", directiveName(text))
		}
	}
	doc := &keyDoc{}
	var description []string
	if first := strings.TrimSpace(strings.TrimPrefix(texts[start], descriptionMark)); first != "" {
		description = append(description, first)
	}
	seen := map[string]bool{}
	for _, text := range texts[start+1:] {
		if !isDirective(text) {
			if text != "" {
				description = append(description, text)
			}
			continue
		}
		name := directiveName(text)
		if seen[name] {
			return nil, fmt.Errorf("%s is given twice", name)
		}
		seen[name] = true
		if err := doc.setDirective(name, strings.TrimSpace(strings.TrimPrefix(text, name))); err != nil {
			return nil, err
		}
	}
	doc.description = strings.Join(description, " ")
	if doc.description == "" {
		return nil, fmt.Errorf("the `# --` description is empty")
	}
	return doc, nil
}

// commentText strips the comment mark and the one space after it.
func commentText(line string) string {
	text := strings.TrimLeft(strings.TrimSpace(line), "#")
	return strings.TrimSpace(text)
}

func isDirective(text string) bool {
	return len(text) > 1 && text[0] == '@' && text[1] != ' '
}

func directiveName(text string) string {
	name, _, _ := strings.Cut(text, " ")
	return name
}

func (d *keyDoc) setDirective(name, value string) error {
	if value == "" {
		return fmt.Errorf("%s has no value", name)
	}
	switch name {
	case "@enum":
		d.enum = splitAlternatives(value)
	case "@type":
		d.types = splitAlternatives(value)
		for _, t := range d.types {
			if !slices.Contains(jsonTypes, t) {
				return fmt.Errorf("@type %s: %q is not a type (allowed: %s)", value, t, strings.Join(jsonTypes, ", "))
			}
		}
	case "@schema":
		decoder := json.NewDecoder(bytes.NewReader([]byte(value)))
		decoder.UseNumber()
		if err := decoder.Decode(&d.schema); err != nil || decoder.More() || d.schema == nil {
			return fmt.Errorf("@schema must be one JSON object on one line: %s", value)
		}
	default:
		return fmt.Errorf("unknown directive %s (allowed: @enum, @type, @schema)", name)
	}
	return nil
}

func splitAlternatives(value string) []string {
	parts := strings.Split(value, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// hasDirectives reports whether the doc refines the generated schema.
func (d *keyDoc) hasDirectives() bool {
	return d.enum != nil || d.types != nil || d.schema != nil
}
