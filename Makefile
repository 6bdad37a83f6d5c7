# synack: `make` builds everything into build/; `make test` and `make demo`
# first install the Debian packages they need (scripts/deps.sh).

PREFIX ?= /usr/local
CC ?= cc
BUILD := build
VERSION := 0.1.0

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wimplicit-fallthrough
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DSYNACK_VERSION='"$(VERSION)"' $(WARN) -fPIC -fvisibility=hidden -I. -Iinclude \
              $(shell pkg-config --cflags libnghttp2 2>/dev/null) $(CFLAGS)
LIBS := -lpcap $(shell pkg-config --libs libnghttp2 2>/dev/null || echo -lnghttp2) -lpthread -lm

LAYERS := core link wire net tcp api http sim
LIB_SRCS := $(wildcard $(addsuffix /*.c,$(LAYERS)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELPERS := $(wildcard tests/unit/helpers/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all lib tools tests fuzz-build test demo fuzz bench install clean deps-test deps-demo deps-bench
all: lib tools tests $(BUILD)/synack.pc

lib: $(BUILD)/libsynack.a $(BUILD)/libsynack.so
tools: $(BUILD)/synack
tests: $(UNIT_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libsynack.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libsynack.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libsynack.so.0 -o $@ $^ $(LIBS)

$(BUILD)/synack: $(TOOL_OBJS) $(BUILD)/libsynack.a
	@echo "  LD $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $(TOOL_OBJS) $(BUILD)/libsynack.a $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_HELPERS) $(BUILD)/libsynack.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(UNIT_HELPERS) $(BUILD)/libsynack.a -lcmocka $(LIBS)

# The .pc names the install prefix, so it is written for the PREFIX given.
PC_TEXT = 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: synack\nDescription: a user-space TCP/IP stack\nVersion: %s\nLibs: -L$${libdir} -lsynack\nLibs.private: %s\nCflags: -I$${includedir}\n'
$(BUILD)/synack.pc: Makefile
	@mkdir -p $(BUILD)
	@printf $(PC_TEXT) '$(PREFIX)' '$(VERSION)' '$(LIBS)' > $@

# libFuzzer targets: clang, ASan+UBSan, the library compiled in directly.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. -Iinclude \
               $(shell pkg-config --cflags libnghttp2 2>/dev/null)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS) $(FUZZ_TOOL_SRCS) $(LIBS)
# fuzz_trace also compiles in `synack trace`'s parts (not tools/main.c).
FUZZ_TRACE_SRCS := $(filter-out tools/trace.c,$(wildcard tools/trace*.c)) tools/cli.c
$(BUILD)/fuzz/fuzz_trace: FUZZ_TOOL_SRCS := $(FUZZ_TRACE_SRCS)
$(BUILD)/fuzz/fuzz_trace: $(FUZZ_TRACE_SRCS) tools/trace.h tools/cli.h
fuzz-build: $(FUZZ_BINS)

deps-test:
	@scripts/deps.sh test
deps-demo:
	@scripts/deps.sh demo
deps-bench:
	@scripts/deps.sh bench

# The whole suite: unit, packet scripts, simulation, interop, short fuzz.
test: deps-test
	$(MAKE) all fuzz-build
	tests/run.sh

demo: deps-demo
	$(MAKE) all
	scripts/demo.sh

# Longer fuzzing by hand: FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 600
fuzz: deps-test
	$(MAKE) fuzz-build
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p tests/fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus/$$n || exit 1; done

bench: deps-bench
	$(MAKE) all
	bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/synack
	install -m 755 $(BUILD)/synack $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libsynack.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libsynack.so $(DESTDIR)$(PREFIX)/lib/libsynack.so.0
	ln -sf libsynack.so.0 $(DESTDIR)$(PREFIX)/lib/libsynack.so
	install -m 644 include/synack/*.h $(DESTDIR)$(PREFIX)/include/synack/
	printf $(PC_TEXT) '$(PREFIX)' '$(VERSION)' '$(LIBS)' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/synack.pc

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(TOOL_OBJS:.o=.d)
