--- The help texts: `auth0-apiv2 --help` (key ""), and one per command.
local SECRET_HELP = [[
secret (the tenant's API secret), first found of:
  --secret-file FILE   a file holding it
  AUTH0_API_SECRET     the environment
  standard input       piped (not typed on a terminal)
  It is base64url (or base64) text, as Auth0 shows it; surrounding white space is ignored.
  --raw-secret         use the text's bytes instead (one final line break is dropped)
  It is never accepted on the command line: --secret is refused.]]

local HELP = {}

HELP[""] = [[
usage: auth0-apiv2 COMMAND [OPTIONS]

Make, check and revoke Auth0 Management API v2 tokens.

commands:
  sign       sign a token for scopes or endpoints
  decode     show a token's header and claims (the signature is not checked)
  verify     check a token's signature, times, audience and scopes
  revoke     revoke a token through the tenant's blacklist
  blacklist  list revoked tokens
  scopes     browse the scope catalog
  api        call any Management API endpoint (JSON out, --paginate)
  explorer   print the offline token generator page (HTML): auth0-apiv2 explorer > FILE

  auth0-apiv2 COMMAND --help   the options of a command
  auth0-apiv2 --version        the version

Every command takes --json for machine-readable output. Secrets are read from
AUTH0_API_SECRET, --secret-file FILE or standard input, never from the command line.
exit status: 0 success; 1 failure (invalid token, failed request, nothing matched);
2 usage error (bad arguments, missing or malformed secret).]]

HELP.sign = [[
usage: auth0-apiv2 sign --aud ID [--scope S]... [--endpoint "METHOD PATH"]... [OPTIONS]

Signs an APIv2 token and prints it.

  --aud ID             the tenant's API key (required)
  --scope S            a scope to grant, e.g. read:users (repeatable; commas also separate)
  --endpoint E         grant the least privileged scope for an endpoint, e.g. "GET /users"
                       (repeatable); never a current_user scope
  --lifetime N         seconds until exp (no exp claim without it)
  --claim NAME=VALUE   an extra claim (repeatable): a JSON number, true, false or null when
                       VALUE is one, a JSON string when in double quotes ('n="42"'), else
                       the text itself; integers beyond 2^53 stay text
  --strict-scopes      refuse scopes the catalog does not know
  --json               print {"claims": {...}, "token": "..."}

]] .. SECRET_HELP

HELP.decode = [[
usage: auth0-apiv2 decode TOKEN|- [--json]

Shows a token's header and claims as JSON, iat/nbf/exp as UTC times, the scopes it grants
and notes on current_user scopes. The signature is NOT checked (use verify): no secret is
needed. "-" reads the token from standard input.

  --json               print {"claims", "header", "scopes", "special_scopes", "times"}]]

HELP.verify = [[
usage: auth0-apiv2 verify TOKEN|- [--aud ID] [--scope S]... [--leeway N] [--require-exp]

Checks the signature (HS256 only), exp, nbf and iat, and optionally the audience and scopes.
Exit 0 and prints the claims when valid; exit 1 and prints the reason on stderr otherwise.

  --aud ID             the token's aud must be ID
  --scope S            the token must grant S (repeatable; commas also separate)
  --leeway N           seconds of clock skew allowed, 0 to 300 (default 0)
  --require-exp        refuse a token without exp
  --check-revoked      also ask the tenant's blacklist: a revoked token is refused
                       ("revoked"; "revocation check failed" when it cannot tell). The
                       tenant: --domain, --base-url, --ca-file, --timeout, --retries as for
                       revoke; the bearer is AUTH0_TOKEN, else a blacklist:tokens token
                       signed with the same secret for the token's aud
  --json               print {"claims": {...}, "valid": true} or {"reason", "valid": false}

]] .. SECRET_HELP .. "\n  With TOKEN = -, the secret cannot also come from standard input."

local TENANT_HELP = [[
tenant and admin token:
  --domain HOST        the tenant, e.g. tenant.auth0.com (default: AUTH0_DOMAIN)
  --base-url URL       instead of the domain: https://HOST/api/v2 (http:// for local tests)
  --ca-file FILE       trusted CAs, PEM (default: the system's)
  --timeout MS         for each of connect, TLS handshake, send and read (default 5000)
  --retries N          retries after a 429 or 5xx, 0 to 10 (default 3)
  The bearer token is AUTH0_TOKEN when set (it needs blacklist:tokens); otherwise a
  5-minute blacklist:tokens token is signed with the tenant's secret for the aud.

]] .. SECRET_HELP

HELP.revoke = [[
usage: auth0-apiv2 revoke TOKEN|- [OPTIONS]
       auth0-apiv2 revoke --jti ID --aud ID [OPTIONS]

Revokes a token through Auth0's blacklist (POST /api/v2/blacklists/tokens). A token's jti
and aud are read from it (its signature is not checked); "-" reads it from standard input.

  --jti ID             the id of the token to revoke, instead of the token
  --aud ID             with --jti: the tenant's API key (optional with AUTH0_TOKEN)
  --json               print {"aud", "jti", "revoked": true} or {"error": {...}}
  --redis HOST:PORT    revoke fleet-wide instead: write it into the gateways' Redis
                       (docs/fleet.md; Auth0 is not asked; REDIS_PASSWORD from the
                       environment, --redis-db N, --redis-prefix P, default auth0:)

]] .. TENANT_HELP

HELP.blacklist = [[
usage: auth0-apiv2 blacklist [--aud ID] [--json]

Lists revoked tokens (GET /api/v2/blacklists/tokens) as AUD and JTI columns.

  --aud ID             only this tenant's tokens; also the aud of a signed admin token
  --json               print [{"aud", "jti"}, ...]

]] .. TENANT_HELP

HELP.explorer = [[
usage: auth0-apiv2 explorer > explorer.html

Prints the token generator page of Auth0's APIv2 explorer, offline: one HTML file with the
scope catalog inside. Open it from disk in a browser: pick endpoints and scopes, type the API
key and secret, and it signs the token in the browser (WebCrypto), byte for byte as
"auth0-apiv2 sign" does; its Verify tab checks a token as "auth0-apiv2 verify" does. It makes
no connection at all, and the secret stays in its field (never in the address or storage).]]

HELP.scopes = [==[
usage: auth0-apiv2 scopes [--endpoint "METHOD PATH"] [--entity NAME] [--search WORD]

Prints the Management API v2 scope catalog as a table of scopes and descriptions. Filters
combine; exit 1 when no scope matches.

  --endpoint E         the scopes any one of which authorises an endpoint, e.g.
                       "PATCH /users/{id}" or "PATCH /api/v2/users/auth0|123"; the one
                       sign --endpoint grants is marked least privileged
  --entity NAME        only scopes of this entity, e.g. users
  --search WORD        only scopes whose name or description contains WORD (any case)
  --entities           list the entities instead
  --json               print [{"description", "scope", "special"[, "least_privileged"]}]]==]

HELP.api = [[
usage: auth0-apiv2 api METHOD PATH [--param K=V]... [--query K=V]... [--body JSON|@FILE|-]
                       [--paginate] [OPTIONS]

Calls the Management API (PATH below /api/v2, with {name} placeholders) and prints the
answer as one line of JSON (nothing for 204). Exit 1 when the call fails.

  --param K=V          the value of the placeholder {K} in PATH, URL-encoded
  --query K=V          a query parameter (repeatable; a name given twice is sent twice)
  --body B             the JSON body: the text itself, @FILE, or - for standard input
  --paginate           GET every page of a list endpoint (offset paging, or checkpoint
                       paging when --query take=N is given): one item per line
  --idempotent         a 5xx may be retried whatever the method (e.g. a PATCH)
  --wait-for-reset S   wait out 429s until the rate limit resets, for at most S seconds
  --json               on failure, print {"error": {...}}
  --domain HOST        the tenant, e.g. tenant.auth0.com (default: AUTH0_DOMAIN)
  --base-url URL       instead of the domain: https://HOST/api/v2 (http:// for local tests)
  --ca-file FILE       trusted CAs, PEM (default: the system's)
  --timeout MS         for each of connect, TLS handshake, send and read (default 5000)
  --retries N          retries after a 429 or 5xx, 0 to 10 (default 3)

credentials, from the environment only:
  AUTH0_TOKEN                               a Management API token, or
  AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET   the client credentials grant (needs the domain)]]

return HELP
