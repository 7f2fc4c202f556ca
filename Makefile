# auth0-apiv2: build the C core for every Lua, run the demo and the tests.
# `make demo` and `make test` install what is missing first (Debian packages; needs root).

CC      ?= cc
OPT     ?= -O2
WARN     = -Wall -Wextra -Werror -pedantic -Wshadow -Wdeclaration-after-statement \
           -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_CORE = -std=c99 $(OPT) -g -fPIC $(WARN) -DOPENSSL_API_COMPAT=0x10101000L -Icsrc
LDLIBS_CORE = -lcrypto

CORE_SRC = csrc/core.c csrc/b64url.c csrc/hmac.c csrc/json_check.c csrc/json_escape.c csrc/jws.c \
           csrc/randpool.c
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

.PHONY: all build deps demo test test-all test-c test-fixtures lint rock bench clean

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

# Every spec on every Lua, the C unit tests, lint and the rock build.
test: deps build lint test-c test-fixtures test-all rock
	@echo "make test: all passed"

test-all: build
	scripts/run-specs $(LUA_VERSIONS)

test-c: build/test_json_check build/test_randpool build/test_randpool_pidcheck
	build/test_json_check
	build/test_randpool
	build/test_randpool_pidcheck

build/test_randpool: csrc/test_randpool.c csrc/randpool.c csrc/randpool.h
	@mkdir -p build
	$(CC) -std=c99 $(OPT) -g $(WARN) -Wno-missing-prototypes -D_POSIX_C_SOURCE=200809L -Icsrc \
	  -o $@ csrc/test_randpool.c csrc/randpool.c -lcrypto

# The same test with the getpid() fallback that kernels without MADV_WIPEONFORK use.
build/test_randpool_pidcheck: csrc/test_randpool.c csrc/randpool.c csrc/randpool.h
	@mkdir -p build
	$(CC) -std=c99 $(OPT) -g $(WARN) -Wno-missing-prototypes -D_POSIX_C_SOURCE=200809L -Icsrc \
	  -DAPIV2_RANDPOOL_NO_WIPEONFORK -o $@ csrc/test_randpool.c csrc/randpool.c -lcrypto

build/test_json_check: csrc/test_json_check.c csrc/json_check.c csrc/json_check.h
	@mkdir -p build
	$(CC) -std=c99 $(OPT) -g $(WARN) -Icsrc -o $@ csrc/test_json_check.c csrc/json_check.c

# The fixtures' own independent check, and the local Auth0-like server's self-test.
test-fixtures:
	/usr/bin/python3 spec/fixtures/auth0-api-tokens/check_vectors.py
	/usr/bin/python3 -m unittest spec/server/test_auth0_mock.py 2>&1 | tail -n 3

lint:
	luacheck --quiet --no-color lua spec examples bench
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --suppress=variableScope -Icsrc $(CORE_SRC)

# The rockspec builds offline with luarocks against Debian's Lua 5.4 and OpenSSL.
rock:
	scripts/check-rock

bench: build
	bench/run

clean:
	rm -rf build
