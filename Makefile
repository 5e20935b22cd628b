# netpulse: the two commands (see README.md).
#   make demo   install what is missing, build, run the whole cluster locally
#   make test   install what is missing, build, run every unit and integration test
# Other targets: deps, build, unit, it (integration only), asan, fuzz (tests/fuzz/run.sh; FUZZ_SECONDS),
#   bench, bench-sim (bench/README.md), clean,
#   images (container image with podman), k8s-test (Helm chart checks + podman kube play run),
#   detect-eval (docs/detection-eval.md).

BUILD    ?= build
WERROR   ?= $(if $(CI),ON,OFF)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
JOBS     ?= $(shell nproc)

.PHONY: all deps build test unit it demo asan fuzz bench bench-sim clean images k8s-test detect-eval

all: build

deps:
	@bash infra/deps.sh --images

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -G "$(GENERATOR)" -DNP_WERROR=$(WERROR)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure --timeout 900

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

it: build
	ctest --test-dir $(BUILD) --output-on-failure -L integration

asan: deps
	cmake -S . -B build-asan -G "$(GENERATOR)" -DNP_SANITIZE=ON -DNP_WERROR=ON
	cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -L unit

# Every libFuzzer target for FUZZ_SECONDS each (build-fuzz/, clang); corpora persist between runs.
FUZZ_SECONDS ?= 60
fuzz: deps
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# The benchmark harness: its own Kafka + Redis, a few minutes, a table (bench/README.md).
bench: build
	bash bench/run.sh $(BENCH_ARGS)

# The coordinator under 12 / 100 / 1000 partitions' partials and 10k..10M sources per pane:
# its own Redis, no Kafka (bench/README.md, "Coordinator simulation").
bench-sim: build
	bash bench/sim.sh $(BENCH_ARGS)

# The detection evaluation (docs/detection-eval.md): Cloud Monitoring, synthetic series, 20
# scenario seeds; a few minutes, so not part of `make test` (which runs a short version).
detect-eval: build
	bash tools/detect-eval.sh $(BUILD)/detect-eval

# Container image netpulse:<version> with podman (base image made by debootstrap, cached).
images:
	@bash infra/deps.sh --images --no-kafka
	bash infra/images.sh

# Kubernetes: chart lint/render/schema checks and the podman kube play run (tests/helm/README.md).
k8s-test: build
	ctest --test-dir $(BUILD) --output-on-failure -L k8s

demo: build
	@bash infra/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
