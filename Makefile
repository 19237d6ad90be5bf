# Ferry: `make run` starts the console, `make test` runs every test.
export CGO_ENABLED := 1
GO        ?= go
BIN       := bin/ferry
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)

.PHONY: help generate build run test test-short test-postgres bench lint check-generated docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

generate: ## regenerate templ components (committed)
	$(GO) tool templ generate

build: ## build bin/ferry
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ferry

run: build ## start the console at http://localhost:8080 on ./data/ferry.db (a demo project on a new one; FERRY_DEMO=false: none)
	FERRY_DEMO=$${FERRY_DEMO:-true} FERRY_SANDBOX_ADDR=$${FERRY_SANDBOX_ADDR-127.0.0.1:8081} ./$(BIN) serve

test: lint ## run every test, browser tests included
	$(GO) test -count=1 -timeout 30m ./...

test-short: ## run the tests without the browser
	$(GO) test -short -count=1 ./...

test-postgres: ## run the tests again on PostgreSQL: FERRY_TEST_POSTGRES_URL=postgres://… make test-postgres
	@test -n "$$FERRY_TEST_POSTGRES_URL" || { echo "set FERRY_TEST_POSTGRES_URL to a postgres:// URL of a database the tests may create schemas in"; exit 1; }
	@# The web tests are the long pole on PostgreSQL (a migrated schema per test): they run in three
	@# shards beside the other packages, each shard's output kept apart and printed at the end.
	@dir=$$(mktemp -d); status=0; \
	$(GO) test -short -count=1 -timeout 30m ./internal/... > $$dir/internal.log 2>&1 & p0=$$!; \
	$(GO) test -short -count=1 -timeout 30m -run '^TestA' ./web/ > $$dir/web-a.log 2>&1 & p1=$$!; \
	$(GO) test -short -count=1 -timeout 30m -run '^Test[B-Rb-r]' ./web/ > $$dir/web-b.log 2>&1 & p2=$$!; \
	$(GO) test -short -count=1 -timeout 30m -skip '^Test[A-Ra-r]' ./web/ > $$dir/web-c.log 2>&1 & p3=$$!; \
	for p in $$p0 $$p1 $$p2 $$p3; do wait $$p || status=1; done; \
	cat $$dir/internal.log $$dir/web-a.log $$dir/web-b.log $$dir/web-c.log; rm -rf $$dir; exit $$status

bench: ## run the benchmarks; each figure prints as "BENCH <name> <value> <unit>"
	$(GO) test -run '^$$' -bench . -benchtime 1x ./... | grep '^BENCH' || true

lint: check-generated ## gofmt, go vet and the generated-code check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

check-generated: ## fail when `go tool templ generate` would change the generated files
	@sum() { find . -name '*_templ.go' -not -path './.git/*' | sort | xargs cat | cksum; }; \
	before=$$(sum); $(GO) tool templ generate >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
	if [ "$$before" != "$$(sum)" ]; then echo "generated templ code was stale; it is regenerated now: review and commit the *_templ.go files"; exit 1; fi

docs: ## regenerate docs/roles.md from the permission matrix
	$(GO) test ./internal/auth -run TestRolesDocIsCurrent -update >/dev/null

clean: ## remove build output (not ./data)
	rm -rf bin
