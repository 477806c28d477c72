# Philotes deploy. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN := $(CURDIR)/.bin
export PATH := $(BIN):$(PATH)

# Pinned tool versions; each tools/<tool>/go.mod pins the module and its go.sum.
HELM3_VERSION := v3.22.0
HELM4_VERSION := v4.3.1

ENVIRONMENTS := dev staging production

##@ Main

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_.\/-]+:.*##/ {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Tools (built from pinned Go modules into .bin/, git-ignored)

.PHONY: tools
tools: $(BIN)/kustomize $(BIN)/helm3 $(BIN)/helm4 $(BIN)/helm ## Build the pinned kustomize and Helm 3/4 CLIs.

$(BIN)/kustomize: tools/kustomize/go.mod tools/kustomize/go.sum
	cd tools/kustomize && go build -o $@ sigs.k8s.io/kustomize/kustomize/v5

$(BIN)/helm3: tools/helm3/go.mod tools/helm3/go.sum
	cd tools/helm3 && go build -ldflags "-X helm.sh/helm/v3/internal/version.version=$(HELM3_VERSION)" -o $@ helm.sh/helm/v3/cmd/helm

$(BIN)/helm4: tools/helm4/go.mod tools/helm4/go.sum
	cd tools/helm4 && go build -ldflags "-X helm.sh/helm/v4/internal/version.version=$(HELM4_VERSION)" -o $@ helm.sh/helm/v4/cmd/helm

# kustomize runs `helm` from PATH; Helm 4 is the default, Helm 3 is tested alongside.
$(BIN)/helm: $(BIN)/helm4
	ln -sf helm4 $@
