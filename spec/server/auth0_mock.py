#!/usr/bin/python3
"""A local stand-in for the parts of Auth0's Management API v2 the specs use.

Imitates (see shared/AUTH0-APIV2.md, sections 1, 2, 5, 6, 7):
  POST/GET /api/v2/blacklists/tokens, GET/PATCH /api/v2/users/{id}, POST /oauth/token
plus an unauthenticated test-control API under /__control/.

Token checking is written here from scratch with hmac/hashlib/base64/json on purpose:
it must stay independent of the library under test (and of any JWT package).

Usage:
  auth0_mock.py --port 0 --tls-dir DIR --tenant AUD=SECRET [--client ID=SECRET:scope,...]
                [--http-only] [--token-lifetime N] [--ready-file F] [--verbose]
  auth0_mock.py --gen-ca DIR
Stdlib only; certificates are made with the `openssl` command line.
"""

import argparse
import base64
import copy
import fcntl
import hashlib
import hmac
import http
import json
import math
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"  # never listen beyond loopback: this server trusts everyone on /__control/
MAX_RECORDS = 10000  # keeps a long-running server's memory bounded
FAULT_STATUSES = (429, 500, 502, 503, 504)
SEED_USERS = {
    "auth0|123": {"user_id": "auth0|123", "email": "test@example.com", "app_metadata": {}},
}
USERS_PATH = re.compile(r"/api/v2/users/(?P<user_id>[^/]+)")
UPDATE_USER_SCOPES = ("update:users", "update:users_app_metadata")


# ---------------------------------------------------------------- encoding

def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode_strict(text):
    """Decode one JWS segment: base64url, no padding, nothing else (RFC 7515)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_secret(text):
    """Decode an API secret: either base64 alphabet, padding optional.

    Unlike Node's lenient decoder, junk characters are an error, so a mistyped
    secret fails loudly instead of silently becoming a different key.
    """
    if not re.fullmatch(r"[A-Za-z0-9+/_-]*={0,2}", text):
        raise ValueError("secret is not base64/base64url")
    body = text.rstrip("=").translate(str.maketrans("+/", "-_"))
    if len(body) % 4 == 1 or not body:
        raise ValueError("secret has an impossible base64 length")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def compact_json(obj):
    # Compact like JSON.stringify, which is what Auth0's generators produced.
    return json.dumps(obj, separators=(",", ":"))


# ---------------------------------------------------------------- tokens

class TokenError(Exception):
    """Any reason a bearer token is refused; the client only ever sees 'Invalid token'."""


def sign_hs256(key, claims):
    header = {"typ": "JWT", "alg": "HS256"}
    signing_input = b64url_encode(compact_json(header).encode()) + "." + b64url_encode(compact_json(claims).encode())
    signature = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64url_encode(signature)


def decode_segment_json(segment):
    try:
        value = json.loads(b64url_decode_strict(segment))
    except ValueError as exc:  # covers bad base64, bad UTF-8 and bad JSON
        raise TokenError("undecodable segment") from exc
    if not isinstance(value, dict):
        raise TokenError("segment is not a JSON object")
    return value


def signature_matches(keys, signing_input, signature):
    # Compare the canonical encodings so a non-canonical base64 variant cannot slip through.
    for key in keys:
        expected = b64url_encode(hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest())
        if hmac.compare_digest(expected, signature):
            return True
    return False


def verify_hs256(token, keys_for_aud):
    """Check an HS256 token; keys_for_aud(aud) lists the keys allowed to have signed it."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not a compact JWS")
    header, claims = decode_segment_json(parts[0]), decode_segment_json(parts[1])
    if header.get("alg") != "HS256":
        raise TokenError("alg is not HS256")
    aud = claims.get("aud")
    if not isinstance(aud, str):
        raise TokenError("aud missing")
    if not signature_matches(keys_for_aud(aud), parts[0] + "." + parts[1], parts[2]):
        raise TokenError("bad signature or unknown aud")
    exp = claims.get("exp")
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, (int, float)) or exp <= time.time()):
        raise TokenError("expired")
    return claims


def scopes_of(claims):
    """Scopes from both APIv2 forms: {"users":{"actions":["read"]}} and "read:users ..."."""
    found = set()
    scopes = claims.get("scopes")
    if isinstance(scopes, dict):
        for entity, grant in scopes.items():
            actions = grant.get("actions") if isinstance(grant, dict) else None
            for action in actions if isinstance(actions, list) else []:
                if isinstance(action, str):
                    found.add(action + ":" + entity)
    if isinstance(claims.get("scope"), str):
        found.update(claims["scope"].split())
    return found


# ---------------------------------------------------------------- state

class State:
    """Everything the handlers share; one lock, since contention is trivial."""

    def __init__(self, tenants, clients, token_lifetime):
        self.lock = threading.Lock()
        self.tenants = tenants  # aud -> decoded secret
        self.clients = clients  # client_id -> (secret, [scope, ...])
        self.token_lifetime = token_lifetime
        self.signing_key = secrets.token_bytes(32)  # for tokens issued by our own /oauth/token
        self.reset()

    def reset(self):
        with self.lock:
            self.records = []
            self.blacklist = []  # [(aud, jti)] in insertion order, as the GET lists them
            self.fault = None
            self.delay = 0.0
            self.users = copy.deepcopy(SEED_USERS)
        reset_scale(self)

    def keys_for_aud(self, aud):
        keys = [self.tenants[aud]] if aud in self.tenants else []
        return keys + [self.signing_key]

    def is_blacklisted(self, aud, jti):
        with self.lock:
            return (aud, jti) in self.blacklist

    def record(self, entry):
        with self.lock:
            self.records.append(entry)
            del self.records[:-MAX_RECORDS]

    def take_fault(self):
        """Consume one injected failure, if any is pending."""
        with self.lock:
            fault = self.fault
            if fault is None:
                return None
            if fault["count"] > 0:
                fault["count"] -= 1
                if fault["count"] == 0:
                    self.fault = None
            return dict(fault)


# ---------------------------------------------------------------- errors and requests

