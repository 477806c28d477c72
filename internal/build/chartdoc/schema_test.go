package chartdoc

import (
	"reflect"
	"testing"
)

func TestMergePatchMergesMapsReplacesOtherValuesAndRemovesNulls(t *testing.T) {
	generated := schema{
		"type":                 "object",
		"additionalProperties": false,
		"properties":           schema{"name": schema{"type": "string"}},
		"description":          "Generated.",
	}
	mergePatch(generated, schema{
		"additionalProperties": schema{"type": "string"},
		"properties":           schema{"name": schema{"minLength": 1}, "port": schema{"type": "integer"}},
		"description":          nil,
		"required":             []any{"name"},
	})
	want := schema{
		"type":                 "object",
		"additionalProperties": schema{"type": "string"},
		"properties": schema{
			"name": schema{"type": "string", "minLength": 1},
			"port": schema{"type": "integer"},
		},
		"required": []any{"name"},
	}
	if !reflect.DeepEqual(generated, want) {
		t.Errorf("merged = %v, want %v", generated, want)
	}
}

func TestMergePatchCopiesThePatchSoLaterEditsDoNotLeakIntoIt(t *testing.T) {
	patch := schema{"items": schema{"type": "string"}}
	generated := schema{}
	mergePatch(generated, patch)
	generated["items"].(schema)["minLength"] = 1
	if _, leaked := patch["items"].(schema)["minLength"]; leaked {
		t.Error("editing the merged schema changed the patch")
	}
}
