# pattern-gen: build, test, golden files, lint.
# Heavy tool builds are cached outside the clone, so CI and fresh clones reuse them.
CACHE_DIR     ?= $(HOME)/.cache/pattern-gen
TOOLS_BIN     := $(CACHE_DIR)/bin
HELM_VERSION  := v3.22.0
KUSTOMIZE_VERSION := v5.8.2
ARGOCD_VERSION := v2.14.21
KUBE_VERSION  := v1.36.3
ARGOCD_OPERATOR_VERSION := v0.18.0
HELM          := $(TOOLS_BIN)/helm-$(HELM_VERSION)
KUSTOMIZE     := $(TOOLS_BIN)/kustomize-$(KUSTOMIZE_VERSION)
ARGOCD        := $(TOOLS_BIN)/argocd-$(ARGOCD_VERSION)
KUBE_APISERVER := $(TOOLS_BIN)/kube-apiserver-$(KUBE_VERSION)
ARGOCD_OPERATOR := $(TOOLS_BIN)/argocd-operator-$(ARGOCD_OPERATOR_VERSION)
ETCD          := /usr/bin/etcd
OUT           ?= out
GO            ?= go
export GOTOOLCHAIN := local

.PHONY: all build run test test-unit test-policy test-e2e golden lint verify tools e2e-tools python-yaml bench clean \
	image image-e2e image-push release-version release-binaries sbom release-notes actionlint

all: build

# -buildvcs=auto: the binaries' version commands report the commit (a machine's GOFLAGS may turn
# it off); outside a git checkout it records nothing and still builds.
build: ## Build bin/pattern-gen and bin/cmp-plugin
	$(GO) build -buildvcs=auto -o bin/pattern-gen ./cmd/pattern-gen
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o bin/cmp-plugin ./cmd/cmp-plugin

# The repository the fork deploys from (git.repoURL has no default): name yours with
# `make run REPO_URL=https://github.com/ORG/coco-pattern.git`.
REPO_URL      ?= https://github.com/example-org/coco-pattern.git

run: build ## The main job: scaffold a fork from the embedded default config and render it
	rm -rf $(OUT)
	bin/pattern-gen init --repo-url $(REPO_URL) $(OUT)/coco-pattern
	bin/pattern-gen render --out $(OUT)/coco-pattern/rendered $(OUT)/coco-pattern

# The release: the cmp-plugin sidecar image and the binaries. Every step of
# .github/workflows/release.yaml is one of these targets.
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
REVISION      ?= $(shell git rev-parse HEAD 2>/dev/null)
# The commit's time: the image's creation time and its files' times, so a rebuild matches.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGE_REPO    ?= ghcr.io/pattern-gen/cmp-plugin
IMAGE_DIR     := $(OUT)/image
DIST          := $(OUT)/dist
BUILDINFO     := github.com/pattern-gen/pattern-gen/internal/buildinfo
RELEASE_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT    := $(TOOLS_BIN)/actionlint-$(ACTIONLINT_VERSION)
CYCLONEDX_VERSION := v1.10.0
CYCLONEDX     := $(TOOLS_BIN)/cyclonedx-gomod-$(CYCLONEDX_VERSION)

image: ## The cmp-plugin sidecar image (linux/amd64, linux/arm64) as an OCI layout in out/image/oci, no container engine; prints its digest
	$(GO) run ./cmd/oci-image build --out $(IMAGE_DIR) --version $(VERSION) --revision "$(REVISION)" \
		--created-unix $(SOURCE_DATE_EPOCH) --ldflags-x $(BUILDINFO).releaseVersion=$(VERSION)

# e2e runs the cmp-plugin of the image, for this machine's platform only, unpacked with its config.
image-e2e:
	$(GO) run ./cmd/oci-image build --out $(OUT)/image-e2e --platform linux/$$($(GO) env GOARCH) --version e2e --created-unix 0
	$(GO) run ./cmd/oci-image extract --layout $(OUT)/image-e2e/oci --platform linux/$$($(GO) env GOARCH) --out $(OUT)/image-e2e/rootfs

# A release version is a semantic version tag; anything else (a branch, a dirty tree) is refused
# before it reaches a label, a tag or a shell.
release-version:
	@echo '$(VERSION)' | grep -Eq '^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$$' || { echo "VERSION '$(VERSION)' is not a release version such as v1.2.3"; exit 1; }

image-push: ## Push out/image/oci as $(IMAGE_REPO):$(VERSION) with your registry login; writes out/image/pushed (the reference by digest)
	@test "$$(cat $(IMAGE_DIR)/version)" = '$(VERSION)' || { echo "out/image was built for $$(cat $(IMAGE_DIR)/version), not $(VERSION): run make image again"; exit 1; }
	$(GO) run ./cmd/oci-image push --layout $(IMAGE_DIR)/oci --to $(IMAGE_REPO):$(VERSION) > $(IMAGE_DIR)/pushed
	cat $(IMAGE_DIR)/pushed

