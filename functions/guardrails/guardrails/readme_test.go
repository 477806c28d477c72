package guardrails

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const readmePath = "../README.md"

// embedPattern matches an example block of README.md: a marker naming a file
// relative to the README, the file's content in a fence, an end marker.
var embedPattern = regexp.MustCompile("(?s)<!-- embed (\\S+) -->\n(.*?)<!-- /embed -->")

func fenced(path string, content []byte) string {
	language := "text"
	if filepath.Ext(path) == ".yaml" {
		language = "yaml"
	}
	text := string(content)
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return "```" + language + "\n" + text + "```\n"
}

func TestReadmeExamplesAreCopiesOfTheTestdataFiles(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	blocks := embedPattern.FindAllSubmatchIndex(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md embeds no example")
	}
	var updated strings.Builder
	last := 0
	for _, block := range blocks {
		path := string(readme[block[2]:block[3]])
		content, err := os.ReadFile(filepath.Join(filepath.Dir(readmePath), path))
		if err != nil {
			t.Errorf("README.md embeds %s: %v", path, err)
			continue
		}
		want := fenced(path, content)
		if got := string(readme[block[4]:block[5]]); got != want && !*update {
			t.Errorf("README.md's copy of %s is stale: run `go test ./functions/guardrails/guardrails -update`", path)
		}
		updated.Write(readme[last:block[4]])
		updated.WriteString(want)
		last = block[5]
	}
	updated.Write(readme[last:])
	if *update {
		if err := os.WriteFile(readmePath, []byte(updated.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadmeDocumentsEveryConfigFieldAnnotationAndBehaviour(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, path := range fieldPaths(reflect.TypeFor[PolicySpec]()) {
		documented = append(documented, "`spec."+path+"`")
	}
	for _, annotation := range append(knownAnnotations, GeneratedByLabel) {
		documented = append(documented, "`"+annotation+"`")
	}
	cases, err := filepath.Glob(filepath.Join("testdata", "*", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		documented = append(documented, filepath.Base(filepath.Dir(c)))
	}
	for _, want := range documented {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not mention %s", want)
		}
	}
}
