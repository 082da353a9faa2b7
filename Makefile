# Telederm: the two commands a new machine needs are `make run` and `make test`.
GO      ?= go
DATA    ?= ./data
ADDR    ?= :8080

.PHONY: run build test test-ferretdb test-ferretdb-examples vet fmt-check js-deps bench bench-go gen clean

# Referrals the sandbox is seeded with on first start (the modelled
# service saw 800+ in 17 months); SEED_REFERRALS=0 starts empty.
SEED_REFERRALS ?= 800

## run: start the server on the embedded store in $(DATA) (auth off: sandbox);
## on first start (no database yet) seed a realistic region into it
run:
	@if [ "$(SEED_REFERRALS)" != "0" ] && [ ! -e "$(DATA)/telederm.db" ]; then \
		echo "first start: seeding a sandbox region of $(SEED_REFERRALS) referrals into $(DATA) (SEED_REFERRALS=0 starts empty)"; \
		$(GO) run ./cmd/telederm seed --data $(DATA) --referrals $(SEED_REFERRALS) || exit 1; \
	fi
	$(GO) run ./cmd/telederm serve --addr $(ADDR) --data $(DATA) --auth off --log-format text

## build: the telederm binary in bin/
build:
	$(GO) build -o bin/telederm ./cmd/telederm

## test: formatting, vet, the fhirclient (Node) test's npm packages, then
## every test with the race detector (but the MongoDB store's own suite,
## which runs on FerretDB in test-ferretdb: ten minutes under -race)
test: fmt-check vet js-deps
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v '/internal/store/mongo')
	$(MAKE) test-ferretdb

## test-ferretdb: the MongoDB store's behavioural suite, and the
## conformance (round-trip, search, bundles) and subscription tests again,
## on the MongoDB backend over an in-process FerretDB (no race detector:
## FerretDB is slow). Transaction isolation skips there, saying why
## (FerretDB has no multi-document transactions); the official-example
## round-trip and search are left to test-ferretdb-examples (5 minutes).
FERRET_CONFORMANCE := TestRoundTripProjectExamples|TestConcurrent|TestSearchReferral|TestSearchHandling|TestSearchPagingWhileWriting|TestSearchList|TestCompartmentSearchAll|TestTransaction|TestBatch|TestBundleExamples|TestCreateReadUpdateDelete|TestHistory|TestConditionalInteractions|TestOperation
test-ferretdb:
	TELEDERM_TEST_STORE=ferretdb $(GO) test -count=1 ./internal/store/mongo/... ./internal/subscription/
	TELEDERM_TEST_STORE=ferretdb $(GO) test -count=1 -run '$(FERRET_CONFORMANCE)' ./conformance/

## test-ferretdb-examples: the official R4 examples' round-trip and
## search tests on the MongoDB backend over FerretDB (issue 9): about 5
## minutes here (FerretDB answers every search by decoding the type's
## whole collection in Go). CI runs it after `make test`.
test-ferretdb-examples:
	TELEDERM_TEST_STORE=ferretdb $(GO) test -count=1 -timeout 30m -v -run 'TestRoundTripOfficialExamples|TestSearchFindsEveryExample' ./conformance/

# The Node test drives Telederm with fhirclient, a SMART client this project
# did not write; npm ci installs exactly what package-lock.json records.
FHIRCLIENT := conformance/testdata/fhirclient
js-deps: $(FHIRCLIENT)/node_modules/.package-lock.json
$(FHIRCLIENT)/node_modules/.package-lock.json: $(FHIRCLIENT)/package-lock.json
	npm ci --prefix $(FHIRCLIENT) --no-audit --no-fund

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: load-test a fresh server (100,000 resources, then the standard
## scenarios against the HTTP ceiling, under 10 minutes); rewrites BENCHMARKS.md
bench: build
	bin/telederm bench --standard --spawn --markdown BENCHMARKS.md --json bin/bench.json

## bench-go: the go test benchmarks (parse/marshal, store, HTTP read/create)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## gen: regenerate what is built from ../shared/spec (search parameters,
## summary elements, compartments, profile snapshots); the results are committed
gen:
	$(GO) generate ./fhir/... ./profiles/...

clean:
	rm -rf bin
