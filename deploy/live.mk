# Live stack targets, included from the top-level Makefile.
#
#   make live-images   build intelliscale:local and intelliscale-prometheus:local (no registry)
#   make live-up       start the stack: the official Prometheus image where a registry is
#                      reachable, else the locally built one (LIVE_PROMETHEUS=auto|official|local)
#   make live-down     stop it and remove its containers, networks and volumes
#   make live-demo     start it, replay deploy/traces/surge.csv, print what the controller did
#                      (POLICY_FILE=path: with that exported policy instead of the threshold rule;
#                      IS_MODE=shadow: decisions logged, nothing scaled)
#   make live-e2e      the end-to-end test on the real Docker engine
#   make calibrate-e2e the sim-to-live gap: replay a surge on the stack, calibrate the
#                      simulator from Prometheus, compare (CALIBRATE_E2E_OUT=dir keeps the run)

LIVE_PROJECT ?= intelliscale
# POLICY_FILE is an exported policy (intelliscale export); empty runs LIVE_POLICY.
POLICY_FILE ?=
LIVE_POLICY ?= threshold
# Parameters of the rule policy: quick reactions, to suit the short demo trace.
LIVE_PARAMS ?= {upper: 0.7, lower: 0.3, cooldown_up: 0s, cooldown_down: 10s}
# 0s with a policy file: the control interval it was trained at.
LIVE_INTERVAL ?= $(if $(POLICY_FILE),0s,5s)
# IS_MODE=shadow: the controller logs its decisions and scales nothing.
IS_MODE ?= enforce
# Which Prometheus image: auto (official where it can be pulled, else local), official, local.
LIVE_PROMETHEUS ?= auto
# The choice make live-images made (deploy/prometheus-image.sh); without one, local.
LIVE_PROMETHEUS_CHOICE = bin/live-prometheus.args
LIVE_COMPOSE = COMPOSE_PROJECT_NAME=$(LIVE_PROJECT) IS_INTERVAL=$(LIVE_INTERVAL) IS_MODE=$(IS_MODE) \
	IS_POLICY=$(if $(POLICY_FILE),,$(LIVE_POLICY)) IS_POLICY_PARAMS='$(if $(POLICY_FILE),,$(LIVE_PARAMS))' \
	IS_POLICY_FILE=$(if $(POLICY_FILE),$(abspath $(POLICY_FILE))) \
	docker-compose -f deploy/docker-compose.yml \
	$$(cat $(LIVE_PROMETHEUS_CHOICE) 2>/dev/null || echo -f deploy/docker-compose.offline.yml)

# Where make calibrate-e2e saves the run (live figures, calibrated config, controller
# log); empty: nowhere.
CALIBRATE_E2E_OUT ?=

.PHONY: live-images live-up live-down live-demo live-e2e calibrate-e2e

live-images:
	deploy/build-images.sh
	@bash deploy/prometheus-image.sh $(LIVE_PROMETHEUS_CHOICE) $(LIVE_PROMETHEUS)

live-up: live-images
	$(if $(POLICY_FILE),@test -f '$(POLICY_FILE)' || { echo 'POLICY_FILE=$(POLICY_FILE): no such file'; exit 1; })
	$(LIVE_COMPOSE) up -d
	@echo "lb http://127.0.0.1:8000  prometheus http://127.0.0.1:9090  controller http://127.0.0.1:9100/metrics"

live-down:
	$(LIVE_COMPOSE) down -v --remove-orphans

live-demo: live-up
	$(LIVE_COMPOSE) run --rm loadgen
	@echo "--- what the controller did (scaling actions):"
	@$(LIVE_COMPOSE) logs --no-color controller | grep -E '^[^|]*\| (controller:|warning:)|action=(up|down)|hold=|replica ' || true
	@echo "--- app replicas now:"
	@docker ps --filter label=com.docker.compose.project=$(LIVE_PROJECT) --filter label=com.docker.compose.service=app --format '{{.Names}}\t{{.Status}}'
	@echo "(make live-down removes the stack)"

live-e2e: live-images
	INTELLISCALE_E2E=1 $(GO) test -count=1 -v -timeout 20m -run TestE2E ./live/docker/

# The stack's images are built by the test itself, under a tag of its own.
calibrate-e2e:
	INTELLISCALE_E2E=1 INTELLISCALE_E2E_CALIBRATE=1 INTELLISCALE_E2E_OUT=$(CALIBRATE_E2E_OUT) \
		$(GO) test -count=1 -v -timeout 20m -run TestE2ESimToLiveGap ./live/calibrate/
