#!/usr/bin/env bash
# Starts or stops the offline test cluster: kwokctl with the binary runtime, every
# component from bin/k8s (deploy/k8s/build-cluster.sh builds them), RBAC enforced, nodes
# simulated by kwok so that pods go Running without images. Nothing is downloaded.
#
#   bash deploy/k8s/cluster.sh up   [NAME] [KUBECONFIG]   (defaults: intelliscale, bin/k8s/kubeconfig)
#   bash deploy/k8s/cluster.sh down [NAME] [KUBECONFIG]
#
# The cluster's files (certificates, etcd data, logs) live under KWOK_WORKDIR (default
# bin/k8s/work); the admin kubeconfig is written to KUBECONFIG and nowhere else.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${K8S_BIN:-$root/bin/k8s}"
cmd="${1:?usage: cluster.sh up|down [NAME] [KUBECONFIG]}"
name="${2:-intelliscale}"
kubeconfig="${3:-$bin/kubeconfig}"
export KWOK_WORKDIR="${KWOK_WORKDIR:-$bin/work}"

for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwokctl; do
	if [ ! -x "$bin/$b" ]; then
		echo "cluster: $bin/$b missing: run make k8s-binaries (deploy/k8s/build-cluster.sh) first" >&2
		exit 1
	fi
done
export KWOK_KUBE_VERSION="$(cat "$bin/KUBE_VERSION")"

case "$cmd" in
up)
	mkdir -p "$(dirname "$kubeconfig")"
	start=$SECONDS
	"$bin/kwokctl" create cluster --name "$name" --runtime binary \
		--kube-authorization \
		--kubeconfig "$kubeconfig" \
		--etcd-binary "$bin/etcd" \
		--kube-apiserver-binary "$bin/kube-apiserver" \
		--kube-controller-manager-binary "$bin/kube-controller-manager" \
		--kube-scheduler-binary "$bin/kube-scheduler" \
		--kwok-controller-binary "$bin/kwok" \
		--wait 2m
	# One simulated node for the pods to land on.
	"$bin/kwokctl" scale node --name "$name" --replicas 1
	echo "cluster: $name up in $((SECONDS - start)) s; kubeconfig $kubeconfig"
	;;
down)
	"$bin/kwokctl" delete cluster --name "$name" --kubeconfig "$kubeconfig"
	rm -f "$kubeconfig"
	;;
*)
	echo "cluster: unknown command $cmd: want up or down" >&2
	exit 2
	;;
esac
