# The README's two commands. Everything else is CMake.
BUILD_REL  ?= build/release
BUILD_TEST ?= build/asan
JOBS       ?= $(shell nproc)
CONF       ?= conf

.PHONY: all run test build-release build-test bench clean

all: build-release

build-release:
	@scripts/deps.sh
	@scripts/sounds.sh
	@cmake -S . -B $(BUILD_REL) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD_REL) -j $(JOBS)

run: build-release
	$(BUILD_REL)/confabd -c $(CONF)

build-test:
	@scripts/deps.sh --test
	@scripts/sounds.sh
	@cmake -S . -B $(BUILD_TEST) -DCMAKE_BUILD_TYPE=Debug -DCONFAB_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_TEST) -j $(JOBS)

test: build-test
	cd $(BUILD_TEST) && ctest --output-on-failure -j $(JOBS) --timeout 300

bench: build-release
	@scripts/deps.sh --test
	bench/run.sh $(BUILD_REL)

clean:
	rm -rf build
