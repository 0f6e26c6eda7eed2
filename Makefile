GO ?= go
BIN := bin/intelliscale

.PHONY: all build test bench vet fmt

all: build

build:
	$(GO) build -o $(BIN) ./cmd/intelliscale

vet:
	$(GO) vet ./...

test: vet
	$(GO) test ./...
