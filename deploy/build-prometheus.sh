#!/usr/bin/env bash
# Builds the Prometheus server and promtool as static binaries from the Go module, at the
# same version as the promql library pinned in go.mod, into OUTDIR (default: bin).
#
#   deploy/build-prometheus.sh [OUTDIR]
#
# Idempotent: does nothing when OUTDIR/prometheus and OUTDIR/promtool already report the
# pinned version. The build happens in a temporary module so that our go.mod never changes.
# Service discovery is trimmed to what the stack uses (DNS, static and Docker).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
version="$(awk '$1 == "github.com/prometheus/prometheus" { print $2 }' "$root/go.mod")"
if [ -z "$version" ]; then
	echo "build-prometheus: github.com/prometheus/prometheus not found in $root/go.mod" >&2
	exit 1
fi
go="${GO:-go}"

have() {
	[ -x "$out/$1" ] && "$out/$1" --version 2>&1 | head -n1 | grep -q "version ${version#v} "
}
if have prometheus && have promtool; then
	echo "build-prometheus: $out/prometheus and $out/promtool are already $version"
	exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$go" mod init buildprometheus >/dev/null 2>&1
GOFLAGS=-mod=mod "$go" get "github.com/prometheus/prometheus@$version" >/dev/null
ldflags="-s -w -X github.com/prometheus/common/version.Version=${version#v} -X github.com/prometheus/common/version.Branch=module -X github.com/prometheus/common/version.Revision=$version"
for cmd in prometheus promtool; do
	echo "build-prometheus: building $cmd $version (a few minutes)"
	CGO_ENABLED=0 GOFLAGS=-mod=mod "$go" build -trimpath -tags remove_all_sd,enable_dns_sd,enable_moby_sd \
		-ldflags "$ldflags" -o "$out/$cmd.tmp" "github.com/prometheus/prometheus/cmd/$cmd"
	mv "$out/$cmd.tmp" "$out/$cmd"
done
"$out/prometheus" --version | head -n1
