// Package runtime runs the deployment's Jobs as the doors render them against the real
// programs behind the pods, wherever this machine can run them: PostgreSQL with wal2json
// (the schema and source-preparation Jobs), SeaweedFS as the S3 server (the bucket Job), and
// the real Kubernetes API server (the warehouse id the catalog bootstrap Job publishes for the
// workers). Lakekeeper cannot run here: its Job talks to a test double that answers as
// Lakekeeper v0.9.5 documents (internal/testsupport/servers).
package runtime
