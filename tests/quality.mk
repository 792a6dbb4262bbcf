# Sanitizers, memcheck and fuzzing (included by the Makefile).
#
#   make asan       the unit tests built with ASan+UBSan, run
#   make memcheck   the unit tests under valgrind memcheck
#   make fuzz       each libFuzzer target for FUZZ_RUNS executions (1e6)
#   make asan-engine  the engine built with ASan+UBSan, for fio with the
#                   sanitizer runtimes in LD_PRELOAD

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ASAN_DIR := $(BUILD)/asan
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_RUNS ?= 1000000
UNIT_SRCS := $(wildcard tests/unit/test_*.c)

$(ASAN_DIR)/%: tests/unit/%.c $(CORE_SRCS) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=gnu11 -Wall -Wextra $(SAN_FLAGS) -o $@ $< \
		$(CORE_SRCS) -lcmocka $(LIBS)

asan: $(UNIT_SRCS:tests/unit/%.c=$(ASAN_DIR)/%)
	@for t in $^; do echo "asan: $$t"; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $$t || exit 1; done

memcheck: unit-tests
	@for t in $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%); do \
		echo "memcheck: $$t"; \
		valgrind -q --error-exitcode=1 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect $$t || exit 1; \
	done

# Each fuzz target links the stages up to the one it fuzzes: the planner
# the options and the layout; the segment calculator (inspection) those
# that inspection calls back to (tests/integration/stages.sh), the
# profiler the registrar is handed among them.
FUZZ_PLAN_SRCS := engine/config.c engine/layout.c
FUZZ_SEGMENTS_SRCS := $(FUZZ_PLAN_SRCS) engine/probe.c engine/memory.c \
	engine/profile.c engine/registrar.c engine/inspect.c

$(FUZZ_DIR)/fuzz_plan: $(FUZZ_PLAN_SRCS)
$(FUZZ_DIR)/fuzz_segments: $(FUZZ_SEGMENTS_SRCS)

$(FUZZ_DIR)/%: tests/fuzz/%.c $(wildcard include/*.h)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ \
		$(filter %.c,$^) $(LIBS)

FUZZERS := $(FUZZ_DIR)/fuzz_plan $(FUZZ_DIR)/fuzz_segments

fuzz-build: $(FUZZERS)

fuzz: $(FUZZERS)
	@for f in $^; do echo "fuzz: $$f, $(FUZZ_RUNS) runs"; \
		if ! $$f -runs=$(FUZZ_RUNS) -max_len=256 >$$f.log 2>&1; then \
			tail -30 $$f.log; exit 1; fi; \
		grep -E '^Done [0-9]+ runs' $$f.log; done

ASAN_ENGINE := $(BUILD)/asan-engine/uring_folioreg.so

$(ASAN_ENGINE): $(wildcard engine/*.c include/*.h) VERSION
	$(MAKE) BUILD=$(BUILD)/asan-engine FIO_SRC=$(FIO_SRC) \
		CFLAGS="$(SAN_FLAGS) -std=gnu11 -Wall -Wextra -fPIC -fvisibility=hidden" \
		ENGINE=$@ $@

asan-engine: $(ASAN_ENGINE)

.PHONY: asan memcheck fuzz fuzz-build asan-engine
