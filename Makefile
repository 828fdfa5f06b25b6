# odatagw — see README.md. `make run` serves the demo; `make test` runs every test.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/odatagw/odatagw/server/app.Version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: build run test test-go test-ui fuzz lint check-imports bench bench-load faults faults-short docker clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/odatagw ./cmd/odatagw

run: build
	./bin/odatagw serve

# All tests against a real PostgreSQL (ODATAGW_TEST_DSN, else 127.0.0.1:5432, else a
# throwaway initdb cluster) and a real MariaDB/MySQL (ODATAGW_TEST_MYSQL_DSN, else
# 127.0.0.1:3306, else a throwaway mariadbd), then short fuzz runs of the parser and
# the HTTP handler, then the short fault run (its own throwaway cluster, about
# 70 s). PgBouncer and Chromium (for their tests) are installed first when
# missing (scripts/install-test-deps.sh: apt-get, as root).
test:
	scripts/install-test-deps.sh
	scripts/with-postgres.sh scripts/with-mariadb.sh $(MAKE) --no-print-directory test-go fuzz
	$(MAKE) --no-print-directory faults-short

# -parallel 8: the end-to-end tests (./test) spend much of their time waiting
# (database creation, fsync, HTTP round trips), so more of them than GOMAXPROCS
# may run at once. Each holds its own database and gateway pools (a few
# connections in use, up to 16 each; 8 at once peaked at about 25 connections),
# so a fixed bound also keeps many-core machines well under max_connections (100).
test-go:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m -parallel 8 ./...

# The console's browser test alone (headless Chromium; part of test-go too,
# where it skips without Chromium): fails when Chromium is missing.
test-ui:
	ODATAGW_REQUIRE_CHROMIUM=1 $(GO) test -count=1 -run '^TestConsoleBrowser$$' ./test

fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh FuzzParseFilter ./odata
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh FuzzParseSearch ./odata
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh FuzzParseBatch ./odata
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh FuzzParseExpand ./odata
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh FuzzHandler ./test

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	$$( $(GO) env GOPATH )/bin/staticcheck ./...

# The fault run of issue 11 (test/faults, build tag faults): its own throwaway
# PostgreSQL cluster and gateway process, bounded read and write loads under
# injected faults, the database verified afterwards, a table of figures with
# pass criteria (test/faults/results/latest.md). `faults` takes about five
# minutes; `faults-short` (CI-sized, under two) ends `make test`.
faults:
	$(GO) test -tags faults -count=1 -timeout 30m -v -run '^TestFaults$$' ./test/faults

faults-short:
	$(GO) test -tags faults -count=1 -timeout 10m -v -short -run '^TestFaults$$' ./test/faults

# Go benchmarks (parser, binder, SQL rendering, JSON writer, token codec).
bench:
	scripts/with-postgres.sh $(GO) test -run '^$$' -bench . -benchmem ./...

# Load benchmark against PostgreSQL and the SAP CAP peer (see bench/README.md).
bench-load: build
	bash bench/run.sh

docker:
	docker build -t odatagw:$(VERSION) .

clean:
	rm -rf bin data
