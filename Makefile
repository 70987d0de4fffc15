# cairn — build, test and benchmark.
#
#   make build                      # bin/cairn
#   make test                       # scripts/test.sh
#   make bench                      # cairn vs restic vs borg on a generated 4 GiB image,
#                                   # then cross-region copy and status polling under load
#   make bench SIZE=512MiB RUNS=1   # smaller and quicker
#   make bench IMAGE=path/to/disk.raw
#   make bench ONLY=restic,borg BENCH_FLAGS='-skip-install'
#   make bench ONLY=copy,poll       # only the service sections

GO          ?= go
SIZE        ?= 4GiB
IMAGE       ?=
RUNS        ?= 3
ONLY        ?= cairn,restic,borg,copy,poll
BENCH_FLAGS ?=

.PHONY: build test bench

build:
	$(GO) build -o bin/cairn ./cmd/cairn

test:
	./scripts/test.sh

bench:
	$(GO) run ./bench/cmd/cairnbench -size '$(SIZE)' -image '$(IMAGE)' -runs '$(RUNS)' -only '$(ONLY)' $(BENCH_FLAGS)
