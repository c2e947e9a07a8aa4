# pattern-gen: build, test, golden files, lint.
# Heavy tool builds are cached outside the clone, so CI and fresh clones reuse them.
CACHE_DIR     ?= $(HOME)/.cache/pattern-gen
TOOLS_BIN     := $(CACHE_DIR)/bin
HELM_VERSION  := v3.22.0
KUSTOMIZE_VERSION := v5.8.2
HELM          := $(TOOLS_BIN)/helm-$(HELM_VERSION)
KUSTOMIZE     := $(TOOLS_BIN)/kustomize-$(KUSTOMIZE_VERSION)
OUT           ?= out
GO            ?= go
export GOTOOLCHAIN := local

.PHONY: all build run test golden lint verify tools clean

all: build

build: ## Build bin/pattern-gen
	$(GO) build -o bin/pattern-gen ./cmd/pattern-gen

run: build ## The main job: scaffold a fork from the embedded default config and render it
	rm -rf $(OUT)
	bin/pattern-gen init $(OUT)/coco-pattern
	bin/pattern-gen render --out $(OUT)/coco-pattern/rendered $(OUT)/coco-pattern

tools: $(HELM) $(KUSTOMIZE) ## Build the pinned helm and kustomize CLIs used as independent cross-checks

$(HELM):
	@mkdir -p $(TOOLS_BIN)
	cd / && GOBIN=$(TOOLS_BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(TOOLS_BIN)/helm $@

$(KUSTOMIZE):
	@mkdir -p $(TOOLS_BIN)
	cd / && GOBIN=$(TOOLS_BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(TOOLS_BIN)/kustomize $@

test: tools ## Run every test, with the helm and kustomize cross-checks required
	PATTERN_GEN_HELM=$(HELM) PATTERN_GEN_KUSTOMIZE=$(KUSTOMIZE) PATTERN_GEN_REQUIRE_TOOLS=1 \
		$(GO) test -count=1 ./...

golden: ## Regenerate every golden file; review the diff before committing
	UPDATE_GOLDEN=1 $(GO) test -count=1 ./...

lint: tools ## gofmt, go vet, and helm lint of every chart
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	@! grep -rn --include='*.go' -e 'os\.Stdout' -e 'os\.Stderr' internal | grep -v '_test.go' | grep -v '^internal/cli/' || { echo "nothing under internal/ but the CLI may use os.Stdout/os.Stderr"; exit 1; }
	@! grep -rln --include='*.go' 'spf13/cobra' internal | grep -v '^internal/cli/' || { echo "only internal/cli may import cobra"; exit 1; }
	for c in $$(dirname $$(find charts -name Chart.yaml) | sort); do $(HELM) lint --strict $$c || exit 1; done

verify: lint golden ## lint, then fail if golden files or go.mod are out of date
	$(GO) mod tidy
	git diff --exit-code -- go.mod go.sum testdata cmd

clean:
	rm -rf bin $(OUT)
