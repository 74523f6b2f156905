#!/bin/sh
# Builds the Go worker and client into DIR (default: examples/go/bin) with no network access,
# against Debian's packages (apt-get install -y golang-go golang-github-nats-io-go-nats-dev),
# which put nats.go 1.22 in /usr/share/gocode: GOPATH mode, so go.mod is not used.
# With network access, anywhere: `go mod tidy && go build -o bin/ ./...` in this directory.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$here"
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS=
go build -o "$out/worker" ./worker
go build -o "$out/client" ./client
echo "built $out/worker and $out/client"
