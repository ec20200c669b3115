# Thin wrapper around CMake. The two commands of the quick start:
#   make demo   - a whole simulated school day (gates, nurse, figures) on the embedded defaults
#   make test   - build (normal + ASan/UBSan + ThreadSanitizer + libgpiod 2.x + arm64) and run every test
# Both install missing Debian packages first (.ci/packages is the one list).

BUILD      ?= build
SAN_BUILD  ?= build-sanitize
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
GPIOD2_BUILD ?= build-gpiod2
JOBS       ?= $(shell nproc)
DEMO_DIR   := $(BUILD)/demo
# The demo's ports: the Modbus simulator on it, the school's web page, the bureau's
# collector, its page and the simulated face terminal on the four after it
# (make demo DEMO_PORT_BASE=25020).
DEMO_PORT_BASE ?= 15020
CTEST_ARGS ?= --output-on-failure

.PHONY: all deps build build-sanitize build-tsan test test-normal test-sanitize test-tsan \
        test-gpiod2 test-arm64 test-armhf deb deb-arm64 deb-armhf reliability-long demo install \
        fuzz clean

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

$(TSAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGS_TSAN=ON

build-tsan: deps $(TSAN_BUILD)/CMakeCache.txt
	cmake --build $(TSAN_BUILD) -j $(JOBS)

test-normal: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -j $(JOBS)

# detect_leaks: LeakSanitizer is part of ASan; a leak fails the test. Tests labelled
# "timing" (Modbus poll rates and recovery times) measure time, not memory: normal build only.
test-sanitize: build-sanitize
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_ARGS) -j $(JOBS) -LE timing

# The GPIO shim's libgpiod 2.x backend: Debian 12 has only 1.6, so libgpiod 2.x comes
# from Debian 13 (tests/vm/libgpiod2.sh); the unit tests and the GPIO VM test run on it.
$(GPIOD2_BUILD)/CMakeCache.txt: | deps
	PKG_CONFIG_PATH=$$(tests/vm/libgpiod2.sh | tail -1) \
	  cmake -S . -B $(GPIOD2_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

test-gpiod2: deps $(GPIOD2_BUILD)/CMakeCache.txt
	cmake --build $(GPIOD2_BUILD) -j $(JOBS)
	cd $(GPIOD2_BUILD) && ctest $(CTEST_ARGS) -j $(JOBS) -L unit && \
	  ctest $(CTEST_ARGS) -R 'test_gpio_vm'

# ThreadSanitizer: the unit tests and the integration tests whose programs run
# threads (Modbus buses, the web page, the terminals' listener, the uploader, reloads while busy, the bureau's
# collector with its request threads, connection pool, and reloads under readers of
# the missing list, the bureau page's live-notice streams). A report ends the program (halt_on_error), which fails its test. tests/tsan.supp names
# only other libraries' internals, never our code.
TSAN_TESTS ?= unit\.|test_modbus|test_web|test_upstream_daemon|test_reload_busy|test_gate_e2e|test_terminal_push|test_terminal_adms|test_terminal_stream|test_schedule|test_bureau_collector|test_bureau_scaleout|test_bureau_schools|test_bureau_missing|test_bureau_rollup|test_bureau_page
test-tsan: build-tsan
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp \
	  ctest $(CTEST_ARGS) -j $(JOBS) -R '$(TSAN_TESTS)'

# The gate controllers' ARM builds (README, "ARM gate controllers"): cross-compiled
# with Debian multiarch (.ci/install-cross), the unit tests and the Modbus and gate
# integration tests run under qemu-user. arm64 is in `make test`; armhf (32-bit: a
# 32-bit long and time_t) on demand, `make test-armhf`. The bureau is left out
# (GS_BUREAU=OFF).
CROSS_CMAKE = -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/toolchain-cross.cmake -DGS_BUREAU=OFF \
              -DCMAKE_BUILD_TYPE=RelWithDebInfo
CROSS_TRIPLET_arm64 = aarch64-linux-gnu
CROSS_TRIPLET_armhf = arm-linux-gnueabihf
build-arm64/CMakeCache.txt build-armhf/CMakeCache.txt: build-%/CMakeCache.txt: | deps
	.ci/install-cross $*
	cmake -S . -B build-$* $(CROSS_CMAKE) -DGS_CROSS_TRIPLET=$(CROSS_TRIPLET_$*)

test-arm64 test-armhf: test-%: deps build-%/CMakeCache.txt
	.ci/install-cross $*
	cmake --build build-$* -j $(JOBS)
	cd build-$* && ctest $(CTEST_ARGS) -j $(JOBS) -L unit && ctest $(CTEST_ARGS) -L cross

# Debian packages (README, "Installing"), into the parent folder as dpkg-buildpackage
# does: for this machine, and cross-built for the gate controllers (without the bureau).
deb: deps
	dpkg-buildpackage -us -uc -b
deb-arm64 deb-armhf: deb-%: deps
	.ci/install-cross $*
	dpkg-buildpackage -a$* -Pnocheck,pkg.gatescreen.nobureau -us -uc -b

test: test-normal test-sanitize test-tsan test-gpiod2 test-arm64

# The fault-injection suite's long versions (tests/reliability/README.md): on demand.
reliability-long: build
	cd $(BUILD) && GS_LONG=1 ctest $(CTEST_ARGS) -L reliability --timeout 7200

# A whole simulated school day in a few minutes (tests/tools/demo_day.py): a fresh
# database under build/demo with the demo roster, the device simulator serving the
# four lanes, the daemon showing each lane's lights on the console, the nurse's
# actions through the CLI and on the web page (HTTPS), the bureau's collector on a
# private PostgreSQL (build/demo/bureau) with 60 other schools' last 30 days, the
# day's figures at the end, and the day's registers printed by headless Chromium to
# build/demo/register-DAY.pdf (tests/browser/print_registers.js; chromium and
# poppler-utils come from .ci/packages, playwright-core from npm ci when missing).
# At a terminal it keeps running until Ctrl-C.
demo: build
	python3 tests/tools/demo_day.py --build $(BUILD) --dir $(DEMO_DIR) --port-base $(DEMO_PORT_BASE)

install: build
	cmake --install $(BUILD)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DGS_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(GPIOD2_BUILD) build-arm64 build-armhf
