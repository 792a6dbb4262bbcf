# uring_folioreg: a fio ioengine measuring io_uring buffer registration.
#
#   make deps             install what is missing, fetch the installed fio's
#                         source into build/fio-src (a private apt set-up)
#   make deps-lab         install what the kernel lab needs (QEMU, busybox,
#                         a kernel's build tools); make lab and lab-ab run it
#   make                  build ./uring_folioreg.so against it (builds only)
#   make FIO_SRC=DIR      build against another fio source tree
#   make check            make deps, build, run every test
#   make other-fio        the second fio the packaging test runs (network)
#   make demo             set up and run the default demonstration
#   make bench            engine vs fio's io_uring engine, side by side
#   make lab KERNELS="bookworm sid" MATRIX=strategies OUT=res/
#                         run a matrix of the kit on other kernels under QEMU
#   make lab-ab BASE=sid PATCH="a.patch b.patch" MATRIX=rfc OUT=res/
#                         A/B of kernel patches, built from source
#   make lab-releases KERNELS="bookworm trixie sid experimental" OUT=res/
#                         registration cost across kernel releases, plotted
#   make install          install (DESTDIR, PREFIX, LIBDIR); make uninstall
#   make dist             uring_folioreg-VERSION.tar.gz from git ls-files
#   make dist-fio         fio's source tarball the packages build against
#   make deb-orig         the Debian source package's upstream tarballs

VERSION := $(shell cat VERSION)
FIO ?= fio
BUILD ?= build
DEFAULT_FIO_SRC := $(BUILD)/fio-src
FIO_SRC ?= $(DEFAULT_FIO_SRC)

CC ?= cc
CFLAGS ?= -O2 -g
# The engine's own flags, apart from CFLAGS so that make CFLAGS=... keeps
# them (-fPIC above all); -MMD: header dependencies.
UFR_CFLAGS := -std=gnu11 -Wall -Wextra -fPIC -fvisibility=hidden -MMD -MP
CPPFLAGS += -Iinclude -D_GNU_SOURCE -D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64 \
	-DUFR_VERSION='"$(VERSION)"'
LIBS := -luring -lnuma -lpthread

# fio's headers as fio itself compiles them; -isystem keeps their
# warnings out of ours.
FIO_CPPFLAGS = -isystem $(FIO_SRC) -include $(FIO_SRC)/config-host.h \
	-DFIO_INTERNAL -DBITS_PER_LONG=64 \
	-DUFR_FIO_VERSION='"$(FIO_VERSION)"'
FIO_VERSION = $(shell sed -n 's/^FIO_VERSION = //p' \
	$(FIO_SRC)/FIO-VERSION-FILE 2>/dev/null)
ifneq ($(UFR_FAKE_FIO_VERSION),)
FIO_VERSION = $(UFR_FAKE_FIO_VERSION)
endif

