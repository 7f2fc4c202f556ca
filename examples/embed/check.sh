#!/bin/sh
# check.sh OUT: runs the embedding example's binaries from OUT (build/embed, made by the
# Makefile) and checks their output. One line per check, then "embed: N passed, N failed";
# exits 1 when any check failed.
set -u

out=$1
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/empty"

# The demo secret and API key of host.lua and threads.c.
SECRET=VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE
API_KEY=DEMOapiKEY0123456789abcdefghijkl
HEADER=eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9

pass() {
    passed=$((passed + 1))
    echo "ok   - $1"
}

# fail NAME [FILE...]: the files' first lines are shown under the failure.
fail() {
    failed=$((failed + 1))
    echo "FAIL - $1"
    shift
    for f in "$@"; do sed -n '1,30s/^/       | /p' "$f"; done
}

# Runs a binary where no module file can be found: from an empty directory, with every Lua
# search path pointing at a directory that does not exist.
nowhere() {
    (cd "$tmp/empty" && env LUA_PATH='/nonexistent/?.lua' LUA_CPATH='/nonexistent/?.so' \
        LUA_PATH_5_4='/nonexistent/?.lua' LUA_CPATH_5_4='/nonexistent/?.so' "$@")
}

# An HS256 check written independently of the library (Python's hmac and json): prints the jti.
independent_verify() {
    python3 - "$1" "$SECRET" "$API_KEY" <<'PY'
import base64, hashlib, hmac, json, sys
token, secret, api_key = sys.argv[1:4]
def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
h, p, s = token.split(".")
mac = hmac.new(b64(secret), (h + "." + p).encode(), hashlib.sha256).digest()
assert hmac.compare_digest(mac, b64(s)), "signature mismatch"
assert json.loads(b64(h)) == {"typ": "JWT", "alg": "HS256"}, "header"
claims = json.loads(b64(p))
assert claims["aud"] == api_key, "aud"
assert claims["exp"] - claims["iat"] == 3600, "exp - iat"
assert claims["scopes"] == {"users": {"actions": ["read"]},
                            "users_app_metadata": {"actions": ["update"]}}, "scopes"
print(claims["jti"])
PY
}

check_host() {
    bin=$out/$1
    runtime=$2
    log=$tmp/$1.out
    err=$tmp/$1.err
    if nowhere "$bin" > "$log" 2> "$err" && [ "$(tail -n 1 "$log")" = "host: ok" ]; then
        pass "$1 runs from an empty directory with LUA_PATH/LUA_CPATH pointing nowhere"
    else
        fail "$1 runs from an empty directory with LUA_PATH/LUA_CPATH pointing nowhere" \
            "$log" "$err"
        return
    fi
    if grep -q "^auth0.apiv2 [0-9.]* on $runtime.*, modules compiled into the binary\$" "$log"
    then pass "$1 runs on $runtime with the modules from package.preload"
    else fail "$1 runs on $runtime with the modules from package.preload" "$log"
    fi
    token=$(sed -n 's/^token: //p' "$log")
    if printf '%s\n' "$token" | grep -Eq "^$HEADER\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}\$"
    then pass "$1 prints a compact HS256 token"
    else fail "$1 prints a compact HS256 token" "$log"
    fi
    if grep -q '^verify: ok by ' "$log" && grep -q '^forged: rejected (' "$log"
    then pass "$1 verifies its token and rejects a forged one"
    else fail "$1 verifies its token and rejects a forged one" "$log"
    fi
    if ! command -v python3 > /dev/null 2>&1; then
        echo "skip - $1's token checked independently (no python3)"
    elif jti=$(independent_verify "$token" 2> "$tmp/py.err") \
        && grep -q "^claims: aud=$API_KEY jti=$jti exp-iat=3600 " "$log"; then
        pass "$1's token passes an independent HS256 check (Python hmac)"
    else
        fail "$1's token passes an independent HS256 check (Python hmac)" "$tmp/py.err" "$log"
    fi
    if command -v readelf > /dev/null 2>&1; then
        if readelf -d "$bin" > "$tmp/readelf" 2>&1 && grep -q NEEDED "$tmp/readelf" \
            && ! grep NEEDED "$tmp/readelf" | grep -qi lua; then
            pass "$1 links Lua statically (no liblua in NEEDED)"
        else
            fail "$1 links Lua statically (no liblua in NEEDED)" "$tmp/readelf"
        fi
    fi
}

check_host host-5.4 "Lua 5.4"
check_host host-jit "LuaJIT"

# 4 threads, each with its own lua_State, 10,000 tokens each, under ThreadSanitizer.
log=$tmp/tsan.out
err=$tmp/tsan.err
if TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS-}" \
    nowhere "$out/threads-tsan" > "$log" 2> "$err" \
    && grep -q ' = 40000 tokens, 40000 distinct jti, 400 verified' "$log" \
    && ! grep -q ThreadSanitizer "$err"; then
    took=$(sed -n 's/.*verified, //p' "$log")
    pass "4 threads x 10000 tokens under ThreadSanitizer: no race, 40000 distinct jti ($took)"
else
    fail "4 threads x 10000 tokens under ThreadSanitizer: no race, 40000 distinct jti" "$log" "$err"
fi

# The sanitizer is really there: a race planted in the test host is reported.
if nowhere "$out/threads-tsan" --race-canary > "$tmp/canary.out" 2> "$tmp/canary.err"; then
    fail "ThreadSanitizer reports the race planted by --race-canary (it exited 0)" \
        "$tmp/canary.err"
elif grep -q 'WARNING: ThreadSanitizer: data race' "$tmp/canary.err"; then
    pass "ThreadSanitizer reports the race planted by --race-canary"
else
    fail "ThreadSanitizer reports the race planted by --race-canary" "$tmp/canary.err"
fi

log=$tmp/jit.out
if nowhere "$out/threads-jit" > "$log" 2>&1 \
    && grep -q ' = 40000 tokens, 40000 distinct jti, 400 verified' "$log"; then
    took=$(sed -n 's/.*verified, //p' "$log")
    pass "4 threads x 10000 tokens on LuaJIT: 40000 distinct jti ($took)"
else
    fail "4 threads x 10000 tokens on LuaJIT: 40000 distinct jti" "$log"
fi

if command -v valgrind > /dev/null 2>&1; then
    log=$tmp/valgrind.out
    if nowhere valgrind --quiet --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect,possible "$out/host-5.4" > "$log" 2>&1 \
        && grep -q '^host: ok$' "$log"; then
        pass "host-5.4 under valgrind: no memory error, no leak"
    else
        fail "host-5.4 under valgrind: no memory error, no leak" "$log"
    fi
else
    echo "skip - host-5.4 under valgrind (valgrind is not installed)"
fi

echo "embed: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
