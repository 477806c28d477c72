# Philotes deploy. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN := $(CURDIR)/.bin
export PATH := $(BIN):$(PATH)

# kustomize, Helm 4 and philotes-guardrails are built static and reproducibly: no cgo, no path
# or VCS state of the machine that built them, no symbol tables (as the projects' own
# releases). The images carry their own copies under $(IMAGE_BIN), built for the images'
# platform with go.mod's toolchain whatever the host, so that every machine builds the same
# bytes and so the same image digests. On a linux/amd64 host with that toolchain the two
# builds are the same compilation, and the second only links.
REPRODUCIBLE_BUILD := CGO_ENABLED=0 go build -trimpath -buildvcs=false
REPRODUCIBLE_LDFLAGS := -s -w
IMAGE_BIN := $(BIN)/image
IMAGE_TOOLCHAIN := $(shell sed -n 's/^toolchain //p' $(CURDIR)/go.mod)
IMAGE_BUILD := GOTOOLCHAIN=$(IMAGE_TOOLCHAIN) GOOS=linux GOARCH=amd64 GOAMD64=v1 $(REPRODUCIBLE_BUILD)
IMAGE_BINARIES := $(IMAGE_BIN)/kustomize $(IMAGE_BIN)/helm $(IMAGE_BIN)/philotes-guardrails

# Pinned tool versions; each tools/<tool>/go.mod pins the module and its go.sum.
HELM3_VERSION := v3.22.0
HELM4_VERSION := v4.3.1

ENVIRONMENTS := dev staging production

##@ Main

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_.\/-]+:.*##/ {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Tests that need a pinned tool fail instead of skipping when it is missing.
GO_TEST_ENV := PHILOTES_REQUIRE_TOOLS=1
GO_TEST_FLAGS ?=

.PHONY: render
render: tools $(BIN)/philotes-guardrails $(IMAGE_BINARIES) generate ## Render every environment through the Kustomize door into rendered/<env>/ (the main job).
	go run ./cmd/render -bin $(BIN)

.PHONY: test
test: tools $(BIN)/philotes-guardrails $(IMAGE_BINARIES) $(BIN)/kube-score $(BIN)/promtool cluster-tools flux-controllers runtime-deps verify ## Run every test: generated files fresh, Go tests with both Helm majors, a local control plane, and the Jobs against real PostgreSQL and S3 servers.
	$(GO_TEST_ENV) go test $(GO_TEST_FLAGS) ./...

.PHONY: generate
generate: docs ## Regenerate what derives from the values files and the Go types: chart schemas and READMEs, the charts' dependency archives, overlay inputs, the function's published definition.
	go run ./cmd/chartdeps
	go run ./cmd/envgen
	go run ./cmd/fndefinition

