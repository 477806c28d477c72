package chartdoc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDocTakesTheBlockFromTheLastDescriptionMarkWithItsDirectives(t *testing.T) {
	doc, err := parseDoc(strings.Join([]string{
		"## Image settings",
		"# -- An older description the next mark replaces.",
		"# -- Pull policy of the image",
		"#    for every container.",
		"# @enum Always|IfNotPresent | Never",
		"# @type string",
		`# @schema {"default": "IfNotPresent", "minLength": 1}`,
	}, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &keyDoc{
		description: "Pull policy of the image for every container.",
		enum:        []string{"Always", "IfNotPresent", "Never"},
		types:       []string{"string"},
		schema:      schema{"default": "IfNotPresent", "minLength": json.Number("1")},
	}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("parseDoc = %+v, want %+v", doc, want)
	}
}

func TestDocIgnoresABlockThatABlankLineSeparatesFromTheKey(t *testing.T) {
	doc, err := parseDoc("# -- Describes nothing below the blank line.\n\n# A free comment.")
	if err != nil || doc != nil {
		t.Errorf("parseDoc = %+v, %v; want no doc", doc, err)
	}
}

func TestDocRejectsMalformedDirectivesNamingThem(t *testing.T) {
	tests := map[string]struct{ comment, wantErr string }{
		"repeated directive":        {"# -- Mode.\n# @enum a\n# @enum b", "@enum is given twice"},
		"directive without value":   {"# -- Mode.\n# @schema", "@schema has no value"},
		"unknown type":              {"# -- Mode.\n# @type text", `"text" is not a type (allowed: string, integer, number, boolean, object, array, null)`},
		"schema that is no object":  {"# -- Mode.\n# @schema [1]", "@schema must be one JSON object on one line"},
		"schema with trailing text": {`# -- Mode.` + "\n" + `# @schema {"minimum": 1} more`, "@schema must be one JSON object on one line"},
		"schema of null":            {"# -- Mode.\n# @schema null", "@schema must be one JSON object on one line"},
		"empty description":         {"# --\n# @type string", "the `# --` description is empty"},
		"unknown directive":         {"# -- Mode.\n# @default a", "unknown directive @default (allowed: @enum, @type, @schema)"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseDoc(tt.comment)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseDoc error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
