package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEveryEnvironmentGetsItsEntryAndItsCustomKindsCRDs(t *testing.T) {
	root := t.TempDir()
	appSet := filepath.Join(root, filepath.FromSlash(ArgoCDApplicationSet))
	if err := os.MkdirAll(filepath.Dir(appSet), 0o755); err != nil {
		t.Fatal(err)
	}
	handWritten := "spec:\n  generators:\n  - list:\n      elements:\n      " + environmentsStart + "      - env: old\n" + environmentsEnd + "\n  template: {}\n"
	if err := os.WriteFile(appSet, []byte(handWritten), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := GitOpsFiles(root, []Environment{
		{Name: "dev", Namespace: "philotes-dev", Manifests: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n")},
		{Name: "qa", Namespace: "team-qa", Manifests: []byte(`apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: a}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: a}
`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	set := string(files[ArgoCDApplicationSet])
	if strings.Contains(set, "env: old") || !strings.Contains(set, "- env: qa\n        namespace: team-qa\n"+environmentsEnd) || !strings.HasSuffix(set, "\n  template: {}\n") {
		t.Errorf("the ApplicationSet's list was not replaced between its markers:\n%s", set)
	}
	namespaces := string(files[FluxNamespaces])
	for _, want := range []string{"name: scaledobjects.keda.sh", "name: servicemonitors.monitoring.coreos.com", "targetNamespace: team-qa"} {
		if !strings.Contains(namespaces, want) {
			t.Errorf("%s lacks %q:\n%s", FluxNamespaces, want, namespaces)
		}
	}
	if strings.Contains(namespaces, "networkpolicies") {
		t.Errorf("a Kubernetes API group was taken for a custom kind:\n%s", namespaces)
	}
	if !strings.Contains(string(files[FluxRenderedApps]), "path: ./rendered/qa") || !strings.Contains(string(files[FluxHelmReleaseInputs]), "PHILOTES_NAMESPACE: team-qa") {
		t.Error("the Flux Kustomizations do not list qa")
	}
}

func TestAnApplicationSetWithoutTheMarkersIsRefused(t *testing.T) {
	root := t.TempDir()
	appSet := filepath.Join(root, filepath.FromSlash(ArgoCDApplicationSet))
	if err := os.MkdirAll(filepath.Dir(appSet), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(appSet, []byte("spec: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := GitOpsFiles(root, nil); err == nil || !strings.Contains(err.Error(), ArgoCDApplicationSet) {
		t.Fatalf("err = %v, want the file named", err)
	}
}
