# Thin wrapper around CMake. The two commands of the quick start:
#   make demo   - a simulated school gate on the embedded defaults
#   make test   - build (normal + ASan/UBSan) and run every test
# Both install missing Debian packages first (.ci/packages is the one list).

BUILD      ?= build
SAN_BUILD  ?= build-sanitize
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
DEMO_DIR   := $(BUILD)/demo
CTEST_ARGS ?= --output-on-failure

.PHONY: all deps build build-sanitize test test-normal test-sanitize demo install fuzz clean

all: build

deps:
	@.ci/install-deps

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

$(SAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DGS_SANITIZE=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build-sanitize: deps $(SAN_BUILD)/CMakeCache.txt
	cmake --build $(SAN_BUILD) -j $(JOBS)

test-normal: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -j $(JOBS)

# detect_leaks: LeakSanitizer is part of ASan; a leak fails the test.
test-sanitize: build-sanitize
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_ARGS) -j $(JOBS)

test: test-normal test-sanitize

# A fresh database under build/demo with the demo roster; the device simulator
# plays a random school morning from that roster on the demo's four lanes (its
# arrivals go to build/demo/sim.log), and the daemon runs in the foreground,
# logging every reading and device state, until Ctrl-C stops both.
demo: build
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	cp config/demo.conf $(DEMO_DIR)/demo.conf
	python3 tests/tools/make_roster.py --students 800 --staff 60 --classes 24 --seed 2020 \
	  > $(DEMO_DIR)/roster.csv
	$(BUILD)/gatescreen -c $(DEMO_DIR)/demo.conf roster import $(DEMO_DIR)/roster.csv
	$(BUILD)/gatescreen-sim -c $(DEMO_DIR)/demo.conf --random 2020 \
	  --roster $(DEMO_DIR)/roster.csv --rate 20 --duration 60min > $(DEMO_DIR)/sim.log 2>&1 & \
	sim=$$!; trap 'kill $$sim 2>/dev/null' EXIT; \
	for i in $$(seq 50); do grep -q '^ready' $(DEMO_DIR)/sim.log && break; sleep 0.1; done; \
	$(BUILD)/gatescreend -f -c $(DEMO_DIR)/demo.conf

install: build
	cmake --install $(BUILD)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DGS_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
