#!/usr/bin/env bash
# Runs every test of cairn. On a fresh machine it first installs what the
# tests need: Go modules, and the Debian packages the integration tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive GOFLAGS=${GOFLAGS:--buildvcs=false}

# Debian packages the tests use (e2fsprogs makes filesystem images for the
# disk-source tests). Installed only when missing, as root.
need=()
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		for i in 1 2 3 4 5; do apt-get update -qq && break || sleep 3; done
		for i in 1 2 3 4 5; do apt-get install -y -qq --no-install-recommends "${need[@]}" && break || sleep 3; done
	else
		echo "test.sh: missing ${need[*]}; install them (apt-get install ${need[*]})" >&2
	fi
fi

go mod download
echo "== go vet"
go vet ./...
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed: $unformatted" >&2
	exit 1
fi
echo "== go test"
go test -race -count=1 -timeout 25m ./... "$@"
