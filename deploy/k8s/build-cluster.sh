#!/usr/bin/env bash
# Builds the offline test cluster's binaries from the pinned Go modules under
# deploy/k8s/tools: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
# and kwokctl. A binary already built at the pinned version is kept, so a second run
# costs nothing. No image and no prebuilt binary is downloaded.
#
#   bash deploy/k8s/build-cluster.sh [OUTDIR]     (default bin/k8s)
#
# GOFLAGS, GO and NICE (default "nice -n 10") are honoured; BUILD_P (default 2) caps the
# compiler's parallelism so the build shares a small machine politely.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/bin/k8s}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
GO="${GO:-go}"
NICE="${NICE:-nice -n 10}"
BUILD_P="${BUILD_P:-2}"
tools="$root/deploy/k8s/tools"
gover="$($GO env GOVERSION)"

# version_of MODULE_DIR MODULE: the version the tools module pins.
version_of() {
	(cd "$1" && $GO list -m -f '{{.Version}}' "$2")
}

# build NAME MODULE_DIR MODULE PACKAGE [LDFLAGS]
build() {
	local name="$1" dir="$2" mod="$3" pkg="$4" ldflags="${5:-}"
	local ver stamp want
	ver="$(version_of "$dir" "$mod")"
	want="$mod@$ver $gover"
	stamp="$out/.$name.version"
	if [ -x "$out/$name" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		echo "build-cluster: $name $ver already built"
		return
	fi
	echo "build-cluster: building $name from $mod@$ver"
	local start=$SECONDS
	rm -f "$stamp"
	(cd "$dir" && CGO_ENABLED=0 $NICE $GO build -p "$BUILD_P" -trimpath \
		-ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$pkg")
	mv "$out/$name.tmp" "$out/$name"
	echo "$want" >"$stamp"
	echo "build-cluster: $name built in $((SECONDS - start)) s ($(du -m "$out/$name" | cut -f1) MB)"
}

kver="$(version_of "$tools/kube" k8s.io/kubernetes)"
# The version a kube binary reports (and kwokctl reads) comes from these variables, as
# Kubernetes' own build sets them.
minor="$(echo "$kver" | cut -d. -f2)"
kflags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	kflags="$kflags -X $p.gitVersion=$kver -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

start=$SECONDS
build etcd "$tools/etcd" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3
build kwok "$tools/kwok" sigs.k8s.io/kwok sigs.k8s.io/kwok/cmd/kwok
build kwokctl "$tools/kwok" sigs.k8s.io/kwok sigs.k8s.io/kwok/cmd/kwokctl
for b in kube-apiserver kube-controller-manager kube-scheduler; do
	build "$b" "$tools/kube" k8s.io/kubernetes "k8s.io/kubernetes/cmd/$b" "$kflags"
done
echo "$kver" >"$out/KUBE_VERSION"
echo "build-cluster: all binaries in $out ($((SECONDS - start)) s)"