.PHONY: verify
verify: tools $(BIN)/philotes-guardrails $(IMAGE_BINARIES) $(BIN)/actionlint docs-check ## Fail when anything generated or rendered is stale, Go code is unformatted or vetted wrong, or a CI workflow does not pass actionlint.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go') $$(git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...
	go run ./cmd/chartdeps -check
	go run ./cmd/envgen -check
	go run ./cmd/fndefinition -check
	go run ./cmd/render -check -bin $(BIN)
	go run ./bench/benchdoc -check -results $(BENCH_RESULTS)
	$(BIN)/actionlint .github/workflows/*.yaml

# Where `make publish` pushes: site.yaml's registry unless REGISTRY is given.
REGISTRY ?=

.PHONY: publish
publish: tools $(IMAGE_BINARIES) ## Push the rendered environments (a Flux OCI artifact, <registry>/manifests), the packaged umbrella chart (<registry>/charts) and both images (<registry>/argocd-plugin, <registry>/guardrails) to REGISTRY or site.yaml's registry; CI runs it on tags.
	go run ./cmd/publish -bin $(BIN) $(if $(REGISTRY),-registry $(REGISTRY))

.PHONY: image-binaries
image-binaries: $(IMAGE_BINARIES) ## Build the images' kustomize, Helm 4 and philotes-guardrails (static, linux/amd64, go.mod's toolchain) into .bin/image/.

.PHONY: images
images: $(IMAGE_BINARIES) ## Build the Argo CD plugin sidecar image and the container KRM function image without Docker, as OCI layouts under .bin/images/ (docs/images.md).
	go run ./cmd/images -bin $(BIN) -out $(BIN)/images

.PHONY: snapshots
snapshots: tools ## Update the charts' snapshot files after an intended change.
	UPDATE_SNAPSHOTS=1 go test ./charts/ -run Snapshot

##@ Charts

# The Philotes release whose SQL scripts the schema Job applies: the api image's version.
PHILOTES_VERSION ?= v$(shell sed -n 's/^  tag: "\(.*\)"$$/\1/p' charts/philotes-api/values.yaml | head -n 1)
SCHEMA_NAMESPACE ?= philotes-dev
SCHEMA_CONFIGMAP := .cache/schema/philotes-schema.yaml

.PHONY: schema-configmap
schema-configmap: ## Write the ConfigMap of Philotes' SQL scripts (PHILOTES_VERSION's source archive, or a checkout in PHILOTES_SOURCE) for SCHEMA_NAMESPACE into .cache/schema/, to kubectl apply.
	go run ./cmd/schemaconfigmap -namespace $(SCHEMA_NAMESPACE) -o $(SCHEMA_CONFIGMAP) \
	  $(if $(PHILOTES_SOURCE),-source $(PHILOTES_SOURCE),-version $(PHILOTES_VERSION))

.PHONY: docs
docs: ## Regenerate every chart's values.schema.json and README parameter table from its documented values.yaml.
	go run ./cmd/chartdoc

.PHONY: docs-check
docs-check: ## Fail listing every chart schema or README table that values.yaml no longer matches.
	go run ./cmd/chartdoc -check

##@ Functions

GUARDRAILS_SOURCES := $(shell find functions/guardrails -name '*.go' -not -name '*_test.go')

.PHONY: guardrails
guardrails: $(BIN)/philotes-guardrails ## Build the philotes-guardrails KRM function into .bin/, where kustomize finds it on PATH.

# README.md is embedded: its contract sections are the --help text.
$(BIN)/philotes-guardrails: $(GUARDRAILS_SOURCES) functions/guardrails/README.md go.mod go.sum
	$(REPRODUCIBLE_BUILD) -ldflags "$(REPRODUCIBLE_LDFLAGS)" -o $@ ./functions/guardrails

$(IMAGE_BIN)/philotes-guardrails: $(GUARDRAILS_SOURCES) functions/guardrails/README.md go.mod go.sum
	$(IMAGE_BUILD) -ldflags "$(REPRODUCIBLE_LDFLAGS)" -o $@ ./functions/guardrails

# A count of executions, not a duration: Go 1.26's fuzz coordinator can fail a target with a
# bare "context deadline exceeded" when a duration runs out (golang/go#75804, fixed in Go 1.27),
# while a count sets no deadline. Enough to explore around the committed seed corpus on every
# CI run (about 10 s here); `make fuzz FUZZTIME=10m` digs deeper.
FUZZTIME ?= 1000x

.PHONY: fuzz
fuzz: ## Run every fuzz target of functions/ for FUZZTIME (default 1000x: executions) each.
	@for pkg in $$(go list ./functions/...); do \
	  for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz: $$pkg $$target"; \
	    go test $$pkg -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

##@ Benchmarks

BENCH_PACKAGES := ./bench/ ./functions/...
BENCH_COUNT ?= 6
BENCH_RESULTS := bench/results/results.txt
BENCH_SUMMARY := bench/results/benchstat.txt
BENCH_SCRATCH := .cache/bench/results.txt

# One package at a time (-p 1): benchmarks running side by side would slow each
# other. The run goes to a scratch file first, so a failed or interrupted run
# leaves the recorded results alone; the header lines describe the machine.
.PHONY: bench
bench: tools $(BIN)/philotes-guardrails $(BIN)/benchstat ## Run every benchmark BENCH_COUNT times (default 6) into bench/results/, summarize it with benchstat and update docs/benchmarks.md.
	@mkdir -p $(dir $(BENCH_SCRATCH)) $(dir $(BENCH_RESULTS))
	@{ echo "date: $$(date -u '+%Y-%m-%d %H:%M UTC')"; echo "nproc: $$(nproc)"; \
	  echo "memory: $$(awk '/^MemTotal:/ {printf "%.1f GiB", $$2 / 1048576}' /proc/meminfo)"; echo "go: $$(go env GOVERSION)"; \
	  echo "kustomize: $$($(BIN)/kustomize version)"; echo "helm: $$($(BIN)/helm version --short)"; \
	  echo "count: $(BENCH_COUNT)"; echo "load-before: $$(cut -d' ' -f1-3 /proc/loadavg)"; } > $(BENCH_SCRATCH)
	$(GO_TEST_ENV) go test -p 1 -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -timeout 0 $(BENCH_PACKAGES) | tee $(BENCH_SCRATCH).run
	@# Configuration lines apply to the results after them: the load after the run goes in the header.
	@echo "load-after: $$(cut -d' ' -f1-3 /proc/loadavg)" >> $(BENCH_SCRATCH)
	cat $(BENCH_SCRATCH).run >> $(BENCH_SCRATCH) && rm $(BENCH_SCRATCH).run
	mv $(BENCH_SCRATCH) $(BENCH_RESULTS)
	$(BIN)/benchstat $(BENCH_RESULTS) > $(BENCH_SUMMARY)
	go run ./bench/benchdoc -results $(BENCH_RESULTS)

.PHONY: bench-smoke
bench-smoke: tools $(BIN)/philotes-guardrails ## Run every benchmark once (CI): they compile, find their tools and pass.
	$(GO_TEST_ENV) go test -run '^$$' -bench . -benchtime=1x $(BENCH_PACKAGES)

.PHONY: bench-doc
bench-doc: ## Rewrite the results tables of docs/benchmarks.md from bench/results/results.txt without running anything.
	go run ./bench/benchdoc -results $(BENCH_RESULTS)

$(BIN)/benchstat: tools/benchstat/go.mod tools/benchstat/go.sum
	cd tools/benchstat && go build -o $@ golang.org/x/perf/cmd/benchstat

##@ Tools (built from pinned Go modules into .bin/, git-ignored)

.PHONY: tools
tools: $(BIN)/kustomize $(BIN)/helm3 $(BIN)/helm4 $(BIN)/helm ## Build the pinned kustomize and Helm 3/4 CLIs.

$(BIN)/kustomize: tools/kustomize/go.mod tools/kustomize/go.sum
	cd tools/kustomize && $(REPRODUCIBLE_BUILD) -ldflags "$(REPRODUCIBLE_LDFLAGS)" -o $@ sigs.k8s.io/kustomize/kustomize/v5

$(IMAGE_BIN)/kustomize: tools/kustomize/go.mod tools/kustomize/go.sum go.mod
	cd tools/kustomize && $(IMAGE_BUILD) -ldflags "$(REPRODUCIBLE_LDFLAGS)" -o $@ sigs.k8s.io/kustomize/kustomize/v5

# Helm 3 learns the Kubernetes version it assumes for `helm template` (and so
# for kubeVersion checks) from these flags; without them it assumes v1.20. They
# follow the client-go minor the pin resolves, as Helm's own release build does.
helm3_client_go = $(shell cd tools/helm3 && go list -m -f '{{.Version}}' k8s.io/client-go)
helm3_k8s_minor = $(word 2,$(subst ., ,$(helm3_client_go)))
HELM3_LDFLAGS = -X helm.sh/helm/v3/internal/version.version=$(HELM3_VERSION) \
  $(foreach pkg,helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules,-X $(pkg).k8sVersionMajor=1 -X $(pkg).k8sVersionMinor=$(helm3_k8s_minor))

$(BIN)/helm3: tools/helm3/go.mod tools/helm3/go.sum
	cd tools/helm3 && go build -ldflags "$(HELM3_LDFLAGS)" -o $@ helm.sh/helm/v3/cmd/helm

HELM4_LDFLAGS = $(REPRODUCIBLE_LDFLAGS) -X helm.sh/helm/v4/internal/version.version=$(HELM4_VERSION)

$(BIN)/helm4: tools/helm4/go.mod tools/helm4/go.sum
	cd tools/helm4 && $(REPRODUCIBLE_BUILD) -ldflags "$(HELM4_LDFLAGS)" -o $@ helm.sh/helm/v4/cmd/helm

# The images' Helm is Helm 4, as the host's `helm`.
$(IMAGE_BIN)/helm: tools/helm4/go.mod tools/helm4/go.sum go.mod
	cd tools/helm4 && $(IMAGE_BUILD) -ldflags "$(HELM4_LDFLAGS)" -o $@ helm.sh/helm/v4/cmd/helm

# kustomize runs `helm` from PATH; Helm 4 is the default, Helm 3 is tested alongside.
$(BIN)/helm: $(BIN)/helm4
	ln -sf helm4 $@

##@ Control plane (the tests' local cluster; built from the pins in tools/kube, tools/etcd, tools/kwok)

KUBE_COMMANDS := kube-apiserver kube-controller-manager kube-scheduler kubectl
KUBE_BINARIES := $(addprefix $(BIN)/,$(KUBE_COMMANDS))

.PHONY: cluster-tools
cluster-tools: $(KUBE_BINARIES) $(BIN)/etcd $(BIN)/kwok ## Build the pinned control plane, kubectl, etcd and kwok.

# Without the release stamp the binaries report v0.0.0-master and kubectl refuses
# the server version; it is read from the pin so that go.mod stays the one place.
kube_version = $(shell cd tools/kube && go list -m -f '{{.Version}}' k8s.io/kubernetes)
kube_version_vars = gitVersion=$(1) gitMajor=$(word 1,$(subst ., ,$(1:v%=%))) gitMinor=$(word 2,$(subst ., ,$(1))) gitTreeState=clean
kube_ldflags = $(foreach pkg,k8s.io/component-base/version k8s.io/client-go/pkg/version,$(foreach var,$(call kube_version_vars,$(1)),-X $(pkg).$(var)))

$(KUBE_BINARIES): $(BIN)/%: tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && go build -ldflags "$(call kube_ldflags,$(kube_version))" -o $@ k8s.io/kubernetes/cmd/$*

$(BIN)/etcd: tools/etcd/go.mod tools/etcd/go.sum
	cd tools/etcd && go build -o $@ go.etcd.io/etcd/server/v3

$(BIN)/kwok: tools/kwok/go.mod tools/kwok/go.sum
	cd tools/kwok && go build -o $@ sigs.k8s.io/kwok/cmd/kwok

.PHONY: kube-score
kube-score: $(BIN)/kube-score ## Build the pinned kube-score, which the tests run on every rendering but development's.

$(BIN)/kube-score: tools/kube-score/go.mod tools/kube-score/go.sum
	cd tools/kube-score && go build -o $@ github.com/zegl/kube-score/cmd/kube-score

.PHONY: promtool
promtool: $(BIN)/promtool ## Build the pinned promtool, which runs the alert rules' unit tests.

$(BIN)/promtool: tools/promtool/go.mod tools/promtool/go.sum
	cd tools/promtool && go build -o $@ github.com/prometheus/prometheus/cmd/promtool

$(BIN)/actionlint: tools/actionlint/go.mod tools/actionlint/go.sum
	cd tools/actionlint && go build -o $@ github.com/rhysd/actionlint/cmd/actionlint

# Flux's own controllers, run by the GitOps tests as local processes against the control plane.
.PHONY: flux-controllers
flux-controllers: $(BIN)/source-controller $(BIN)/kustomize-controller $(BIN)/helm-controller ## Build the pinned Flux source-controller, kustomize-controller and helm-controller.

$(BIN)/source-controller: tools/flux-source-controller/go.mod tools/flux-source-controller/go.sum
	cd tools/flux-source-controller && go build -o $@ github.com/fluxcd/source-controller

$(BIN)/kustomize-controller: tools/flux-kustomize-controller/go.mod tools/flux-kustomize-controller/go.sum
	cd tools/flux-kustomize-controller && go build -o $@ github.com/fluxcd/kustomize-controller

$(BIN)/helm-controller: tools/flux-helm-controller/go.mod tools/flux-helm-controller/go.sum
	cd tools/flux-helm-controller && go build -o $@ github.com/fluxcd/helm-controller

##@ Runtime tests (the programs behind the pods that run on this machine)

.PHONY: runtime-deps
runtime-deps: postgresql-packages $(BIN)/weed ## Install PostgreSQL with wal2json and curl (Debian packages, as root) and build the pinned SeaweedFS.

# The Jobs' scripts run against a real PostgreSQL with wal2json and call curl. Installed from
# Debian's packages when missing, which needs root (CI runs as root); wal2json's package
# follows the installed server's major version.
.PHONY: postgresql-packages
postgresql-packages:
	@if ls /usr/lib/postgresql/*/lib/wal2json.so >/dev/null 2>&1 && command -v curl >/dev/null; then exit 0; fi; \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "PostgreSQL with wal2json and curl are missing: as root, run make runtime-deps (or apt-get install postgresql postgresql-<major>-wal2json curl)"; exit 1; \
	  fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq; \
	  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt-get install -y -qq postgresql curl; \
	  major=$$(ls /usr/lib/postgresql | sort -n | tail -n 1); \
	  apt-get install -y -qq "postgresql-$$major-wal2json" curl

$(BIN)/weed: tools/seaweedfs/go.mod tools/seaweedfs/go.sum
	cd tools/seaweedfs && go build -o $@ github.com/seaweedfs/seaweedfs/weed