release-binaries: ## pattern-gen and cmp-plugin for $(RELEASE_PLATFORMS) in out/dist with SHA256SUMS; they pin the image of out/image/digest
	@test -s $(IMAGE_DIR)/digest || { echo "run make image first: the binaries carry its digest"; exit 1; }
	@test "$$(cat $(IMAGE_DIR)/version)" = '$(VERSION)' || { echo "out/image was built for $$(cat $(IMAGE_DIR)/version), not $(VERSION): run make image again"; exit 1; }
	rm -rf $(DIST) && mkdir -p $(DIST)
	for p in $(RELEASE_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; \
		for c in pattern-gen cmp-plugin; do \
			GOENV=off GOFLAGS= GOEXPERIMENT= GOAMD64=v1 GOARM64=v8.0 CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false \
				-ldflags "-s -w -buildid= -X $(BUILDINFO).releaseVersion=$(VERSION) -X $(BUILDINFO).imageRepo=$(IMAGE_REPO) -X $(BUILDINFO).imageDigest=$$(cat $(IMAGE_DIR)/digest)" \
				-o $(DIST)/$${c}_$(VERSION)_$${os}_$${arch} ./cmd/$$c || exit 1; \
		done; \
	done
	cd $(DIST) && sha256sum $$(ls | grep -v SHA256SUMS) > SHA256SUMS

$(CYCLONEDX):
	@mkdir -p $(TOOLS_BIN)
	cd / && GOBIN=$(TOOLS_BIN) $(GO) install github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_VERSION)
	mv $(TOOLS_BIN)/cyclonedx-gomod $@

sbom: $(CYCLONEDX) ## A CycloneDX SBOM per binary of out/dist (its Go modules, from the binary's build information)
	for b in $$(ls $(DIST) | grep -v -e SHA256SUMS -e '\.cdx\.json$$' -e '\.md$$'); do \
		$(CYCLONEDX) bin -json -output $(DIST)/$$b.cdx.json -version $(VERSION) $(DIST)/$$b || exit 1; done

release-notes: ## out/dist/release-notes.md: the image by digest, how to pin, verify and mirror it, the checksums of the binaries and SBOMs
	cd $(DIST) && sha256sum $$(ls | grep -v -e SHA256SUMS -e '\.md$$') > SHA256SUMS
	$(GO) run ./cmd/oci-image notes --digest-file $(IMAGE_DIR)/digest --repo $(IMAGE_REPO) --version $(VERSION) --sums $(DIST)/SHA256SUMS > $(DIST)/release-notes.md

$(ACTIONLINT):
	@mkdir -p $(TOOLS_BIN)
	cd / && GOBIN=$(TOOLS_BIN) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	mv $(TOOLS_BIN)/actionlint $@

