package cluster

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/janovincze/philotes-deploy/internal/testenv"
)

// moduleDir returns the module cache directory of a module at the version that
// tools/<pinModule>/go.mod pins, downloading it (checked against that go.sum)
// when the cache does not have it yet.
func moduleDir(pinModule, module string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = filepath.Join(testenv.RepoRoot(), "tools", pinModule)
	out, err := cmd.Output()
	// On failure go still prints the JSON, with the reason in its Error field.
	var download struct {
		Dir, Version, Error string
	}
	if jsonErr := json.Unmarshal(out, &download); jsonErr != nil || download.Error != "" || err != nil {
		reason := download.Error
		if reason == "" {
			reason = fmt.Sprint(err, jsonErr)
			if ee, ok := err.(*exec.ExitError); ok {
				reason += ": " + string(ee.Stderr)
			}
		}
		return "", fmt.Errorf("locating %s pinned in tools/%s/go.mod: %s", module, pinModule, reason)
	}
	return download.Dir, nil
}
