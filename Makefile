# auth0-apiv2: build the C core for every Lua, run the demo and the tests.
# `make demo` and `make test` install what is missing first (Debian packages; needs root).

CC      ?= cc
OPT     ?= -O2
WARN     = -Wall -Wextra -Werror -pedantic -Wshadow -Wdeclaration-after-statement \
           -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_CORE = -std=c99 $(OPT) -g -fPIC $(WARN) -DOPENSSL_API_COMPAT=0x10101000L -Icsrc
LDLIBS_CORE = -lcrypto -lm

CORE_SRC = csrc/core.c csrc/b64url.c csrc/hmac.c csrc/json_check.c csrc/json_escape.c csrc/jws.c \
           csrc/randpool.c csrc/vpass.c
CORE_HDR = $(wildcard csrc/*.h)

# One build of the core per Lua ABI: build/<version>/auth0/apiv2/core.so.
LUA_VERSIONS = 5.1 5.2 5.3 5.4 jit
INC_5.1 = /usr/include/lua5.1
INC_5.2 = /usr/include/lua5.2
INC_5.3 = /usr/include/lua5.3
INC_5.4 = /usr/include/lua5.4
INC_jit = /usr/include/luajit-2.1
LUA_5.1 = lua5.1
LUA_5.2 = lua5.2
LUA_5.3 = lua5.3
LUA_5.4 = lua5.4
LUA_jit = luajit
CORES = $(foreach v,$(LUA_VERSIONS),build/$(v)/auth0/apiv2/core.so)

.PHONY: all build deps demo test test-all test-c test-fixtures lint rock bench clean fuzz fuzz-smoke \
        test-asan test-valgrind embed-example test-embed test-openresty check docs test-fleet \
        explorer test-explorer test-openssl11 test-bare-debian

all: build

build: build/auth0/apiv2/core.so $(CORES)

# `make build` also leaves the Lua 5.4 build where .busted looks by default.
build/auth0/apiv2/core.so: build/5.4/auth0/apiv2/core.so
	@mkdir -p $(dir $@)
	cp $< $@

build/%/auth0/apiv2/core.so: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -I$(INC_$*) -shared -o $@ $(CORE_SRC) $(LDLIBS_CORE)

deps:
	@scripts/install-deps

# Lua runs modules straight from the checkout.
RUN_5.4 = LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/5.4/?.so;;' $(LUA_5.4)

demo: deps build
	$(RUN_5.4) examples/demo.lua

# Everything: lint, C unit tests, every spec on every Lua, the rock, the embedding hosts,
# a short fuzzing run, the specs against an ASan+UBSan core and under valgrind.
test: deps build lint docs test-c test-fixtures test-all rock test-embed test-openresty test-fleet test-hostile \
      fuzz-smoke test-asan test-valgrind test-explorer
	@echo "make test: all passed"

# The quick loop while working: luacheck and every spec on Lua 5.4 (no installs, no C lint, no
# other interpreter; about half a minute). `make test` is the whole suite.
check: build
	luacheck --quiet --no-color lua spec examples bench bin/auth0-apiv2
	scripts/run-specs 5.4 >build/check.log 2>&1 || { cat build/check.log; exit 1; }
	@tail -n 1 build/check.log

# The API reference of the public modules (config.ld) in build/docs/; any LDoc warning fails.
docs:
	@mkdir -p build
	ldoc . >build/ldoc.log 2>&1 || { cat build/ldoc.log; exit 1; }
	@if grep -v -e '^reading configuration from config.ld$$' -e '^output written to ' build/ldoc.log; \
	then echo "make docs: LDoc warned (above)"; exit 1; fi
	@echo "make docs: build/docs/index.html"

# The offline token generator page (docs/explorer.md), printed by the library itself, and its
# tests in headless chromium (about 3 minutes).
explorer: build
	bin/auth0-apiv2 explorer > build/explorer.html.tmp && mv build/explorer.html.tmp build/explorer.html

test-explorer: explorer
	/usr/bin/python3 spec/explorer/test_explorer.py

# The gateway example inside a real nginx (2 workers) against the local Auth0-like server,
# and auth0.apiv2.nginx from the README's nginx.conf (spec/openresty/guard).
test-openresty: build
	spec/openresty/run
	spec/openresty/automation
	spec/openresty/guard

# Revocation across a fleet (docs/fleet.md): one redis-server, two nginx nodes of two workers
# and the local Auth0-like server, on loopback (about 30 s).
test-fleet: build
	spec/fleet/run

# The HTTP client inside a real nginx against a hostile server (issue 15): a dripping server,
# a blacklist refresh behind it, endless header lines. About 10 s.
.PHONY: test-hostile
test-hostile: build
	spec/openresty/hostile

# The C host that links the library statically (examples/embed/README.md).
embed-example:
	$(MAKE) -C examples/embed all

test-embed:
	$(MAKE) -C examples/embed test

test-all: build
	scripts/run-specs $(LUA_VERSIONS)

test-c: build/test_json_check build/test_b64url build/test_randpool build/test_randpool_pidcheck
	build/test_json_check
	build/test_b64url
	build/test_randpool
	build/test_randpool_pidcheck

build/test_randpool: ctest/test_randpool.c csrc/randpool.c csrc/randpool.h
	@mkdir -p build
	$(CC) -std=c99 $(OPT) -g $(WARN) -Wno-missing-prototypes -D_POSIX_C_SOURCE=200809L -Icsrc \
	  -o $@ ctest/test_randpool.c csrc/randpool.c -lcrypto

# The same test with the getpid() fallback that kernels without MADV_WIPEONFORK use.
build/test_randpool_pidcheck: ctest/test_randpool.c csrc/randpool.c csrc/randpool.h
	@mkdir -p build
	$(CC) -std=c99 $(OPT) -g $(WARN) -Wno-missing-prototypes -D_POSIX_C_SOURCE=200809L -Icsrc \
	  -DAPIV2_RANDPOOL_NO_WIPEONFORK -o $@ ctest/test_randpool.c csrc/randpool.c -lcrypto

build/test_json_check: ctest/test_json_check.c csrc/json_check.c csrc/json_check.h
	@mkdir -p build
	$(CC) -std=c99 $(OPT) -g $(WARN) -Icsrc -Wl,--wrap=malloc,--wrap=realloc \
	  -o $@ ctest/test_json_check.c csrc/json_check.c

build/test_b64url: ctest/test_b64url.c csrc/b64url.c csrc/b64url.h
	@mkdir -p build
	$(CC) -std=c99 $(OPT) -g $(WARN) -Icsrc -o $@ ctest/test_b64url.c csrc/b64url.c

# The fixtures' own independent check, and the local Auth0-like server's self-test.
test-fixtures:
	/usr/bin/python3 spec/fixtures/auth0-api-tokens/check_vectors.py
	/usr/bin/python3 -m unittest spec/server/test_auth0_mock.py 2>&1 | tail -n 3

# luacheck, cppcheck and clang-tidy (checks in .clang-tidy; any warning fails).
lint:
	luacheck --quiet --no-color lua spec examples bench bin/auth0-apiv2
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --suppress=variableScope -Icsrc $(CORE_SRC)
	clang-tidy --quiet $(CORE_SRC) -- -std=c99 -Icsrc -I$(INC_5.4) -DOPENSSL_API_COMPAT=0x10101000L
	clang-format --dry-run --Werror csrc/*.c csrc/*.h ctest/*.c fuzz/*.c examples/embed/*.c \
	  examples/embed/*.h

# The rockspec builds offline with luarocks against Debian's Lua 5.4 and OpenSSL.
rock:
	scripts/check-rock

# ---------------------------------------------------------------- hardening
# libFuzzer targets (clang): `make fuzz` runs each for FUZZ_SECONDS; `make test` runs
# fuzz-smoke, each for FUZZ_SMOKE_SECONDS, seeded from the shared vectors.
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_TARGETS = b64url json_check jws verify_lua
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -DOPENSSL_API_COMPAT=0x10101000L -Icsrc
FUZZ_SRC_b64url = csrc/b64url.c
FUZZ_SRC_json_check = csrc/json_check.c
FUZZ_SRC_jws = csrc/jws.c csrc/b64url.c csrc/json_check.c csrc/hmac.c csrc/vpass.c
FUZZ_SRC_verify_lua = $(CORE_SRC) -I$(INC_5.4) -DAPIV2_ROOT='"$(CURDIR)"' \
                      /usr/lib/x86_64-linux-gnu/liblua5.4.a -Wl,-E -lm -ldl
FUZZERS = $(foreach t,$(FUZZ_TARGETS),build/fuzz/fuzz_$(t))

build/fuzz/fuzz_%: fuzz/fuzz_%.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) -lcrypto

build/fuzz/corpus: fuzz/make-corpus
	rm -rf $@ && python3 fuzz/make-corpus $@ >/dev/null

fuzz: FUZZ_RUN_SECONDS = $(FUZZ_SECONDS)
fuzz-smoke: FUZZ_RUN_SECONDS = $(FUZZ_SMOKE_SECONDS)
fuzz fuzz-smoke: $(FUZZERS) build/fuzz/corpus
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/work/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_RUN_SECONDS) s"; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_RUN_SECONDS) -max_len=9000 -timeout=10 \
	    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=build/fuzz/ \
	    build/fuzz/work/$$t build/fuzz/corpus/$$t 2>build/fuzz/$$t.log \
	    || { tail -n 40 build/fuzz/$$t.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|Done" build/fuzz/$$t.log | tr '\n' ' '; echo; \
	done

# The whole spec suite against an ASan+UBSan build of the core (Lua 5.4; the interpreter
# itself is not instrumented, so the ASan runtime is preloaded).
ASAN_CFLAGS = -std=c99 -O1 -g -fPIC -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined $(WARN) -DOPENSSL_API_COMPAT=0x10101000L -Icsrc

build/asan/auth0/apiv2/core.so: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	gcc $(ASAN_CFLAGS) -I$(INC_5.4) -shared -o $@ $(CORE_SRC) $(LDLIBS_CORE)

test-asan: build/asan/auth0/apiv2/core.so
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  CORE_DIR=build/asan scripts/run-specs 5.4

# The whole spec suite under valgrind memcheck: no errors, no definite or indirect leaks.
test-valgrind: build
	VALGRIND="valgrind --quiet --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect" \
	  scripts/run-specs 5.4

# ---------------------------------------------------------------- other Debian systems (root)
# The core's OpenSSL 1.1.1 path (HMAC_CTX) in a Debian 11 chroot made with debootstrap and cached
# in /var/tmp/auth0-apiv2-chroots: C tests, specs on Lua 5.1, core checks on 5.3/5.4.
test-openssl11:
	scripts/test-openssl11

# The README's `make demo` and `make test` in a bare Debian 12 chroot with only make added (long).
test-bare-debian:
	scripts/test-bare-debian

bench: build
	bench/run
	bench/automation
	bench/openresty/run
	bench/fleet/run

# Everything a build leaves: build/, and what `luarocks make` compiles in the checkout.
clean:
	rm -rf build
	rm -f csrc/*.o auth0/apiv2/core.so
	rmdir auth0/apiv2 auth0 2>/dev/null || true