# The two files that include fio's headers; the rest is fio-free.
FIO_SRCS := engine/uring_folioreg.c engine/fio_output.c
CORE_SRCS := $(filter-out $(FIO_SRCS),$(wildcard engine/*.c))
CORE_OBJS := $(CORE_SRCS:engine/%.c=$(BUILD)/%.o)
CORE_LIB := $(BUILD)/libufr.a
ENGINE := uring_folioreg.so

all: $(ENGINE)

$(BUILD)/%.o: engine/%.c VERSION | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(UFR_CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(FIO_SRCS:engine/%.c=$(BUILD)/%.o): $(BUILD)/%.o: engine/%.c VERSION \
		$(FIO_SRC)/config-host.h $(FIO_SRC)/FIO-VERSION-FILE | $(BUILD)
	@$(FIO_SRC_CHECK)
	$(CC) $(CPPFLAGS) $(FIO_CPPFLAGS) $(CFLAGS) $(UFR_CFLAGS) -c -o $@ $<

$(ENGINE): $(FIO_SRCS:engine/%.c=$(BUILD)/%.o) $(CORE_LIB)
	$(CC) $(CFLAGS) $(UFR_CFLAGS) -shared -o $@ $^ $(LIBS) $(LDFLAGS)

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)

$(BUILD):
	mkdir -p $@

# fio's source: make deps fetches the installed fio's into build/fio-src
# (again when fio is upgraded); FIO_SRC=DIR is configured in place, as
# Debian configures fio, if nobody did yet. Either way its configuration
# is checked against the fio binary $(FIO) before anything compiles.
FIO_SRC_CHECK = scripts/fio-config-check.sh "$$(command -v $(FIO))" \
	$(FIO_SRC)/config-host.h
ifeq ($(FIO_SRC),$(DEFAULT_FIO_SRC))
FIO_SRC_CHECK += && scripts/fio-src.sh --check $(FIO_SRC)
$(FIO_SRC)/config-host.h $(FIO_SRC)/FIO-VERSION-FILE &:
	@echo "uring_folioreg: no fio source in $(FIO_SRC); fetch the installed fio's: make deps (or build against a tree: make FIO_SRC=DIR)" >&2
	@exit 1
else
$(FIO_SRC)/config-host.h $(FIO_SRC)/FIO-VERSION-FILE &:
	scripts/fio-configure.sh $(FIO_SRC)
endif

deps:
	scripts/deps.sh
ifeq ($(FIO_SRC),$(DEFAULT_FIO_SRC))
	scripts/fio-src.sh $(FIO_SRC)
endif

# What the tests need is built first; the second fio's preparation (below)
# may fail without network, and then the packaging test skips its cases.
check: deps
	$(MAKE) all unit-tests tools $(NOSTATS_ENGINE)
	-$(MAKE) other-fio
	tests/run.sh

# A second fio, newer than the installed one, for the packaging test to
# build the engine against and run (docs/packaging.md: fio versions): Debian
# unstable's, fetched (network) and built once under $(OTHER_FIO_DIR)
# by scripts/other-fio.sh; OTHER_FIO_REFRESH=1 fetches the newest again.
OTHER_FIO_DIR := $(BUILD)/other-fio

other-fio:
	scripts/other-fio.sh $(OTHER_FIO_DIR)

unit-tests: $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

$(BUILD)/tests/%: tests/unit/%.c $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(UFR_CFLAGS) -o $@ $< $(CORE_LIB) \
		-lcmocka $(LIBS)

# Test tools. bare_register is the plain-liburing yardstick the engine's
# registration cost is compared with: it shares no code with the engine.
TOOLS := $(BUILD)/tools/bare_register

tools: $(TOOLS)

$(BUILD)/tools/bare_register: tests/tools/bare_register.c
	@mkdir -p $(@D)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -o $@ $< -luring

demo: deps
	$(MAKE) all
	scripts/demo.sh

# The same engine without its per-I/O counters, for what they cost.
NOSTATS_ENGINE := $(BUILD)/nostats/uring_folioreg.so

$(NOSTATS_ENGINE): $(wildcard engine/*.c include/*.h) VERSION
	$(MAKE) BUILD=$(BUILD)/nostats FIO_SRC=$(FIO_SRC) \
		CFLAGS="$(CFLAGS) -DUFR_NO_IO_STATS" ENGINE=$@ $@

# The engine and its counter-less build for the second fio, when there is
# one: make bench compares against both fios' io_uring engines.
OTHER_BENCH := $(BUILD)/other-bench
OTHER_FIO_BIN := $(OTHER_FIO_DIR)/current/fio
bench-other-fio:
	$(MAKE) BUILD=$(OTHER_BENCH) FIO_SRC=$(OTHER_FIO_DIR)/current \
		FIO=$(OTHER_FIO_BIN) ENGINE=$(OTHER_BENCH)/uring_folioreg.so \
		$(OTHER_BENCH)/uring_folioreg.so
	$(MAKE) BUILD=$(OTHER_BENCH)/nostats FIO_SRC=$(OTHER_FIO_DIR)/current \
		FIO=$(OTHER_FIO_BIN) CFLAGS="$(CFLAGS) -DUFR_NO_IO_STATS" \
		ENGINE=$(OTHER_BENCH)/nostats/uring_folioreg.so \
		$(OTHER_BENCH)/nostats/uring_folioreg.so

bench: deps
	$(MAKE) all tools $(NOSTATS_ENGINE)
	-$(MAKE) other-fio && $(MAKE) bench-other-fio
	scripts/bench.sh
	if [ -f $(OTHER_BENCH)/nostats/uring_folioreg.so ]; then \
		FIO=$(OTHER_FIO_BIN) BENCH_ENGINE=$(OTHER_BENCH)/uring_folioreg.so \
		BENCH_NOSTATS_ENGINE=$(OTHER_BENCH)/nostats/uring_folioreg.so \
		BENCH_WORKLOADS="$${BENCH_WORKLOADS:-devnull-write-4k-qd32 odirect-randread-4k-qd32 odirect-read-1m-qd8 odirect-randread-4k-qd32-registerfiles odirect-randread-4k-qd32-sqpoll devnull-write-4k-qd32-batch}" \
		scripts/bench.sh; fi
	scripts/bench-reg.sh
	INSTR_FIOS="fio:./uring_folioreg.so:$(NOSTATS_ENGINE) $$(test -f $(OTHER_BENCH)/nostats/uring_folioreg.so && echo $(OTHER_FIO_BIN):$(OTHER_BENCH)/uring_folioreg.so:$(OTHER_BENCH)/nostats/uring_folioreg.so)" \
		scripts/bench-instr.sh

# The kernel lab: a matrix of the comparison kit on other kernels, each
# booted under QEMU (scripts/lab/lab.py; docs/lab.md). KERNELS takes
# Debian suites, kernel package versions, .debs and bzImages; LAB_OPTS
# more lab options (--accel tcg, --mem 4G, ...); LAB_ARGS options of
# compare.py run (--size 256m, --runtime 3, ...).
KERNELS ?= bookworm
MATRIX ?= strategies
OUT ?= lab-results
LAB_OPTS ?=
LAB_ARGS ?=

# What the lab needs beyond make deps: QEMU, busybox, a kernel's build
# tools (scripts/deps.sh lab).
deps-lab:
	scripts/deps.sh lab

lab: deps deps-lab all
	scripts/lab/lab.py --matrix $(MATRIX) --out $(OUT) $(LAB_OPTS) \
		$(KERNELS) -- $(LAB_ARGS)

# A/B of kernel patches (scripts/lab/ab.py; docs/ab.md): BASE built from
# source (src:SUITE or src:DIR; a bare suite name means its linux-source
# package) as A and with each word of PATCH as a variant B, C, D ...
# (a+b: both patches; - or none: the base again, an A/A; empty: one A/A),
# all cached under build/lab, booted interleaved AB_BOOTS times each
# under TCG, MATRIX run in each; prints the table of medians, each
# variant's ratio to A with its 95 % interval and a verdict,
# and writes ab.csv and plots. AB_ICOUNT: QEMU's -icount
# shift (guest time counts instructions: deterministic); empty for the
# host's clock. AB_OPTS: more ab.py options (--cases hugetlb_fast,iomem,
# --resume, --smp 2).
BASE ?= sid
PATCH ?=
AB_BOOTS ?= 5
AB_ICOUNT ?= 0
AB_OPTS ?=

lab-ab: deps deps-lab all
	scripts/lab/ab.py run --base $(BASE) $(foreach p,$(PATCH),--patch $(p)) \
		--matrix $(if $(filter-out file,$(origin MATRIX)),$(MATRIX),rfc) \
		--out $(OUT) --boots $(AB_BOOTS) \
		$(if $(AB_ICOUNT),--icount $(AB_ICOUNT)) $(AB_OPTS) \
		-- $(LAB_ARGS)

# Registration cost across kernel releases (scripts/lab/releases.py;
# docs/releases.md): the releases matrices on every kernel of KERNELS,
# booted RELEASES_BOOTS times each under -icount (guest time counts
# instructions), then releases.png, releases.md and releases.csv in OUT.
# LAB_OPTS: more lab options (the defaults: --icount 0 --smp 1 --mem 3G
# --huge1g 0 --huge2m 520).
RELEASES_BOOTS ?= 2

lab-releases: deps deps-lab all
	scripts/lab/releases.py run --out $(OUT) --boots $(RELEASES_BOOTS) \
		$(KERNELS) $(if $(LAB_OPTS),-- $(LAB_OPTS)); \
		scripts/lab/releases.py render $(OUT)

format:
	clang-format -i engine/*.c include/*.h tests/unit/*.[ch] tests/tools/*.c \
		tests/fuzz/*.c

# ctuuninitvar: cppcheck 2.10 takes writing through an out-parameter
# (struct ufr_err) for reading it.
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--std=c11 -Iinclude --suppress=missingIncludeSystem \
		--suppress=ctuuninitvar --inline-suppr engine/ tests/unit/ \
		tests/tools/
	clang-format --dry-run -Werror engine/*.c include/*.h tests/unit/*.[ch] \
		tests/tools/*.c tests/fuzz/*.c
	shellcheck -x -S warning scripts/*.sh scripts/lab/*.sh tests/*.sh \
		tests/integration/*.sh .ci/run

clean:
	rm -rf $(BUILD)/*.o $(BUILD)/*.d $(BUILD)/*.a $(BUILD)/tests $(ENGINE)

distclean:
	rm -rf $(BUILD) $(ENGINE)

# Installation. DESTDIR stages the files for a package; PREFIX and LIBDIR
# say where they will live (Debian: PREFIX=/usr LIBDIR=/usr/lib/<multiarch>).
# The engine goes where fio engines go, LIBDIR/fio, also under the name a
# fio built with dynamic engines loads for ioengine=uring_folioreg
# (fio-uring_folioreg.so; such a fio from source looks in /usr/local/lib/fio,
# the default here). The installed examples are pointed at it, so that they
# run where they are installed: the job files, and compare.py's default
# --engine (its interpreter made /usr/bin/python3 too), with the kit's
# package (examples/comparekit, its statistics included) beside it.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/uring_folioreg
INSTALL ?= install
ENGINE_DIR = $(LIBDIR)/fio
EXAMPLE_FILES = $(shell cd examples && find . -type f \
	! -path '*/__pycache__/*' ! -name '*~' | sort)
# README.md's pages by topic and the plots they show, kept beside it so
# that its links hold in DOCDIR too.
DOC_FILES = $(sort $(wildcard docs/*.md docs/*.png))

install: $(ENGINE)
	$(INSTALL) -d $(DESTDIR)$(ENGINE_DIR) $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/docs
	$(INSTALL) -m 0644 $(ENGINE) $(DESTDIR)$(ENGINE_DIR)/uring_folioreg.so
	ln -sf uring_folioreg.so $(DESTDIR)$(ENGINE_DIR)/fio-uring_folioreg.so
	$(INSTALL) -m 0644 man/uring_folioreg.7 $(DESTDIR)$(MANDIR)/man7/
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/docs/
	@set -e; for f in $(EXAMPLE_FILES); do \
		f=$${f#./}; dst=$(DESTDIR)$(DOCDIR)/examples/$$f; \
		mode=0644; [ -x examples/$$f ] && mode=0755; \
		$(INSTALL) -d "$${dst%/*}"; \
		case $$f in \
		*.fio) sed 's|\./uring_folioreg\.so|$(ENGINE_DIR)/uring_folioreg.so|g' \
			examples/$$f >"$$dst"; chmod $$mode "$$dst" ;; \
		compare.py) sed -e '1s|^#!/usr/bin/env python3$$|#!/usr/bin/python3|' \
			-e 's|os\.path\.join(TOP, "uring_folioreg\.so")|"$(ENGINE_DIR)/uring_folioreg.so"|' \
			examples/$$f >"$$dst"; chmod $$mode "$$dst"; \
			grep -qF '"$(ENGINE_DIR)/uring_folioreg.so"' "$$dst" || \
			{ echo "install: $$dst: no default --engine to point at $(ENGINE_DIR)" >&2; exit 1; } ;; \
		*) $(INSTALL) -m $$mode examples/$$f "$$dst" ;; \
		esac; \
		echo "installed $$dst"; \
	done

# The examples and DOCDIR are this package's alone; LIBDIR/fio may hold
# other engines, so it goes only when empty.
uninstall:
	rm -f $(DESTDIR)$(ENGINE_DIR)/uring_folioreg.so \
		$(DESTDIR)$(ENGINE_DIR)/fio-uring_folioreg.so \
		$(DESTDIR)$(MANDIR)/man7/uring_folioreg.7 \
		$(DESTDIR)$(DOCDIR)/README.md
	rm -rf $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/docs
	@for d in $(DESTDIR)$(ENGINE_DIR) $(DESTDIR)$(DOCDIR); do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d"; \
	done

# tarball PATHSPEC,OUT,TOP: the files git tracks (the index, so what is
# staged goes in) that PATHSPEC matches, under TOP/, owned by root, dated
# by the last commit, as OUT (.tar.gz).
define tarball
git ls-files -z -- $(1) >$(2).files
tar --null -T $(2).files --transform 's|^|$(3)/|S' \
	--sort=name --owner=0 --group=0 --numeric-owner \
	--mtime=@$$(git log -1 --format=%ct) -I 'gzip -9n' -cf $(2).tmp
mv $(2).tmp $(2)
rm -f $(2).files
endef

# The release tarball: every tracked file, under uring_folioreg-VERSION/.
# It builds and passes make check on its own (README.md: Set-up), and it is
# the RPM spec's Source0.
DIST := uring_folioreg-$(VERSION)
DISTDIR ?= .

dist:
	packaging/check-version.sh
	$(call tarball,.,$(DISTDIR)/$(DIST).tar.gz,$(DIST))
	@echo "dist: $(DISTDIR)/$(DIST).tar.gz"

# fio's upstream source, which the packages compile the engine against:
# the RPM spec's Source1 and the Debian source package's component
# tarball. Its version is the spec's fio_version; scripts/fio-tarball.sh
# fetches it once (network) from Debian's signed index and checks it.
PKG_FIO := $(shell sed -n 's/^%global fio_version[[:space:]]*//p' \
	packaging/uring_folioreg.spec)

dist-fio:
	FIO_UPSTREAM=$(PKG_FIO) scripts/fio-tarball.sh $(DISTDIR)

# The Debian source package's two upstream tarballs, in DEB_ORIGDIR (..):
# ORIG.tar.gz, the tracked files but debian/, and ORIG-fio.tar.gz, fio's
# source, which is also unpacked as DEB_FIO_DIR (fio/ here, where
# dpkg-source -x would put it; empty: not unpacked). Then dpkg-buildpackage
# builds offline (debian/rules).
DEB_ORIG := uring-folioreg_$(VERSION).orig
DEB_ORIGDIR ?= ..
DEB_FIO_DIR ?= fio

deb-orig:
	packaging/check-version.sh
	$(call tarball,. ':!debian',$(DEB_ORIGDIR)/$(DEB_ORIG).tar.gz,uring-folioreg-$(VERSION))
	set -e; f=$$(FIO_UPSTREAM=$(PKG_FIO) scripts/fio-tarball.sh $(DEB_ORIGDIR)); \
	cp $$f $(DEB_ORIGDIR)/$(DEB_ORIG)-fio.tar.$${f##*.tar.}; \
	if [ -n "$(DEB_FIO_DIR)" ]; then rm -rf $(DEB_FIO_DIR); \
		mkdir -p $(DEB_FIO_DIR); \
		tar -xf $$f -C $(DEB_FIO_DIR) --strip-components=1; fi
	@echo "deb-orig: $(DEB_ORIGDIR)/$(DEB_ORIG).tar.gz $(DEB_ORIGDIR)/$(DEB_ORIG)-fio.tar.* $(DEB_FIO_DIR)"

.PHONY: install uninstall dist dist-fio deb-orig

.PHONY: all deps deps-lab check other-fio bench-other-fio unit-tests tools demo bench lab lab-ab lab-releases format lint clean distclean

include tests/quality.mk

stress: deps
	$(MAKE) all
	scripts/stress.sh

.PHONY: stress