class ApiError(Exception):
    """Raised by handlers; carries the complete error response."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def api_error(status, message, error_code=None, headers=None):
    body = {"statusCode": status, "error": http.HTTPStatus(status).phrase, "message": message}
    if error_code:
        body["errorCode"] = error_code
    return ApiError(status, body, headers)


def invalid_token():
    return api_error(401, "Invalid token", "invalid_token")


def invalid_body(detail):
    return api_error(400, "Payload validation error: '%s'." % detail, "invalid_body")


def control_error(message):
    return ApiError(400, {"error": "bad_control_request", "message": message})


class Request:
    """What a route handler needs to know about one HTTP request."""

    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.query = {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}

    def json(self, error):
        """The body parsed as JSON; `error(detail)` builds the exception for bad input."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as exc:
            raise error("Invalid JSON: %s" % exc) from exc


def json_object(req):
    body = req.json(invalid_body)
    if not isinstance(body, dict):
        raise invalid_body("Expected type object but found type %s" % type(body).__name__)
    return body


def authenticate(state, req):
    """Return the verified claims of the bearer token, or raise the matching 401."""
    header = req.headers.get("authorization")
    if not header:
        raise api_error(401, "Missing authentication")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise api_error(401, "Bad HTTP authentication header format")
    try:
        claims = verify_hs256(token.strip(), state.keys_for_aud)
    except TokenError as exc:
        raise invalid_token() from exc
    jti = claims.get("jti")
    if isinstance(jti, str) and state.is_blacklisted(claims["aud"], jti):
        raise invalid_token()
    return claims


def require_scope(claims, *any_of):
    if not scopes_of(claims) & set(any_of):
        raise api_error(403, "Insufficient scope, expected any of: " + ",".join(any_of), "insufficient_scope")


def fault_error(fault):
    """Build the injected 429/5xx answer, with the headers Auth0 sends on a 429."""
    status, headers = fault["status"], {}
    if status == 429:
        headers["x-ratelimit-limit"] = str(fault["limit"])
        headers["x-ratelimit-remaining"] = "0"
        if fault["reset_in"] is not None:
            headers["x-ratelimit-reset"] = str(math.ceil(time.time() + fault["reset_in"]))
    if fault["retry_after"] is not None:
        headers["Retry-After"] = format_seconds(fault["retry_after"])
    if status == 429:
        return api_error(429, "Global limit has been reached", "too_many_requests", headers)
    return api_error(status, http.HTTPStatus(status).phrase, None, headers)


def format_seconds(value):
    # Integral values print as integers, as real servers send; fractions are kept for fast tests.
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# ---------------------------------------------------------------- /api/v2 routes

def blacklist_add(state, req):
    claims = authenticate(state, req)
    require_scope(claims, "blacklist:tokens")
    body = json_object(req)
    extra = sorted(set(body) - {"jti", "aud"})
    if extra:
        raise invalid_body("Additional properties not allowed: %s" % ",".join(extra))
    if "jti" not in body:
        raise invalid_body("Missing required property: jti")
    if not isinstance(body["jti"], str) or not body["jti"]:
        raise invalid_body("jti must be a non-empty string")
    aud = body.get("aud")
    if aud is None:  # the SDKs omit aud; the API then revokes within the caller's own tenant
        aud = claims["aud"]
    elif not isinstance(aud, str) or not aud:
        raise invalid_body("aud must be a non-empty string")
    with state.lock:
        if (aud, body["jti"]) not in state.blacklist:
            state.blacklist.append((aud, body["jti"]))
    return 204, None


def blacklist_list(state, req):
    claims = authenticate(state, req)
    require_scope(claims, "blacklist:tokens")
    wanted = req.query.get("aud")
    with state.lock:
        entries = [{"aud": aud, "jti": jti} for aud, jti in state.blacklist if wanted in (None, aud)]
    return 200, entries


def user_id_of(req):
    return urllib.parse.unquote(USERS_PATH.fullmatch(req.path).group("user_id"))


def user_get(state, req):
    claims = authenticate(state, req)
    require_scope(claims, "read:users")
    with state.lock:
        user = state.users.get(user_id_of(req))
        if user is None:
            raise api_error(404, "The user does not exist.", "inexistent_user")
        return 200, copy.deepcopy(user)


def merge_metadata(old, patch):
    # One level deep, as Auth0 does: top-level keys merge, a null value deletes the key.
    merged = dict(old or {})
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def user_patch(state, req):
    claims = authenticate(state, req)
    require_scope(claims, *UPDATE_USER_SCOPES)
    patch = json_object(req)
    for key in ("app_metadata", "user_metadata"):
        if key in patch and not isinstance(patch[key], dict):
            raise invalid_body("%s must be an object" % key)
    if "update:users" not in scopes_of(claims) and set(patch) - {"app_metadata"}:
        # update:users_app_metadata only covers app_metadata.
        raise api_error(403, "Insufficient scope, expected any of: update:users", "insufficient_scope")
    with state.lock:
        user = state.users.get(user_id_of(req))
        if user is None:
            raise api_error(404, "The user does not exist.", "inexistent_user")
        for key, value in patch.items():
            is_metadata = key in ("app_metadata", "user_metadata")
            user[key] = merge_metadata(user.get(key), value) if is_metadata else value
        touch_user(state, user)
        return 200, copy.deepcopy(user)


# ---------------------------------------------------------------- /oauth/token

def oauth_error(status, error, description):
    return ApiError(status, {"error": error, "error_description": description})


