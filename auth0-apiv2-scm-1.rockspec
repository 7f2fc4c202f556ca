rockspec_format = "3.0"
package = "auth0-apiv2"
version = "scm-1"
source = {
    url = "git+https://example.org/auth0-apiv2.git",
    branch = "main",
}
description = {
    summary = "Make, check and revoke Auth0 Management API v2 tokens from Lua",
    detailed = [[
Builds Auth0 APIv2 tokens (HS256 JWTs naming the scopes they grant), signs them with the
tenant's API secret through OpenSSL, and checks them strictly. A small C core does the bytes:
HMAC-SHA256 with a key prepared once, base64url, constant-time comparison, random ids.
]],
    license = "MIT",
    labels = { "auth0", "jwt", "openresty" },
}
-- lua-cjson is optional: auth0.apiv2 uses `cjson.safe` when it can be required, else its own
-- pure-Lua decoder behind the same strict checker (README, "Install").
dependencies = {
    "lua >= 5.1, < 5.5",
}
external_dependencies = {
    OPENSSL = { header = "openssl/hmac.h", library = "crypto" },
}
build = {
    type = "builtin",
    modules = {
        ["auth0.apiv2.core"] = {
            sources = { "csrc/core.c", "csrc/b64url.c", "csrc/hmac.c", "csrc/json_check.c",
                        "csrc/json_escape.c", "csrc/jws.c", "csrc/randpool.c", "csrc/vpass.c" },
            incdirs = { "$(OPENSSL_INCDIR)", "csrc" },
            libdirs = { "$(OPENSSL_LIBDIR)" },
            libraries = { "crypto" },
            defines = { "OPENSSL_API_COMPAT=0x10101000L" },
        },
        ["auth0.apiv2"] = "lua/auth0/apiv2/init.lua",
        ["auth0.apiv2.blacklist"] = "lua/auth0/apiv2/blacklist.lua",
        ["auth0.apiv2.cli"] = "lua/auth0/apiv2/cli/init.lua",
        ["auth0.apiv2.cli.args"] = "lua/auth0/apiv2/cli/args.lua",
        ["auth0.apiv2.cli.cmd.api"] = "lua/auth0/apiv2/cli/cmd/api.lua",
        ["auth0.apiv2.cli.cmd.blacklist"] = "lua/auth0/apiv2/cli/cmd/blacklist.lua",
        ["auth0.apiv2.cli.cmd.decode"] = "lua/auth0/apiv2/cli/cmd/decode.lua",
        ["auth0.apiv2.cli.cmd.explorer"] = "lua/auth0/apiv2/cli/cmd/explorer.lua",
        ["auth0.apiv2.cli.cmd.revoke"] = "lua/auth0/apiv2/cli/cmd/revoke.lua",
        ["auth0.apiv2.cli.cmd.scopes"] = "lua/auth0/apiv2/cli/cmd/scopes.lua",
        ["auth0.apiv2.cli.cmd.sign"] = "lua/auth0/apiv2/cli/cmd/sign.lua",
        ["auth0.apiv2.cli.cmd.verify"] = "lua/auth0/apiv2/cli/cmd/verify.lua",
        ["auth0.apiv2.cli.failure"] = "lua/auth0/apiv2/cli/failure.lua",
        ["auth0.apiv2.cli.help"] = "lua/auth0/apiv2/cli/help.lua",
        ["auth0.apiv2.cli.input"] = "lua/auth0/apiv2/cli/input.lua",
        ["auth0.apiv2.cli.output"] = "lua/auth0/apiv2/cli/output.lua",
        ["auth0.apiv2.cli.tenant"] = "lua/auth0/apiv2/cli/tenant.lua",
        ["auth0.apiv2.internal.bearer"] = "lua/auth0/apiv2/internal/bearer.lua",
        ["auth0.apiv2.internal.call"] = "lua/auth0/apiv2/internal/call.lua",
        ["auth0.apiv2.internal.claims"] = "lua/auth0/apiv2/internal/claims.lua",
        ["auth0.apiv2.internal.claims_copy"] = "lua/auth0/apiv2/internal/claims_copy.lua",
        ["auth0.apiv2.internal.clock"] = "lua/auth0/apiv2/internal/clock.lua",
        ["auth0.apiv2.internal.connection"] = "lua/auth0/apiv2/internal/connection.lua",
        ["auth0.apiv2.internal.core"] = "lua/auth0/apiv2/internal/core.lua",
        ["auth0.apiv2.internal.credentials"] = "lua/auth0/apiv2/internal/credentials.lua",
        ["auth0.apiv2.internal.errors"] = "lua/auth0/apiv2/internal/errors.lua",
        ["auth0.apiv2.internal.explorer"] = "lua/auth0/apiv2/internal/explorer.lua",
        ["auth0.apiv2.internal.explorer_page"] = "lua/auth0/apiv2/internal/explorer_page.lua",
        ["auth0.apiv2.internal.granted"] = "lua/auth0/apiv2/internal/granted.lua",
        ["auth0.apiv2.internal.gunzip"] = "lua/auth0/apiv2/internal/gunzip.lua",
        ["auth0.apiv2.internal.http"] = "lua/auth0/apiv2/internal/http/init.lua",
        ["auth0.apiv2.internal.http.certname"] = "lua/auth0/apiv2/internal/http/certname.lua",
        ["auth0.apiv2.internal.http.cosocket"] = "lua/auth0/apiv2/internal/http/cosocket.lua",
        ["auth0.apiv2.internal.http.luasocket"] = "lua/auth0/apiv2/internal/http/luasocket.lua",
        ["auth0.apiv2.internal.http.url"] = "lua/auth0/apiv2/internal/http/url.lua",
        ["auth0.apiv2.internal.http.wire"] = "lua/auth0/apiv2/internal/http/wire.lua",
        ["auth0.apiv2.internal.jobs"] = "lua/auth0/apiv2/internal/jobs.lua",
        ["auth0.apiv2.internal.numbers"] = "lua/auth0/apiv2/internal/numbers.lua",
        ["auth0.apiv2.internal.pacing"] = "lua/auth0/apiv2/internal/pacing.lua",
        ["auth0.apiv2.internal.pager"] = "lua/auth0/apiv2/internal/pager.lua",
        ["auth0.apiv2.internal.shared_token"] = "lua/auth0/apiv2/internal/shared_token.lua",
        ["auth0.apiv2.internal.json"] = "lua/auth0/apiv2/internal/json.lua",
        ["auth0.apiv2.internal.jws"] = "lua/auth0/apiv2/internal/jws.lua",
        ["auth0.apiv2.internal.key"] = "lua/auth0/apiv2/internal/key.lua",
        ["auth0.apiv2.internal.options"] = "lua/auth0/apiv2/internal/options.lua",
        ["auth0.apiv2.internal.ratelimit"] = "lua/auth0/apiv2/internal/ratelimit.lua",
        ["auth0.apiv2.internal.reference_pass"] = "lua/auth0/apiv2/internal/reference_pass.lua",
        ["auth0.apiv2.internal.retry"] = "lua/auth0/apiv2/internal/retry.lua",
        ["auth0.apiv2.internal.scopes_data"] = "lua/auth0/apiv2/internal/scopes_data.lua",
        ["auth0.apiv2.internal.scopeset"] = "lua/auth0/apiv2/internal/scopeset.lua",
        ["auth0.apiv2.internal.token_cache"] = "lua/auth0/apiv2/internal/token_cache.lua",
        ["auth0.apiv2.internal.verifier"] = "lua/auth0/apiv2/internal/verifier.lua",
        ["auth0.apiv2.internal.verify"] = "lua/auth0/apiv2/internal/verify.lua",
        ["auth0.apiv2.internal.version"] = "lua/auth0/apiv2/internal/version.lua",
        ["auth0.apiv2.management"] = "lua/auth0/apiv2/management.lua",
        ["auth0.apiv2.nginx"] = "lua/auth0/apiv2/nginx/init.lua",
        ["auth0.apiv2.nginx.guard"] = "lua/auth0/apiv2/nginx/guard.lua",
        ["auth0.apiv2.nginx.metrics"] = "lua/auth0/apiv2/nginx/metrics.lua",
        ["auth0.apiv2.nginx.revocations"] = "lua/auth0/apiv2/nginx/revocations.lua",
        ["auth0.apiv2.internal.nginx.bearer"] = "lua/auth0/apiv2/internal/nginx/bearer.lua",
        ["auth0.apiv2.internal.nginx.ctx_claims"] = "lua/auth0/apiv2/internal/nginx/ctx_claims.lua",
        ["auth0.apiv2.internal.nginx.rules"] = "lua/auth0/apiv2/internal/nginx/rules.lua",
        ["auth0.apiv2.nginx.redis"] = "lua/auth0/apiv2/nginx/redis.lua",
        ["auth0.apiv2.fleet"] = "lua/auth0/apiv2/fleet.lua",
        ["auth0.apiv2.internal.fleet_wire"] = "lua/auth0/apiv2/internal/fleet_wire.lua",
        ["auth0.apiv2.scopes"] = "lua/auth0/apiv2/scopes.lua",
        ["auth0.apiv2.token"] = "lua/auth0/apiv2/token.lua",
    },
    install = {
        bin = { ["auth0-apiv2"] = "bin/auth0-apiv2" },
    },
    platforms = {
        windows = { modules = { ["auth0.apiv2.core"] = { libraries = { "libcrypto" } } } },
    },
}
test_dependencies = { "busted" }
test = { type = "busted" }
