# tocsin — the two commands a newcomer needs are `make run` and `make check`.
# Each installs what it needs (scripts/deps.sh), builds, and does its job.

BUILD    ?= build
ASAN     ?= build-asan
RELEASE  ?= build-release
FUZZBUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
WERROR   := $(if $(CI),--werror,)
MESON    := meson setup --wipe

.PHONY: all deps build run check check-asan bench fuzz clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(WERROR) $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Starts the main job on the embedded store (see README).
run: build
	scripts/run.sh $(BUILD)

$(ASAN)/build.ninja: | deps
	CC=clang meson setup $(WERROR) -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dbuildtype=debug $(ASAN)

# Every test: unit, CLI and fuzz-corpus replay in the normal build, then the
# unit tests and the corpora again under AddressSanitizer + UBSan.
check: build $(ASAN)/build.ninja
	ninja -C $(ASAN)
	scripts/check.sh $(BUILD) $(ASAN)

$(RELEASE)/build.ninja: | deps
	meson setup -Dbuildtype=release -Db_ndebug=true -Dtests=false $(RELEASE)

bench: deps $(RELEASE)/build.ninja
	ninja -C $(RELEASE)
	bench/run.sh $(RELEASE)

$(FUZZBUILD)/build.ninja: | deps
	CC=clang meson setup -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dbuildtype=debugoptimized $(FUZZBUILD)

# Runs each libFuzzer target for FUZZ_SECONDS on a copy of its corpus.
fuzz: deps $(FUZZBUILD)/build.ninja
	ninja -C $(FUZZBUILD)
	scripts/fuzz.sh $(FUZZBUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN) $(RELEASE) $(FUZZBUILD)
