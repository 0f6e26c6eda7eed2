# Kubernetes targets, included from the top-level Makefile.
#
#   make k8s-binaries  build etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#                      kwok and kwokctl from the pinned modules in deploy/k8s/tools into
#                      bin/k8s (kept when already at the pinned version)
#   make k8s-up        start the offline test cluster (kwok, binary runtime, RBAC on);
#                      admin kubeconfig in bin/k8s/kubeconfig
#   make k8s-down      stop it and delete its files
#   make k8s-e2e       the end-to-end test of --backend kubernetes on that cluster
#   make hpa-parity    the hpa policy beside the upstream HPA controller, decision by decision

K8S_BIN     ?= bin/k8s
K8S_CLUSTER ?= intelliscale

.PHONY: k8s-binaries k8s-up k8s-down k8s-e2e hpa-parity

k8s-binaries:
	bash deploy/k8s/build-cluster.sh $(K8S_BIN)

k8s-up: k8s-binaries
	bash deploy/k8s/cluster.sh up $(K8S_CLUSTER) $(abspath $(K8S_BIN))/kubeconfig
	@echo "export KUBECONFIG=$(abspath $(K8S_BIN))/kubeconfig"

k8s-down:
	bash deploy/k8s/cluster.sh down $(K8S_CLUSTER) $(abspath $(K8S_BIN))/kubeconfig

# The test starts a cluster of its own (and Prometheus from bin/prometheus) and removes
# them when it ends.
k8s-e2e: k8s-binaries prometheus
	INTELLISCALE_K8S=1 K8S_BIN=$(abspath $(K8S_BIN)) PROMETHEUS=$(abspath bin/prometheus) \
		$(GO) test -count=1 -v -timeout 20m -run TestClusterE2E ./live/kubernetes/

# The upstream HPA controller (k8s.io/kubernetes v1.34) over the agents scenario suite's
# traffic shapes, in compressed real time (about 1 s a sync, a few minutes in all), then
# the hpa policy over the same syncs. HPA_UPSTREAM=deploy/k8s/hpa-parity/upstream.csv
# refreshes the record the test suite compares against.
HPA_UPSTREAM ?= bin/k8s/hpa-upstream.csv
hpa-parity:
	@mkdir -p $(dir $(HPA_UPSTREAM))
	cd deploy/k8s/tools/kube && CGO_ENABLED=0 nice -n 10 $(GO) build -trimpath -o $(abspath $(K8S_BIN))/hpaparity ./hpaparity
	@# Not niced: the controller keeps wall-clock time, and its syncs must stay about 1 s apart.
	$(K8S_BIN)/hpaparity -scenarios agents/testdata/scenarios -out $(HPA_UPSTREAM) 2>$(HPA_UPSTREAM).log
	HPA_PARITY_CSV=$(abspath $(HPA_UPSTREAM)) $(GO) test -count=1 -v -run TestHPAParity ./live/kubernetes/
