package cluster

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/command"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// operatorPins is the tools/ module that pins the operators whose files the
// tests read: their CRDs, their install manifests.
const operatorPins = "crds"

// ModuleDir returns the module cache directory of an operator module at the
// version tools/crds/go.mod pins, downloading it (checked against that go.sum)
// when the cache does not have it yet, so that tests read an operator's CRDs
// and manifests from exactly the release the repository pins. A module the
// file does not pin fails the test with its name.
func ModuleDir(tb testing.TB, module string) string {
	tb.Helper()
	dir, err := moduleDir(operatorPins, module)
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// moduleDir returns the module cache directory of a module at the version that
// tools/<pinModule>/go.mod pins, downloading it when the cache does not have it.
func moduleDir(pinModule, module string) (string, error) {
	out, err := command.Run(filepath.Join(testenv.RepoRoot(), "tools", pinModule), nil, "go", "mod", "download", "-json", module)
	// On failure go still prints the JSON, with the reason in its Error field.
	var download struct {
		Dir, Version, Error string
	}
	if jsonErr := json.Unmarshal(out, &download); jsonErr != nil || download.Error != "" || err != nil {
		reason := download.Error
		if reason == "" {
			reason = fmt.Sprint(err, jsonErr)
		}
		return "", fmt.Errorf("locating %s pinned in tools/%s/go.mod: %s", module, pinModule, reason)
	}
	return download.Dir, nil
}
