#!/usr/bin/env bash
# Builds the stack's local images with no registry:
#   intelliscale:local             the static intelliscale binary (FROM scratch;
#                                  IS_IMAGE names another tag)
#   intelliscale-prometheus:local  Prometheus from the Go module (FROM scratch)
# The Prometheus binary is built once into bin/ by build-prometheus.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
go="${GO:-go}"
docker="${DOCKER:-docker}"
image="${IS_IMAGE:-intelliscale:local}"
"$root/deploy/build-prometheus.sh" "$root/bin"

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
(cd "$root" && CGO_ENABLED=0 "$go" build -trimpath -ldflags "-s -w" -o "$ctx/intelliscale" ./cmd/intelliscale)
cp "$root/deploy/Dockerfile" "$ctx/Dockerfile"
DOCKER_BUILDKIT=0 "$docker" build -q -t "$image" "$ctx" >/dev/null

pctx="$(mktemp -d)"
trap 'rm -rf "$ctx" "$pctx"' EXIT
cp "$root/bin/prometheus" "$pctx/prometheus"
cp "$root/deploy/prometheus/prometheus.yml" "$pctx/prometheus.yml"
cp "$root/deploy/Dockerfile.prometheus" "$pctx/Dockerfile"
DOCKER_BUILDKIT=0 "$docker" build -q -t intelliscale-prometheus:local "$pctx" >/dev/null
# A rebuild leaves the previous images untagged: remove those of this project only.
"$docker" image prune -f --filter label=io.intelliscale.image=true >/dev/null
echo "build-images: $image and intelliscale-prometheus:local built"
