#!/usr/bin/env bash
# Chooses the Prometheus image of the Compose stack and writes the choice to FILE as the
# extra Compose arguments it needs:
#   official  prom/prometheus (the image docker-compose.yml names), when it is present
#             or can be pulled: the upstream server, web UI included;
#   local     intelliscale-prometheus:local, built from the Go module by build-images.sh
#             (docker-compose.offline.yml), when no registry is reachable: its HTTP API
#             works, its web UI answers 500 (the React assets are built with npm).
# MODE is auto (the default: official if it can be had, else local), official or local.
#   deploy/prometheus-image.sh FILE [MODE]
set -euo pipefail
out="$1"
mode="${2:-auto}"
docker="${DOCKER:-docker}"
root="$(cd "$(dirname "$0")/.." && pwd)"
image="$(sed -n 's/^ *image: *\(prom\/prometheus:[^ ]*\).*/\1/p' "$root/deploy/docker-compose.yml" | head -1)"
[ -n "$image" ] || { echo "prometheus-image: no prom/prometheus image in deploy/docker-compose.yml" >&2; exit 1; }
case "$mode" in
auto)
	if "$docker" image inspect "$image" >/dev/null 2>&1 || timeout 60 "$docker" pull -q "$image" >/dev/null 2>&1; then
		mode=official
	else
		mode=local
	fi
	;;
official)
	"$docker" image inspect "$image" >/dev/null 2>&1 || "$docker" pull -q "$image" >/dev/null ||
		{ echo "prometheus-image: $image cannot be pulled (LIVE_PROMETHEUS=official)" >&2; exit 1; }
	;;
local) ;;
*) echo "prometheus-image: mode $mode: want auto, official or local" >&2; exit 2 ;;
esac
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
if [ "$mode" = official ]; then
	: >"$tmp"
	echo "prometheus-image: the official $image"
else
	echo "-f deploy/docker-compose.offline.yml" >"$tmp"
	echo "prometheus-image: no registry reachable for $image: the locally built intelliscale-prometheus:local (no web UI)"
fi
mv "$tmp" "$out"
