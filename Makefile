# The project's test command is `make test` (README). It vets, runs every test — including the
# self-test against every reference defect and one full run in containers — and fuzzes the
# parsers for a bounded number of inputs. A count, not a duration: with a duration, Go 1.26's
# fuzzing coordinator can fail a clean target with "context deadline exceeded" when a loaded
# machine starves its workers at the deadline (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 50000x
GO ?= go

# A release binary runs from any folder without Go: it is linked fully statically (libxml2 too),
# so it also serves as the binary inside the kit's own images (runtime/images.go).
DIST ?= dist
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
STATIC_XML_LIBS = -lxml2 -licui18n -licuuc -licudata -lz -llzma -lm -lstdc++
RELEASE_FLAGS = -trimpath -buildvcs=true -tags netgo,osusergo -ldflags '-s -w -X main.version=$(VERSION) -linkmode external -extldflags "-static"'

.PHONY: test vet unit fuzz release

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

release:
	CGO_ENABLED=1 CGO_LDFLAGS="$(STATIC_XML_LIBS)" $(GO) build $(RELEASE_FLAGS) -o $(DIST)/conformance-linux-$(shell $(GO) env GOARCH) ./cmd/conformance
