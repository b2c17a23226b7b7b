# The project's test command is `make test` (README). It vets, runs every test — including the
# self-test against every reference defect and one full run in containers — and fuzzes the
# parsers for a short, bounded time.
FUZZTIME ?= 10s
GO ?= go

.PHONY: test vet unit fuzz

test: vet unit fuzz

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 80m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseCreateSubmission$$' -fuzztime $(FUZZTIME) ./mocks/fitconnect
	$(GO) test -run '^$$' -fuzz '^FuzzParseSubmitSubmission$$' -fuzztime $(FUZZTIME) ./mocks/fitconnect
	$(GO) test -run '^$$' -fuzz '^FuzzCompactJWE$$' -fuzztime $(FUZZTIME) ./mocks/fitconnect
	$(GO) test -run '^$$' -fuzz '^FuzzParseSET$$' -fuzztime $(FUZZTIME) ./mocks/fitconnect
