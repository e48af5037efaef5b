# creditrun — the Makefile is the menu.
#   make demo    generate a sample book, backfill it, run the next night, print a summary
#   make test    lint, unit/golden/property/crash tests (fuzz seeds included), the DuckDB interop check,
#                the report in headless Chromium
#   make fuzz    every fuzz target for FUZZTIME (default 1m); make fuzz-ci, CI's count-based run
#   make bench   Go benchmarks of every stage (one night of a generated book included)
#   make bench-scale  the scale scenario: the 1M second night and a 300k book grown 150 days, against DuckDB and the I/O floor (see README)
#   make bench-year   a year's backfill of 1M accounts (state every 30 days) and its last night
#   make bench-quick  the same ratios for the second night of a 300k book (a few minutes)
#   make lint    gofmt, go vet and staticcheck
#   make build   bin/creditrun (TAGS="gcs azure" adds the gs:// and azblob:// drivers)

GO      ?= go
BIN     := bin/creditrun
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Build tags: gcs and azure add the Google Cloud Storage and Azure Blob
# Storage drivers, left out by default for the memory their SDKs cost every
# command (storage/driver_gcs.go).
TAGS    ?=
DEMO    ?= demo

.PHONY: build demo test unit interop report-check fuzz fuzz-ci bench bench-scale bench-year bench-quick lint clean

build:
	$(GO) build -trimpath -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/creditrun

demo: build
	./$(BIN) demo --dir $(DEMO)

test: lint unit interop report-check

# The end-to-end tests write books with DuckDB, as upstream teams do.
unit: scripts/node_modules
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags gcs,azure -run 'TestOptionalDrivers|TestOpenLocation' ./storage/

# Every output table of a real run must open in DuckDB with the contract's types.
interop: build scripts/node_modules
	rm -rf .interop && ./$(BIN) demo --dir .interop --accounts 2000 --days 45 --quiet
	node scripts/check-outputs.mjs "$$(ls -d .interop/out/as_of=* | tail -1)"
	rm -rf .interop

# The report of a real book must open in headless Chromium with no console
# error and no network request, every chart drawn; the screenshot is kept
# in .ci/artifacts/. Skipped, saying so, off CI when chromium is missing
# (scripts/install-chromium.sh installs it).
report-check: build scripts/node_modules
	@if [ ! -x /usr/bin/chromium ] && [ -z "$$CI" ]; then \
		echo "report-check: SKIPPED: /usr/bin/chromium is missing (scripts/install-chromium.sh installs it)"; exit 0; fi; \
	set -e; rm -rf .report-check; \
	./$(BIN) demo --dir .report-check --accounts 3000 --days 100 --quiet >/dev/null; \
	node scripts/check-report.mjs .report-check/report.html .ci/artifacts/report.png --min-charts 15; \
	rm -rf .report-check

scripts/node_modules: scripts/package.json scripts/package-lock.json
	cd scripts && npm ci --no-audit --no-fund --loglevel=error
	touch scripts/node_modules

# Every fuzz target for FUZZTIME each (go longer by hand: FUZZTIME=30m).
FUZZTIME ?= 1m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReadTransactions$$' -fuzztime $(or $(FUZZ_SOURCE),$(FUZZTIME)) ./pipeline/source/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(or $(FUZZ_POLICY),$(FUZZTIME)) ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzClose$$' -fuzztime $(or $(FUZZ_BILLING),$(FUZZTIME)) ./billing/
	$(GO) test -run '^$$' -fuzz '^FuzzCloseExtreme$$' -fuzztime $(or $(FUZZ_BILLING),$(FUZZTIME)) ./billing/
	$(GO) test -run '^$$' -fuzz '^FuzzWriteRead$$' -fuzztime $(or $(FUZZ_PQFILE),$(FUZZTIME)) ./pipeline/pqfile/

# CI fuzzes each target for a number of inputs (2 to 15 s each here),
# not a duration: Go 1.26's fuzz coordinator can fail a target at the end of
# a -fuzztime duration with "context deadline exceeded" and no crasher
# (golang/go#75804, fixed in Go 1.27); a count sets no deadline.
fuzz-ci:
	$(MAKE) fuzz FUZZ_SOURCE=1000x FUZZ_POLICY=7000x FUZZ_BILLING=50000x FUZZ_PQFILE=200x

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The scale scenario (bench/scale.sh), every ratio from one run: the
# 1M-account second night and a 300k-account book backfilled 150 days (its
# rate and peak RSS), then its day 150, each against DuckDB and against its
# I/O floor, alternately.
bench-scale:
	SIZES=1000000 PEER_SIZE=1000000 BACKFILL_ACCOUNTS=300000 BACKFILL_DAYS=150 bench/scale.sh

# A year's backfill of 1M accounts, the state kept every 30 days, then its
# last night against DuckDB and the I/O floor (about an hour).
bench-year:
	SIZES=1000000 PEER_SIZE=0 BACKFILL_ACCOUNTS=1000000 BACKFILL_DAYS=365 BACKFILL_STATE_EVERY=30 bench/scale.sh

# The two ratios of the second night of a 300k-account book: a check of
# each change.
bench-quick:
	SIZES=300000 PEER_SIZE=300000 BACKFILL_DAYS=0 bench/scale.sh

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin $(DEMO) .interop .report-check