def oauth_params(req):
    """The request's parameters, form-encoded or JSON (Auth0 takes both)."""
    ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json" or (not ctype and req.body.lstrip().startswith(b"{")):
        params = req.json(lambda detail: oauth_error(400, "invalid_request", detail))
        if not isinstance(params, dict):
            raise oauth_error(400, "invalid_request", "body must be a JSON object")
        return params
    try:
        form = urllib.parse.parse_qs(req.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(req.body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise oauth_error(400, "invalid_request", "bad form body") from exc
    return {key: values[0] for key, values in form.items()}


def audience_ok(audience, host):
    # The real API only takes https://<its domain>/api/v2/; specs use made-up domains,
    # so any audience of that shape is accepted, the Host header's one included.
    return isinstance(audience, str) and (audience == "https://%s/api/v2/" % host or audience.endswith("/api/v2/"))


def oauth_token(state, req):
    params = oauth_params(req)
    if params.get("grant_type") != "client_credentials":
        raise oauth_error(400, "unsupported_grant_type", "Unsupported grant type: %s" % params.get("grant_type"))
    client_id, secret = params.get("client_id"), params.get("client_secret")
    client = state.clients.get(client_id) if isinstance(client_id, str) else None
    if client is None or not isinstance(secret, str) or not hmac.compare_digest(client[0].encode(), secret.encode()):
        raise oauth_error(401, "access_denied", "Unauthorized")
    host = req.headers.get("host", HOST)
    audience = params.get("audience")
    if not audience_ok(audience, host):
        raise oauth_error(403, "access_denied", "Service not enabled within domain: %s" % audience)
    granted = client[1]
    if isinstance(params.get("scope"), str):  # a scope parameter narrows the grant
        granted = [s for s in granted if s in params["scope"].split()]
    now = int(time.time())
    claims = {
        "iss": "https://%s/" % host, "sub": client_id + "@clients", "aud": audience,
        "iat": now, "exp": now + state.token_lifetime, "azp": client_id,
        "scope": " ".join(granted), "gty": "client-credentials", "jti": secrets.token_hex(16),
    }
    return 200, {"access_token": sign_hs256(state.signing_key, claims), "expires_in": state.token_lifetime,
                 "scope": claims["scope"], "token_type": "Bearer"}


# ---------------------------------------------------------------- /__control/

def control_object(req):
    body = req.json(control_error) if req.body.strip() else {}
    if not isinstance(body, dict):
        raise control_error("body must be a JSON object")
    return body


def optional_seconds(body, key):
    value = body.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
        raise control_error("%s must be a number >= 0 or null" % key)
    return value


def control_ratelimit(state, req):
    body = control_object(req)
    count, status, limit = body.get("count"), body.get("status", 429), body.get("limit", 10)
    if isinstance(count, bool) or not isinstance(count, int) or count < -1:
        raise control_error("count must be an integer >= -1")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise control_error("limit must be a positive integer")
    if status not in FAULT_STATUSES:
        raise control_error("status must be one of %s" % (FAULT_STATUSES,))
    fault = {"count": count, "status": status, "limit": limit,
             "retry_after": optional_seconds(body, "retry_after"), "reset_in": optional_seconds(body, "reset_in")}
    with state.lock:
        state.fault = fault if count != 0 else None  # 0 switches injection off
    return 200, {"ok": True, "fault": fault if count != 0 else None}


def control_delay(state, req):
    seconds = optional_seconds(control_object(req), "seconds")
    with state.lock:
        state.delay = float(seconds or 0)
    return 200, {"ok": True, "seconds": state.delay}


def control_requests(state, req):
    with state.lock:
        return 200, list(state.records)


def control_reset(state, req):
    state.reset()
    return 200, {"ok": True}


# ---------------------------------------------------------------- tenant-scale automation
# Everything the automation specs need, kept apart from the routes above: a few hundred
# deterministic users with a search language subset and offset paging (GET /api/v2/users),
# organizations with checkpoint paging, the export and import jobs with their downloads,
# a token-bucket rate limit, and a count of accepted TCP connections.

SCALE_USERS = 600  # seeded at start and on reset; user i has app_metadata.tier "gold" unless i % 4 == 0
SCALE_ORGANIZATIONS = 250
SCALE_EPOCH = 1767225600  # 2026-01-01T00:00:00Z: created_at of user 1, one second apart
CONNECTIONS = {"con_0000000000000001": "Username-Password-Authentication"}
DEFAULT_CONNECTION_ID = "con_0000000000000001"
RESULT_CAP = 1000  # offset paging stops here, as Auth0's does (page * per_page + per_page > 1000)
MAX_PER_PAGE = 100
MAX_TAKE = 100
JOB_PATH = re.compile(r"/api/v2/jobs/(?P<job_id>job_[A-Za-z0-9]+)")
JOB_ERRORS_PATH = re.compile(r"/api/v2/jobs/(?P<job_id>job_[A-Za-z0-9]+)/errors")
DOWNLOAD_PATH = re.compile(r"/__downloads/(?P<job_id>job_[A-Za-z0-9]+)/[\w.-]+")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CAP_MESSAGE = ("You can only page through the first 1000 records. See "
               "https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation")


class RawBody:
    """A non-JSON answer (a download)."""

    def __init__(self, data, content_type):
        self.data, self.content_type = data, content_type


def iso_time(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % (int(seconds * 1000) % 1000)


def scale_user(i):
    user_id = "auth0|scale-%05d" % i
    stamp = iso_time(SCALE_EPOCH + i)
    return {
        "user_id": user_id, "email": "user%05d@scale.example.com" % i, "email_verified": i % 3 == 0,
        "name": "User %05d" % i, "nickname": "user%05d" % i, "created_at": stamp, "updated_at": stamp,
        "identities": [{"connection": CONNECTIONS[DEFAULT_CONNECTION_ID], "provider": "auth0",
                        "user_id": user_id.split("|", 1)[1], "isSocial": False}],
        "app_metadata": {"tier": "silver" if i % 4 == 0 else "gold", "n": i},
        "user_metadata": {"team": "team-%d" % (i % 7)},
    }


def seed_users(state, count):
    """Called with state.lock held: the seeded scale users become 1..count (others are kept)."""
    for user_id in [u for u in state.users if u.startswith("auth0|scale-")]:
        del state.users[user_id]
    for i in range(1, count + 1):
        user = scale_user(i)
        state.users[user["user_id"]] = user


def reset_scale(state):
    with state.lock:
        seed_users(state, SCALE_USERS)
        state.organizations = [{"id": "org_%016d" % i, "name": "org-%04d" % i, "display_name": "Organization %d" % i}
                               for i in range(1, SCALE_ORGANIZATIONS + 1)]
        state.jobs = {}
        state.job_polls_per_phase = 1
        state.bucket = None
        state.connections = {"http": 0, "https": 0}
        state.tick = 0
        state.idle_timeout = None


def touch_user(state, user):
    """After a PATCH (lock held): updated_at moves on, so the default order of GET /users changes."""
    if "updated_at" in user:
        state.tick += 1
        user["updated_at"] = iso_time(time.time() + state.tick / 1000.0)


def count_connection(state, scheme):
    with state.lock:
        if hasattr(state, "connections"):
            state.connections[scheme] += 1


# ---- the search language: a subset of Auth0's Lucene syntax (documented in README.md)

class QueryError(Exception):
    pass


def lex_query(text):
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(c)
            i += 1
        else:
            match = re.compile(r'([\w.\[\]]+):("(?:[^"\\]|\\.)*"|[^\s()"]+)|(AND|OR|NOT)(?=[\s()]|$)').match(text, i)
            if not match:
                raise QueryError("cannot parse the query near: %s" % text[i:i + 20])
            if match.group(3):
                tokens.append(match.group(3))
            else:
                value = match.group(2)
                quoted = value.startswith('"')
                if quoted:
                    value = re.sub(r"\\(.)", r"\1", value[1:-1])
                tokens.append(("term", match.group(1), value, quoted))
            i = match.end()
    return tokens


def parse_query(text):
    """Returns a predicate over users. Grammar: or := and (OR and)*; and := unary ((AND)? unary)*;
    unary := NOT unary | ( or ) | field:value."""
    tokens = lex_query(text)
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else None

    def take():
        pos[0] += 1
        return tokens[pos[0] - 1]

    def unary():
        tok = peek()
        if tok == "NOT":
            take()
            inner = unary()
            return lambda u: not inner(u)
        if tok == "(":
            take()
            inner = disjunction()
            if take_if(")") is None:
                raise QueryError("missing )")
            return inner
        if isinstance(tok, tuple):
            take()
            return term_predicate(tok[1], tok[2], tok[3])
        raise QueryError("unexpected %s" % (tok if tok else "end of query"))

    def take_if(value):
        if peek() == value:
            return take()
        return None

    def conjunction():
        parts = [unary()]
        while peek() not in (None, ")", "OR"):
            take_if("AND")
            parts.append(unary())
        return lambda u: all(p(u) for p in parts)

    def disjunction():
        parts = [conjunction()]
        while take_if("OR"):
            parts.append(conjunction())
        return lambda u: any(p(u) for p in parts)

    if not tokens:
        return lambda u: True
    predicate = disjunction()
    if peek() is not None:
        raise QueryError("unexpected %s" % peek())
    return predicate


def field_values(value, path):
    """Every value at a dotted path; lists along the way are searched element by element."""
    if not path:
        return value if isinstance(value, list) else [value]
    name, rest = path[0], path[1:]
    index = re.fullmatch(r"(\w+)\[(\d+)\]", name)
    if isinstance(value, list):
        return [v for item in value for v in field_values(item, path)]
    if not isinstance(value, dict):
        return []
    if index:
        items = value.get(index.group(1))
        n = int(index.group(2))
        return field_values(items[n], rest) if isinstance(items, list) and n < len(items) else []
    return field_values(value[name], rest) if name in value else []


def term_predicate(field, value, quoted):
    if field == "_exists_":
        path = value.split(".")
        return lambda u: bool(field_values(u, path))
    path = field.split(".")
    wildcard = not quoted and value.endswith("*")
    prefix = value[:-1].lower() if wildcard else None

    def matches(candidate):
        if isinstance(candidate, bool):
            text = "true" if candidate else "false"
        elif isinstance(candidate, (int, float, str)):
            text = str(candidate)
        else:
            return False
        if wildcard:
            return text.lower().startswith(prefix)
        return text.lower() == value.lower()

    return lambda u: any(matches(v) for v in field_values(u, path))


def sort_key(sort):
    """`field:1` or `field:-1` (Auth0's form); default: updated_at ascending, then user_id. That
    default is this server's choice (Auth0 documents no order without sort): a PATCH moves the
    user to the end, so paging while patching visibly goes wrong unless the client copes."""
    field, order = "updated_at", 1
    if sort:
        match = re.fullmatch(r"([\w.]+):(-?1)", sort)
        if not match:
            raise api_error(400, "Query validation error: 'sort' must be field:1 or field:-1",
                            "invalid_query_string")
        field, order = match.group(1), int(match.group(2))
    path = field.split(".")

    def key(user):
        values = field_values(user, path)
        return (str(values[0]) if values else "", user["user_id"])

    return key, order == -1


def int_param(req, name, default, low, high):
    text = req.query.get(name)
    if text is None or text == "":
        return default
    if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
        raise api_error(400, "Query validation error: '%s' must be an integer from %d to %d" % (name, low, high),
                        "invalid_query_string")
    return int(text)


def is_true(req, name):
    return req.query.get(name, "false").lower() == "true"


def pick_fields(user, req):
    fields = req.query.get("fields")
    if not fields:
        return copy.deepcopy(user)
    names = set(fields.split(","))
    if req.query.get("include_fields", "true").lower() == "false":
        return {k: copy.deepcopy(v) for k, v in user.items() if k not in names}
    return {k: copy.deepcopy(v) for k, v in user.items() if k in names}


def users_list(state, req):
    claims = authenticate(state, req)
    require_scope(claims, "read:users")
    page = int_param(req, "page", 0, 0, 10 ** 6)
    per_page = int_param(req, "per_page", 50, 0, MAX_PER_PAGE)
    if page * per_page + per_page > RESULT_CAP:
        raise api_error(400, CAP_MESSAGE, "invalid_paging")
    try:
        predicate = parse_query(req.query.get("q", ""))
    except QueryError as exc:
        raise api_error(400, "Query validation error: %s" % exc, "invalid_query_string") from exc
    key, reverse = sort_key(req.query.get("sort"))
    with state.lock:
        found = sorted((u for u in state.users.values() if predicate(u)), key=key, reverse=reverse)
        window = [pick_fields(u, req) for u in found[page * per_page:page * per_page + per_page]]
    if is_true(req, "include_totals"):
        return 200, {"start": page * per_page, "limit": per_page, "length": len(window), "total": len(found),
                     "users": window}
    return 200, window


def checkpoint_token(index):
    return b64url_encode(("i:%d" % index).encode())


def checkpoint_index(text):
    try:
        match = re.fullmatch(r"i:(\d+)", b64url_decode_strict(text).decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        match = None
    if not match:
        raise api_error(400, "Query validation error: 'from' is not a valid checkpoint", "invalid_query_string")
    return int(match.group(1))


def organizations_list(state, req):
    """Both paging styles, as Auth0's /organizations: checkpoint (from/take -> next) when
    either is given, else offset (page/per_page/include_totals)."""
    claims = authenticate(state, req)
    require_scope(claims, "read:organizations")
    with state.lock:
        orgs = copy.deepcopy(state.organizations)
    if "from" in req.query or "take" in req.query:
        start = checkpoint_index(req.query["from"]) if req.query.get("from") else 0
        take = int_param(req, "take", 50, 1, MAX_TAKE)
        window = orgs[start:start + take]
        body = {"organizations": window}
        if start + take < len(orgs):
            body["next"] = checkpoint_token(start + take)
        return 200, body
    page = int_param(req, "page", 0, 0, 10 ** 6)
    per_page = int_param(req, "per_page", 50, 0, MAX_PER_PAGE)
    if page * per_page + per_page > RESULT_CAP:
        raise api_error(400, "Requesting page %d exceeds the allowed maximum of 1000 records. To fetch results "
                        "beyond 1000, use the checkpoint pagination method." % page, "invalid_paging")
    window = orgs[page * per_page:page * per_page + per_page]
    if is_true(req, "include_totals"):
        return 200, {"organizations": window, "start": page * per_page, "limit": per_page, "total": len(orgs)}
    return 200, window


# ---- jobs

def new_job_id():
    return "job_" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                            for _ in range(16))


def export_fields(body):
    fields = body.get("fields")
    if fields is None:
        return [{"name": n} for n in ("user_id", "email", "name", "created_at", "updated_at")]
    if not isinstance(fields, list) or not fields or len(fields) > 30:
        raise invalid_body("fields must be a list of 1 to 30 objects")
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str) or set(field) - {"name", "export_as"}:
            raise invalid_body("each field must be {name, export_as}")
        if "export_as" in field and not isinstance(field["export_as"], str):
            raise invalid_body("export_as must be a string")
    return fields


def export_value(user, name):
    values = field_values(user, re.split(r"\.(?![^\[]*\])", name))
    if not values:
        return None
    return values[0] if len(values) == 1 or "[" in name else values


def csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif not isinstance(value, str):
        value = compact_json(value)
    if re.search(r'[",\r\n]', value):
        return '"' + value.replace('"', '""') + '"'
    return value


def export_file(users, fields, fmt):
    import gzip
    names = [f.get("export_as", f["name"]) for f in fields]
    if fmt == "csv":
        lines = [",".join(csv_cell(n) for n in names)]
        for user in users:
            lines.append(",".join(csv_cell(export_value(user, f["name"])) for f in fields))
        text = "\r\n".join(lines) + "\r\n"
    else:
        lines = []
        for user in users:
            record = {}
            for field, name in zip(fields, names):
                value = export_value(user, field["name"])
                if value is not None:
                    record[name] = value
            lines.append(compact_json(record))
        text = "".join(line + "\n" for line in lines)
    return gzip.compress(text.encode("utf-8"), mtime=0)


def export_create(state, req):
    claims = authenticate(state, req)
    require_scope(claims, "read:users")
    body = json_object(req)
    extra = sorted(set(body) - {"connection_id", "format", "limit", "fields"})
    if extra:
        raise invalid_body("Additional properties not allowed: %s" % ",".join(extra))
    connection_id = body.get("connection_id")
    if connection_id is not None and connection_id not in CONNECTIONS:
        raise api_error(404, "The connection does not exist.", "inexistent_connection")
    fmt = body.get("format", "json")
    if fmt not in ("json", "csv"):
        raise invalid_body("format must be json or csv")
    limit = body.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise invalid_body("limit must be a positive integer")
    fields = export_fields(body)
    with state.lock:
        users = sorted(state.users.values(), key=lambda u: u["user_id"])
        if connection_id:
            users = [u for u in users if CONNECTIONS[connection_id] in field_values(u, ["identities", "connection"])]
        users = copy.deepcopy(users[:limit] if limit else users)
    job = {"type": "users_export", "status": "pending", "format": fmt, "fields": fields,
           "created_at": iso_time(time.time()), "id": new_job_id()}
    if connection_id:
        job.update(connection_id=connection_id, connection=CONNECTIONS[connection_id])
    if limit:
        job["limit"] = limit
    host = req.headers.get("host", HOST)
    data = export_file(users, fields, fmt)
    with state.lock:
        state.jobs[job["id"]] = {"job": job, "polls": 0, "file": data, "scheme": req.scheme, "host": host,
                                 "count": len(users)}
    return 201, dict(job)


def multipart_fields(req):
    """The parts of a multipart/form-data body: name -> (filename or None, bytes)."""
    ctype = req.headers.get("content-type", "")
    match = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.lower().startswith("multipart/form-data") or not match:
        raise invalid_body("Content-Type must be multipart/form-data with a boundary")
    delimiter = b"--" + match.group(1).encode()
    fields = {}
    pieces = req.body.split(delimiter)
    if len(pieces) < 3 or not pieces[-1].startswith(b"--"):
        raise invalid_body("malformed multipart body")
    for piece in pieces[1:-1]:
        if not piece.startswith(b"\r\n") or not piece.endswith(b"\r\n"):
            raise invalid_body("malformed multipart part")
        head, sep, data = piece[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise invalid_body("malformed multipart part")
        disposition = re.search(rb'content-disposition:\s*form-data;\s*name="([^"]+)"(?:;\s*filename="([^"]*)")?',
                                head, re.IGNORECASE)
        if not disposition:
            raise invalid_body("multipart part without a form-data name")
        filename = disposition.group(2)
        fields[disposition.group(1).decode()] = (filename.decode() if filename is not None else None, data)
    return fields


def import_errors(users, existing_emails, upsert):
    """Per-user errors as Auth0's GET /jobs/{id}/errors lists them, and the valid users."""
    errors, valid, seen = [], [], set()
    for user in users:
        problems = []
        email = user.get("email") if isinstance(user, dict) else None
        if not isinstance(user, dict):
            problems.append({"code": "INVALID_FORMAT", "message": "Expected type object", "path": ""})
        elif not isinstance(email, str):
            problems.append({"code": "OBJECT_REQUIRED", "message": "Missing required property: email", "path": "email"})
        elif not EMAIL.fullmatch(email):
            problems.append({"code": "INVALID_FORMAT", "message": "Error in email property - Object didn't pass "
                             "validation for format email: %s" % email, "path": "email"})
        elif email.lower() in seen:
            problems.append({"code": "DUPLICATED_USER", "message": "The user appears twice in the file",
                             "path": "email"})
        elif email.lower() in existing_emails and not upsert:
            problems.append({"code": "DUPLICATED_USER", "message": "The user already exist and upsert parameter "
                             "is false", "path": "email"})
        if problems:
            errors.append({"user": user, "errors": problems})
        else:
            seen.add(email.lower())
            valid.append(user)
    return errors, valid


def import_create(state, req):
    claims = authenticate(state, req)
    require_scope(claims, "create:users")
    fields = multipart_fields(req)
    if "users" not in fields or fields["users"][0] is None:
        raise invalid_body("Missing required file: users")
    connection_id = fields.get("connection_id", (None, b""))[1].decode("utf-8", "replace")
    if connection_id not in CONNECTIONS:
        raise api_error(400 if not connection_id else 404, "The connection does not exist.", "inexistent_connection")
    upsert = fields.get("upsert", (None, b"false"))[1].decode().lower() == "true"
    try:
        users = json.loads(fields["users"][1].decode("utf-8"))
    except ValueError as exc:
        raise invalid_body("Users file must be a JSON array") from exc
    if not isinstance(users, list):
        raise invalid_body("Users file must be a JSON array")
    job = {"type": "users_import", "status": "pending", "connection_id": connection_id,
           "connection": CONNECTIONS[connection_id], "created_at": iso_time(time.time()), "id": new_job_id()}
    if "external_id" in fields:
        job["external_id"] = fields["external_id"][1].decode("utf-8", "replace")
    with state.lock:
        state.jobs[job["id"]] = {"job": job, "polls": 0, "users": users, "upsert": upsert, "errors": []}
    return 202, dict(job)


def finish_import(state, record):
    """Lock held: apply the import and write its summary."""
    by_email = {u.get("email", "").lower(): u for u in state.users.values()}
    errors, valid = import_errors(record["users"], by_email, record["upsert"])
    inserted = updated = 0
    for user in valid:
        existing = by_email.get(user["email"].lower())
        if existing:
            for key, value in user.items():
                if key != "user_id":
                    existing[key] = copy.deepcopy(value)
            touch_user(state, existing)
            updated += 1
        else:
            suffix = user.get("user_id") or hashlib.sha256(user["email"].lower().encode()).hexdigest()[:24]
            new = copy.deepcopy(user)
            new["user_id"] = "auth0|" + str(suffix)
            new["identities"] = [{"connection": record["job"]["connection"], "provider": "auth0",
                                  "user_id": str(suffix), "isSocial": False}]
            state.users[new["user_id"]] = new
            inserted += 1
    record["errors"] = errors
    record["job"]["summary"] = {"failed": len(errors), "updated": updated, "inserted": inserted,
                                "total": len(record["users"])}


def job_record(state, req, pattern):
    """Lock held (authenticate first, outside it)."""
    record = state.jobs.get(pattern.fullmatch(req.path).group("job_id"))
    if record is None:
        raise api_error(404, "The job does not exist.", "inexistent_job")
    return record


def job_get(state, req):
    """pending for the first N polls, then processing for N, then completed (N: /__control/jobs)."""
    require_scope(authenticate(state, req), "read:users", "create:users")
    with state.lock:
        record = job_record(state, req, JOB_PATH)
        job = record["job"]
        if job["status"] != "completed":
            record["polls"] += 1
            n = state.job_polls_per_phase
            if record["polls"] > 2 * n:
                job["status"] = "completed"
                if job["type"] == "users_export":
                    job["location"] = "%s://%s/__downloads/%s/users.%s.gz" % (
                        record["scheme"], record["host"], job["id"], job["format"])
                else:
                    finish_import(state, record)
            elif record["polls"] > n:
                job["status"] = "processing"
                job["time_left_seconds"] = 1
        answer = copy.deepcopy(job)
        if job["status"] == "completed":
            answer.pop("time_left_seconds", None)
            job.pop("time_left_seconds", None)
        return 200, answer


def job_errors(state, req):
    require_scope(authenticate(state, req), "read:users", "create:users")
    with state.lock:
        record = job_record(state, req, JOB_ERRORS_PATH)
        return 200, copy.deepcopy(record.get("errors", []))


def download(state, req):
    """The export's file, as Auth0's pre-signed storage URL serves it: no Authorization needed."""
    with state.lock:
        record = state.jobs.get(DOWNLOAD_PATH.fullmatch(req.path).group("job_id"))
        if record is None or "file" not in record or record["job"]["status"] != "completed":
            raise ApiError(404, {"error": "NoSuchKey"})
        return 200, RawBody(record["file"], "application/gzip")


# ---- rate limit on demand and the control endpoints of this section

def take_from_bucket(state):
    """One request out of the bucket: the x-ratelimit-* headers to send, or a 429."""
    with state.lock:
        bucket = getattr(state, "bucket", None)
        if bucket is None:
            return None
        now = time.time()
        if now >= bucket["reset"]:
            bucket["remaining"] = bucket["limit"]
            bucket["reset"] = now + bucket["window"]
        headers = {"x-ratelimit-limit": str(bucket["limit"]), "x-ratelimit-reset": format_seconds(
            math.ceil(bucket["reset"]) if float(bucket["window"]).is_integer() else round(bucket["reset"], 3))}
        if bucket["remaining"] <= 0:
            bucket["refused"] += 1
            headers["x-ratelimit-remaining"] = "0"
            raise api_error(429, "Global limit has been reached", "too_many_requests", headers)
        bucket["remaining"] -= 1
        bucket["served"] += 1
        headers["x-ratelimit-remaining"] = str(bucket["remaining"])
        return headers


def control_bucket(state, req):
    if req.method == "GET":
        with state.lock:
            bucket = state.bucket
            return 200, {k: bucket[k] for k in ("limit", "window", "served", "refused")} if bucket else None
    body = control_object(req)
    limit, window = body.get("limit"), optional_seconds(body, "window")
    if limit in (None, 0):
        with state.lock:
            state.bucket = None
        return 200, {"ok": True, "bucket": None}
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1 or not window:
        raise control_error("limit must be a positive integer and window a number of seconds > 0")
    with state.lock:
        state.bucket = {"limit": limit, "window": float(window), "remaining": limit, "reset": time.time() + window,
                        "served": 0, "refused": 0}
    return 200, {"ok": True}


def control_seed(state, req):
    body = control_object(req)
    count = body.get("users")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 100000:
        raise control_error("users must be an integer from 0 to 100000")
    with state.lock:
        seed_users(state, count)
        return 200, {"ok": True, "users": len(state.users)}


def control_jobs(state, req):
    body = control_object(req)
    n = body.get("polls_per_phase")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise control_error("polls_per_phase must be an integer >= 0")
    with state.lock:
        state.job_polls_per_phase = n
    return 200, {"ok": True}


def apply_idle_timeout(state, connection):
    """After an answer: close the kept-alive connection once idle this long (when set)."""
    seconds = getattr(state, "idle_timeout", None)
    if seconds:
        connection.settimeout(seconds)


def control_idle(state, req):
    seconds = optional_seconds(control_object(req), "seconds")
    with state.lock:
        state.idle_timeout = float(seconds) if seconds else None
    return 200, {"ok": True}


def control_connections(state, req):
    with state.lock:
        return 200, dict(state.connections)


SCALE_ROUTES = [
    ("GET", re.compile(r"/api/v2/users"), users_list),
    ("GET", re.compile(r"/api/v2/organizations"), organizations_list),
    ("POST", re.compile(r"/api/v2/jobs/users-exports"), export_create),
    ("POST", re.compile(r"/api/v2/jobs/users-imports"), import_create),
    ("GET", JOB_PATH, job_get),
    ("GET", JOB_ERRORS_PATH, job_errors),
    ("GET", DOWNLOAD_PATH, download),
    ("GET", re.compile(r"/__control/bucket"), control_bucket),
    ("POST", re.compile(r"/__control/bucket"), control_bucket),
    ("POST", re.compile(r"/__control/seed"), control_seed),
    ("POST", re.compile(r"/__control/jobs"), control_jobs),
    ("GET", re.compile(r"/__control/connections"), control_connections),
    ("POST", re.compile(r"/__control/idle-timeout"), control_idle),
]


ROUTES = [
    ("POST", re.compile(r"/api/v2/blacklists/tokens"), blacklist_add),
    ("GET", re.compile(r"/api/v2/blacklists/tokens"), blacklist_list),
    ("GET", USERS_PATH, user_get),
    ("PATCH", USERS_PATH, user_patch),
    ("POST", re.compile(r"/oauth/token"), oauth_token),
    ("POST", re.compile(r"/__control/ratelimit"), control_ratelimit),
    ("POST", re.compile(r"/__control/delay"), control_delay),
    ("GET", re.compile(r"/__control/requests"), control_requests),
    ("POST", re.compile(r"/__control/reset"), control_reset),
] + SCALE_ROUTES


def route(method, path):
    for route_method, pattern, handler in ROUTES:
        if route_method == method and pattern.fullmatch(path):
            return handler
    raise api_error(404, "Not Found")


# ---------------------------------------------------------------- HTTP plumbing

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API clients expect
    timeout = 60  # drop idle keep-alive connections eventually
    # Headers and body go out in two writes: without this, Nagle's algorithm holds the body
    # until the client's delayed ACK (40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    def version_string(self):
        return "auth0-mock"

    def setup(self):
        super().setup()
        # TLS handshake here, in the connection's own thread, so a slow or failing
        # client never blocks the accept loop.
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def do_GET(self):
        self.dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def dispatch(self):
        state = self.server.state
        url = urllib.parse.urlsplit(self.path)
        try:
            req = Request(self.command, url.path, url.query, self.lowered_headers(), self.read_body())
            req.scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
            if not url.path.startswith("/__control/"):
                self.before_api_call(state, req)
            status, body = route(req.method, req.path)(state, req)
            self.respond(status, body)
        except ApiError as exc:
            self.respond(exc.status, exc.body, exc.headers)
        except (ConnectionError, socket.timeout):
            raise  # the client went away (e.g. a timeout test); nothing to answer
        except Exception:  # a bug here must show up as a 500, not as a hung client
            sys.stderr.write("auth0_mock internal error:\n" + traceback.format_exc())
            self.respond(500, {"statusCode": 500, "error": "Internal Server Error", "message": "mock server bug"})

    def before_api_call(self, state, req):
        """Record the request, then apply the injected delay and failures."""
        state.record({
            "method": req.method, "path": req.path, "query": urllib.parse.urlsplit(self.path).query,
            "headers": req.headers, "body": req.body.decode("utf-8", "replace"),
            "scheme": "https" if isinstance(self.connection, ssl.SSLSocket) else "http", "time": time.time(),
        })
        with state.lock:
            delay = state.delay
        if delay > 0:
            time.sleep(delay)
        if req.path.startswith("/api/v2/"):
            fault = state.take_fault()
            if fault:
                raise fault_error(fault)
            self.extra_headers = take_from_bucket(state)

    def lowered_headers(self):
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = headers[name] + ", " + value if name in headers else value
        return headers

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            self.close_connection = True  # the unread body would poison keep-alive
            raise api_error(400, "Bad Content-Length") from exc
        return self.rfile.read(length) if length > 0 else b""

    def read_chunked(self):
        chunks = []
        while True:
            try:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            except ValueError as exc:
                self.close_connection = True  # the unread body would poison keep-alive
                raise api_error(400, "Bad chunked encoding") from exc
            if size == 0:
                while self.rfile.readline().strip():  # skip trailers
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def respond(self, status, body, headers=None):
        headers = dict(getattr(self, "extra_headers", None) or {}, **(headers or {}))
        self.extra_headers = None
        if isinstance(body, RawBody):
            self.respond_raw(status, body, headers)
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status == 204:  # no body and, per RFC 9110, no Content-Length either
            self.end_headers()
            return
        payload = compact_json(body).encode("utf-8")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        apply_idle_timeout(self.server.state, self.connection)

    def respond_raw(self, status, body, headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", body.content_type)
        self.send_header("Content-Length", str(len(body.data)))
        self.end_headers()
        self.wfile.write(body.data)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)


class MockServer(ThreadingHTTPServer):
    daemon_threads = True  # a sleeping (delayed) handler must not hold up shutdown

    def __init__(self, address, state, verbose=False):
        self.state, self.verbose = state, verbose
        super().__init__(address, Handler)

    def process_request(self, request, client_address):
        count_connection(self.state, "https" if isinstance(self, TLSMockServer) else "http")
        super().process_request(request, client_address)

    def handle_error(self, request, client_address):
        # Clients that hang up, time out or reject our certificate are part of the tests.
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, socket.timeout)):
            return
        super().handle_error(request, client_address)


class TLSMockServer(MockServer):
    def __init__(self, address, state, context, verbose=False):
        self.context = context
        super().__init__(address, state, verbose)

    def get_request(self):
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


# ---------------------------------------------------------------- certificates

OPENSSL_CONFIG = """
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""
# EC: fast to make. -nodes, not 3.0's -noenc: the same on OpenSSL 3 and known to 1.1.1.
NEW_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def cert_files(directory):
    names = ("ca.pem", "ca.key", "server.pem", "server.key", "other-ca.pem", "other-ca.key")
    return {name: os.path.join(os.path.abspath(directory), name) for name in names}


def openssl(*args):
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args[0], result.stderr.strip()))


def make_ca(work, config, name, common_name):
    openssl("req", "-x509", "-new", *NEW_EC_KEY, "-keyout", os.path.join(work, name + ".key"),
            "-out", os.path.join(work, name + ".pem"), "-days", "3650", "-subj", "/CN=" + common_name,
            "-config", config, "-extensions", "ca_ext")


def make_server_cert(work, config, ca_pem, ca_key):
    key, csr, pem = (os.path.join(work, "server" + ext) for ext in (".key", ".csr", ".pem"))
    openssl("req", "-new", *NEW_EC_KEY, "-keyout", key, "-out", csr, "-subj", "/CN=localhost", "-config", config)
    openssl("x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial", "0x" + secrets.token_hex(16),
            "-days", "825", "-out", pem, "-extfile", config, "-extensions", "server_ext")


def ensure_certs(directory):
    """Create whatever is missing of: test CA, server cert it signs, unrelated second CA.

    A lock file serialises concurrent starts sharing one directory; files are built in
    a scratch directory and moved in, so nobody ever sees half-written PEM.
    """
    os.makedirs(directory, exist_ok=True)
    files = cert_files(directory)
    with open(os.path.join(directory, ".gen.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        need_ca = not all(os.path.exists(files[n]) for n in ("ca.pem", "ca.key"))
        need_server = need_ca or not all(os.path.exists(files[n]) for n in ("server.pem", "server.key"))
        need_other = not all(os.path.exists(files[n]) for n in ("other-ca.pem", "other-ca.key"))
        if need_ca or need_server or need_other:
            with tempfile.TemporaryDirectory(dir=directory) as work:
                config = os.path.join(work, "openssl.cnf")
                with open(config, "w") as handle:
                    handle.write(OPENSSL_CONFIG)
                made = []
                if need_ca:
                    make_ca(work, config, "ca", "auth0-mock test CA")
                    made += ["ca.key", "ca.pem"]
                if need_server:
                    ca_dir = work if need_ca else directory
                    make_server_cert(work, config, os.path.join(ca_dir, "ca.pem"), os.path.join(ca_dir, "ca.key"))
                    made += ["server.key", "server.pem"]
                if need_other:
                    make_ca(work, config, "other-ca", "auth0-mock unrelated CA")
                    made += ["other-ca.key", "other-ca.pem"]
                for name in made:  # keys first, so a cert never points at a missing key
                    os.replace(os.path.join(work, name), files[name])
    return files


def server_tls_context(files):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files["server.pem"], files["server.key"])
    return context


# ---------------------------------------------------------------- command line

def parse_tenant(text):
    aud, sep, secret = text.partition("=")
    if not sep or not aud:
        raise argparse.ArgumentTypeError("expected AUD=SECRET")
    try:
        return aud, decode_secret(secret)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("tenant %s: %s" % (aud, exc)) from exc


def parse_client(text):
    # ID=SECRET:scope1,scope2 -- split at the FIRST colon, since scopes contain colons.
    client_id, sep, rest = text.partition("=")
    if not sep or not client_id:
        raise argparse.ArgumentTypeError("expected ID=SECRET:scope1,scope2")
    secret, _, scopes = rest.partition(":")
    if not secret:
        raise argparse.ArgumentTypeError("client %s: empty secret" % client_id)
    return client_id, (secret, [s for s in scopes.split(",") if s])


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Local Auth0 Management API v2 imitation for tests.")
    parser.add_argument("--gen-ca", metavar="DIR", help="only create the test certificates in DIR and exit")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (0: pick a free one)")
    parser.add_argument("--https-port", type=int, default=0, help="HTTPS port (0: pick a free one)")
    parser.add_argument("--tls-dir", metavar="DIR", help="certificates; created there if missing")
    parser.add_argument("--http-only", action="store_true", help="serve plain HTTP only")
    parser.add_argument("--tenant", type=parse_tenant, action="append", default=[], metavar="AUD=SECRET_B64URL")
    parser.add_argument("--client", type=parse_client, action="append", default=[], metavar="ID=SECRET:SCOPES")
    parser.add_argument("--token-lifetime", type=int, default=86400, help="seconds, for /oauth/token")
    parser.add_argument("--ready-file", metavar="F", help="also write the ready line to F")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    if not args.gen_ca and not args.http_only and not args.tls_dir:
        parser.error("--tls-dir is required unless --http-only")
    return args


def write_ready(line, ready_file):
    # The file first, so whoever reads stdout can rely on it existing too.
    if ready_file:  # write-then-rename: a poller never reads a partial line
        temp = ready_file + ".tmp"
        with open(temp, "w") as handle:
            handle.write(line + "\n")
        os.replace(temp, ready_file)
    print(line, flush=True)


def serve(args):
    state = State(dict(args.tenant), dict(args.client), args.token_lifetime)
    servers = [MockServer((HOST, args.port), state, args.verbose)]
    ca_file = None
    if not args.http_only:
        files = ensure_certs(args.tls_dir)
        servers.append(TLSMockServer((HOST, args.https_port), state, server_tls_context(files), args.verbose))
        ca_file = files["ca.pem"]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for server in servers:
        # A short poll interval keeps shutdown() prompt after SIGTERM.
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    https_port = servers[1].server_address[1] if len(servers) > 1 else None
    write_ready(compact_json({"http_port": servers[0].server_address[1], "https_port": https_port,
                              "ca_file": ca_file, "pid": os.getpid()}), args.ready_file)
    while not stop.wait(1):  # a timed wait keeps the main thread responsive to signals
        pass
    for server in servers:
        server.shutdown()
        server.server_close()
    if args.ready_file and os.path.exists(args.ready_file):
        os.remove(args.ready_file)  # a leftover ready file would then mean a crash
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.gen_ca:
        print(compact_json(ensure_certs(args.gen_ca)), flush=True)
        return 0
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
