package render

import (
	"reflect"
	"testing"
)

func TestPrerequisitesAreTheSecretsTheObjectsReadButDoNotCreate(t *testing.T) {
	p, err := readPrerequisites(Environment{Name: "qa", Manifests: []byte(`apiVersion: v1
kind: Secret
metadata: {name: rendered}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
      - env:
        - {name: A, valueFrom: {secretKeyRef: {name: api-credentials, key: password}}}
        - {name: B, valueFrom: {secretKeyRef: {name: rendered, key: x}}}
        envFrom:
        - secretRef: {name: whole}
      volumes:
      - {name: certs, secret: {secretName: certs}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api}
spec:
  tls: [{secretName: api-tls, hosts: [a.example]}]
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: worker}
spec:
  secretTargetRef: [{parameter: password, name: source, key: source-password}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: schema-1a2b3c4d}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: api-credentials}
spec:
  target: {name: api-credentials}
  data: [{secretKey: password, remoteRef: {key: a, property: password}}]
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: source}
spec:
  data: [{secretKey: another-key, remoteRef: {key: a, property: x}}]
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: certs-merge}
spec:
  target: {name: certs, creationPolicy: Merge}
  data: [{secretKey: ca.crt, remoteRef: {key: a, property: ca}}]
`)})
	if err != nil {
		t.Fatal(err)
	}
	// api-credentials comes whole from an ExternalSecret; source's lacks the key read; a
	// Merge into certs creates nothing.
	want := map[string][]string{
		"whole":   {allKeys},
		"certs":   {allKeys},
		"api-tls": {"tls.crt", "tls.key"},
		"source":  {"source-password"},
	}
	if !reflect.DeepEqual(p.secrets, want) {
		t.Errorf("secrets = %v\nwant %v", p.secrets, want)
	}
	if !reflect.DeepEqual(p.crds, []string{"externalsecrets.external-secrets.io", "triggerauthentications.keda.sh"}) || !reflect.DeepEqual(p.workloads, []workload{{kind: "Deployment", name: "api"}}) || !reflect.DeepEqual(jobBases(p.jobs), []string{"schema-…"}) {
		t.Errorf("crds %v, workloads %v, jobs %v", p.crds, p.workloads, p.jobs)
	}
}