actionlint: $(ACTIONLINT) ## Lint the GitHub workflows: the release (it cannot run here) and the one init gives forks
	$(ACTIONLINT) -shellcheck= -pyflakes= .github/workflows/*.yaml internal/render/fork/pattern-diff.yaml

tools: $(HELM) $(KUSTOMIZE) ## Build the pinned helm and kustomize CLIs used as independent cross-checks

$(HELM):
	@mkdir -p $(TOOLS_BIN)
	cd / && GOBIN=$(TOOLS_BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(TOOLS_BIN)/helm $@

$(KUSTOMIZE):
	@mkdir -p $(TOOLS_BIN)
	cd / && GOBIN=$(TOOLS_BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(TOOLS_BIN)/kustomize $@

e2e-tools: $(ARGOCD) $(KUBE_APISERVER) $(ARGOCD_OPERATOR) $(ETCD) ## Build the real Argo CD, kube-apiserver and argocd-operator, install etcd

# argo-cd pins k8s.io 0.31, so it is built from its own module (e2e/), never linked into the product.
$(ARGOCD):
	@mkdir -p $(TOOLS_BIN)
	cd e2e && $(GO) build -o $@.tmp github.com/argoproj/argo-cd/v2/cmd
	mv $@.tmp $@

# argocd-operator (OpenShift GitOps upstream) writes the repo-server Deployment the plugin runs in;
# it links argo-cd v3 and k8s.io 0.34, so it has its own wrapper module too.
$(ARGOCD_OPERATOR):
	@mkdir -p $(TOOLS_BIN)
	cd e2e/argocd-operator && $(GO) build -o $@.tmp github.com/argoproj-labs/argocd-operator/cmd
	mv $@.tmp $@

# The ldflags give clients (Helm, kubectl) a parseable server version.
$(KUBE_APISERVER):
	@mkdir -p $(TOOLS_BIN)
	cd e2e/kube-apiserver && $(GO) build -o $@.tmp \
		-ldflags "-X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36" \
		k8s.io/kubernetes/cmd/kube-apiserver
	mv $@.tmp $@

# apt-get as root, or through sudo where the user is not (a GitHub runner).
APT           = $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get

$(ETCD):
	$(APT) update -qq && $(APT) install -y -qq etcd-server

# The Validated Patterns secrets parser (shared reference) that a test runs is Python with PyYAML.
python-yaml:
	@python3 -c 'import yaml' 2>/dev/null || { $(APT) update -qq && $(APT) install -y -qq python3 python3-yaml; }

TEST_ENV = PATTERN_GEN_HELM=$(HELM) PATTERN_GEN_KUSTOMIZE=$(KUSTOMIZE) \
	PATTERN_GEN_ARGOCD=$(ARGOCD) PATTERN_GEN_KUBE_APISERVER=$(KUBE_APISERVER) PATTERN_GEN_ETCD=$(ETCD) \
	PATTERN_GEN_ARGOCD_OPERATOR=$(ARGOCD_OPERATOR) \
	PATTERN_GEN_BIN=$(CURDIR)/bin/pattern-gen PATTERN_GEN_CMP_PLUGIN=$(CURDIR)/bin/cmp-plugin \
	PATTERN_GEN_REQUIRE_TOOLS=1

test: test-unit test-policy test-e2e ## Run every test of the three modules, with every cross-check required

test-unit: tools $(KUBE_APISERVER) $(ETCD) python-yaml ## The product module's tests (cross-checks with helm, kustomize, kube-apiserver)
	$(TEST_ENV) $(GO) test -count=1 ./...

# The attestation policy under the real OPA: its own module (e2e/policy/), because OPA's
# dependencies (grpc, otel) would move those Argo CD is built with in e2e/ and those of the product.
test-policy: ## The trustee chart's attestation policy evaluated with OPA (module e2e/policy/)
	cd e2e/policy && $(GO) test -count=1 ./...

test-e2e: tools e2e-tools build image-e2e ## The end-to-end tests with the real Argo CD (module e2e/), running the image's cmp-plugin
	cd e2e && $(TEST_ENV) PATTERN_GEN_CMP_PLUGIN=$(CURDIR)/$(OUT)/image-e2e/rootfs/usr/local/bin/cmp-plugin \
		PATTERN_GEN_IMAGE_CONFIG=$(CURDIR)/$(OUT)/image-e2e/rootfs/config.json $(GO) test -count=1 ./...

bench: tools e2e-tools build ## Speed and memory: Go benchmarks, whole-process comparison, repo-server round trip (targets in the README)
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/... | tee bench.txt
	$(TEST_ENV) $(GO) run ./bench/compare
	cd e2e && $(TEST_ENV) $(GO) test -count=1 -run 'TestRepoServerGenerateManifest$$' -v . | grep -E 'GenerateManifest(WithFiles)? \(' | sed 's/^ *cmp_test.go:[0-9]*: //' 

golden: ## Regenerate every golden file; review the diff before committing
	UPDATE_GOLDEN=1 $(GO) test -count=1 ./...

lint: tools actionlint ## gofmt, go vet, helm lint of every chart, actionlint of the workflows
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...
	cd e2e/policy && $(GO) vet ./...
	@! $(GO) list -deps ./cmd/... | grep -q 'argoproj/argo-cd' || { echo "the product must not link argo-cd"; exit 1; }
	@! $(GO) list -deps ./cmd/cmp-plugin | grep -q 'go-getter' || { echo "cmp-plugin must not link go-getter"; exit 1; }
	@! $(GO) list -deps ./cmd/cmp-plugin | grep -E -q 'helm/v3/pkg/(action|kube|registry)$$|pattern-gen/internal/(project|validate|review)$$' || { echo "cmp-plugin must link only what a sync-time render needs (its start-up is the plugin's latency)"; exit 1; }
	@! grep -rn --include='*.go' -e 'os\.Stdout' -e 'os\.Stderr' internal | grep -v '_test.go' | grep -v '^internal/cli/' || { echo "nothing under internal/ but the CLI may use os.Stdout/os.Stderr"; exit 1; }
	@! grep -rln --include='*.go' 'spf13/cobra' internal | grep -v '^internal/cli/' || { echo "only internal/cli may import cobra"; exit 1; }
	for c in $$(dirname $$(find charts -name Chart.yaml) | sort); do $(HELM) lint --strict $$c || exit 1; done

verify: lint golden ## lint, then fail if golden files or go.mod are out of date
	$(GO) mod tidy
	cd e2e && $(GO) mod tidy
	cd e2e/policy && $(GO) mod tidy
	git diff --exit-code -- go.mod go.sum e2e/go.mod e2e/go.sum e2e/policy/go.mod e2e/policy/go.sum testdata cmd

clean:
	rm -rf bin $(OUT)
