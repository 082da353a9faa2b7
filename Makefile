# Telederm: the two commands a new machine needs are `make run` and `make test`.
GO      ?= go
DATA    ?= ./data
ADDR    ?= :8080

.PHONY: run build test vet fmt-check bench bench-go gen clean

## run: start the server on the embedded store in $(DATA) (auth off: sandbox)
run:
	$(GO) run ./cmd/telederm serve --addr $(ADDR) --data $(DATA) --auth off --log-format text

## build: the telederm binary in bin/
build:
	$(GO) build -o bin/telederm ./cmd/telederm

## test: formatting, vet, then every test with the race detector
test: fmt-check vet
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: load-test a fresh server (100,000 resources, then the standard
## scenarios against the HTTP ceiling, under 10 minutes); rewrites BENCHMARKS.md
bench: build
	bin/telederm bench --standard --spawn --markdown BENCHMARKS.md --json bin/bench.json

## bench-go: the go test benchmarks (parse/marshal, store, HTTP read/create)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## gen: regenerate the tables built from ../shared/spec (search parameters,
## summary elements, compartments); the results are committed
gen:
	$(GO) generate ./fhir/...

clean:
	rm -rf bin
