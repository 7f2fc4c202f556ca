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
]


def route(method, path):
    for route_method, pattern, handler in ROUTES:
        if route_method == method and pattern.fullmatch(path):
            return handler
    raise api_error(404, "Not Found")


# ---------------------------------------------------------------- HTTP plumbing

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API clients expect
    timeout = 60  # drop idle keep-alive connections eventually

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
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status == 204:  # no body and, per RFC 9110, no Content-Length either
            self.end_headers()
            return
        payload = compact_json(body).encode("utf-8")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)


class MockServer(ThreadingHTTPServer):
    daemon_threads = True  # a sleeping (delayed) handler must not hold up shutdown

    def __init__(self, address, state, verbose=False):
        self.state, self.verbose = state, verbose
        super().__init__(address, Handler)

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
