"""Self-test of auth0_mock.py: starts it as a subprocess and talks to it over HTTP and HTTPS.

Run: /usr/bin/python3 -m unittest spec/server/test_auth0_mock.py -v
Tokens are built here with plain hmac, never with the server's own helpers, so the two
sides check each other. Certificates go to a temporary directory under /tmp.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "auth0_mock.py")
PYTHON = "/usr/bin/python3"

# Tenant 1: base64url secret without padding, as Auth0 handed them out (48 bytes, 64 chars).
AUD1 = "tenant1GlobalClientId"
SECRET1 = bytes(range(200, 248))
SECRET1_TEXT = base64.urlsafe_b64encode(SECRET1).decode().rstrip("=")
# Tenant 2: standard alphabet with padding; "+", "/" and "=" all occur in it.
AUD2 = "tenant2GlobalClientId"
SECRET2 = b"\xfb\xff\xfe" * 15 + b"\xfb\xff"
SECRET2_TEXT = base64.b64encode(SECRET2).decode()
CLIENT_ID, CLIENT_SECRET = "client1", "s3cret"
LIFETIME = 3600

INVALID_TOKEN = {"statusCode": 401, "error": "Unauthorized", "message": "Invalid token", "errorCode": "invalid_token"}
NO_BLACKLIST_SCOPE = {"statusCode": 403, "error": "Forbidden",
                      "message": "Insufficient scope, expected any of: blacklist:tokens", "errorCode": "insufficient_scope"}
TOO_MANY = {"statusCode": 429, "error": "Too Many Requests", "message": "Global limit has been reached",
            "errorCode": "too_many_requests"}
SRV = {}  # filled by setUpModule: proc, ready, tmp


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(key, claims, header=None):
    header = header or {"typ": "JWT", "alg": "HS256"}
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")).encode())
    return signing_input + "." + b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def apiv2_token(key=SECRET1, aud=AUD1, scopes=None, jti="jti-1", exp=None, **extra):
    """A classic APIv2 token: scopes object form."""
    claims = {"iat": int(time.time()), "scopes": scopes if scopes is not None else {"tokens": {"actions": ["blacklist"]}},
              "jti": jti, "aud": aud}
    if exp is not None:
        claims["exp"] = exp
    claims.update(extra)
    return make_token(key, claims)


def start_server(*extra, tls_dir=None):
    """Start the mock; return (process, parsed ready line) once it is listening."""
    tmp = tempfile.mkdtemp(prefix="auth0mock-", dir="/tmp")
    ready_file = os.path.join(tmp, "ready.json")
    args = [PYTHON, SERVER, "--port", "0", "--ready-file", ready_file, *extra]
    if tls_dir:
        args += ["--tls-dir", tls_dir]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError("server did not start: %s" % proc.stderr.read())
    return proc, json.loads(line), ready_file, tmp


def setUpModule():
    tls_dir = tempfile.mkdtemp(prefix="auth0mock-tls-", dir="/tmp")
    proc, ready, ready_file, tmp = start_server(
        "--tenant", "%s=%s" % (AUD1, SECRET1_TEXT), "--tenant", "%s=%s" % (AUD2, SECRET2_TEXT),
        "--client", "%s=%s:read:users,blacklist:tokens,update:users" % (CLIENT_ID, CLIENT_SECRET),
        "--client", "reader=r3ader:read:users", "--token-lifetime", str(LIFETIME), tls_dir=tls_dir)
    SRV.update(proc=proc, ready=ready, ready_file=ready_file, tmp=tmp, tls_dir=tls_dir)


def tearDownModule():
    proc = SRV["proc"]
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=5)
        stderr = proc.stderr.read()
    finally:
        proc.stdout.close()
        proc.stderr.close()
        for key in ("tmp", "tls_dir"):
            shutil.rmtree(SRV[key], ignore_errors=True)
    # Hung-up clients and refused handshakes are expected; they must not print tracebacks.
    assert rc == 0 and not stderr, "server exit %s, stderr:\n%s" % (rc, stderr)


class Response:
    def __init__(self, raw):
        self.status, self.headers, self.raw = raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw.read()
        is_json = "json" in self.headers.get("content-type", "json")
        self.json = json.loads(self.raw) if self.raw and is_json else None


def call(method, path, body=None, token=None, headers=None, https=False, host="127.0.0.1", context=None,
         timeout=5, conn=None):
    """One request; JSON-encodes dict/list bodies. Reuses `conn` when given (keep-alive tests)."""
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    if conn is not None:
        conn.request(method, path, body=body, headers=headers)
        return Response(conn.getresponse())
    conn = connection(https, host, context, timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        return Response(conn.getresponse())
    finally:
        conn.close()


def connection(https=False, host="127.0.0.1", context=None, timeout=5):
    if https:
        context = context or ssl.create_default_context(cafile=SRV["ready"]["ca_file"])
        return http.client.HTTPSConnection(host, SRV["ready"]["https_port"], context=context, timeout=timeout)
    return http.client.HTTPConnection(host, SRV["ready"]["http_port"], timeout=timeout)


def control(path, body=None):
    res = call("POST" if body is not None else "GET", "/__control/" + path, body)
    assert res.status == 200, (path, res.status, res.raw)
    return res.json


class MockTestCase(unittest.TestCase):
    def setUp(self):
        control("reset", {})


class TestStartup(MockTestCase):
    def test_ready_line_and_files(self):
        ready = SRV["ready"]
        self.assertEqual(list(ready), ["http_port", "https_port", "ca_file", "pid"])
        self.assertEqual(ready["pid"], SRV["proc"].pid)
        self.assertEqual(ready["ca_file"], os.path.join(SRV["tls_dir"], "ca.pem"))
        with open(SRV["ready_file"]) as handle:
            self.assertEqual(json.loads(handle.read()), ready)
        for name in ("ca.pem", "ca.key", "server.pem", "server.key", "other-ca.pem"):
            self.assertTrue(os.path.exists(os.path.join(SRV["tls_dir"], name)), name)

    def test_gen_ca_mode(self):
        directory = tempfile.mkdtemp(prefix="auth0mock-genca-", dir="/tmp")
        self.addCleanup(shutil.rmtree, directory, True)
        out = subprocess.run([PYTHON, SERVER, "--gen-ca", directory], capture_output=True, text=True, check=True)
        files = json.loads(out.stdout)
        ok = subprocess.run(["openssl", "verify", "-x509_strict", "-CAfile", files["ca.pem"], files["server.pem"]],
                            capture_output=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = subprocess.run(["openssl", "verify", "-CAfile", files["other-ca.pem"], files["server.pem"]],
                             capture_output=True)
        self.assertNotEqual(bad.returncode, 0)
        san = subprocess.run(["openssl", "x509", "-in", files["server.pem"], "-noout", "-ext", "subjectAltName"],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn("DNS:localhost", san)
        self.assertIn("IP Address:127.0.0.1", san)

    def test_bad_tenant_secret_is_refused(self):
        res = subprocess.run([PYTHON, SERVER, "--http-only", "--tenant", "x=not*base64"], capture_output=True, text=True)
        self.assertEqual(res.returncode, 2)
        self.assertIn("base64", res.stderr)

    def test_http_only_and_clean_exit_on_signals(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            proc, ready, ready_file, tmp = start_server("--http-only", "--client", "c=s:read:users")
            self.addCleanup(shutil.rmtree, tmp, True)
            try:
                self.assertIsNone(ready["https_port"])
                self.assertIsNone(ready["ca_file"])
                self.assertTrue(os.path.exists(ready_file))
                conn = http.client.HTTPConnection("127.0.0.1", ready["http_port"], timeout=5)
                conn.request("POST", "/oauth/token", body=json.dumps(
                    {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s",
                     "audience": "https://t.example/api/v2/"}), headers={"Content-Type": "application/json"})
                self.assertEqual(json.loads(conn.getresponse().read())["expires_in"], 86400)  # the default
                conn.close()
                started = time.time()
                proc.send_signal(signum)
                self.assertEqual(proc.wait(timeout=5), 0)
                self.assertLess(time.time() - started, 2)
                self.assertFalse(os.path.exists(ready_file))
            finally:
                proc.kill()
                proc.wait()
                proc.stdout.close()
                proc.stderr.close()


class TestBlacklist(MockTestCase):
    def test_add_then_list(self):
        token = apiv2_token(jti="caller")
        res = call("POST", "/api/v2/blacklists/tokens", {"jti": "revoked-1", "aud": AUD1}, token=token)
        self.assertEqual((res.status, res.raw), (204, b""))
        self.assertNotIn("content-length", res.headers)
        res = call("GET", "/api/v2/blacklists/tokens", token=token)
        self.assertEqual((res.status, res.json), (200, [{"aud": AUD1, "jti": "revoked-1"}]))

    def test_aud_defaults_to_callers_and_list_filters_by_aud(self):
        token = apiv2_token(jti="caller")
        self.assertEqual(call("POST", "/api/v2/blacklists/tokens", {"jti": "a"}, token=token).status, 204)
        self.assertEqual(call("POST", "/api/v2/blacklists/tokens", {"jti": "b", "aud": AUD2}, token=token).status, 204)
        self.assertEqual(call("POST", "/api/v2/blacklists/tokens", {"jti": "a"}, token=token).status, 204)  # idempotent
        everything = call("GET", "/api/v2/blacklists/tokens", token=token).json
        self.assertEqual(everything, [{"aud": AUD1, "jti": "a"}, {"aud": AUD2, "jti": "b"}])
        only2 = call("GET", "/api/v2/blacklists/tokens?aud=" + AUD2, token=token).json
        self.assertEqual(only2, [{"aud": AUD2, "jti": "b"}])

    def test_scope_string_form_is_accepted(self):
        token = make_token(SECRET1, {"iat": int(time.time()), "aud": AUD1, "scope": "read:users blacklist:tokens",
                                     "iss": "https://t.example/", "exp": int(time.time()) + 60})
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=token).status, 200)

    def test_standard_base64_secret_tenant(self):
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=apiv2_token(SECRET2, AUD2)).status, 200)

    def test_missing_scope_is_403(self):
        token = apiv2_token(scopes={"users": {"actions": ["read"]}, "blacklist": {"actions": ["tokens"]}})
        for method, body in (("POST", {"jti": "x"}), ("GET", None)):
            res = call(method, "/api/v2/blacklists/tokens", body, token=token)
            self.assertEqual((res.status, res.json), (403, NO_BLACKLIST_SCOPE))

    def test_revoked_token_is_refused(self):
        token = apiv2_token(jti="me")
        self.assertEqual(call("POST", "/api/v2/blacklists/tokens", {"jti": "me"}, token=token).status, 204)
        res = call("GET", "/api/v2/blacklists/tokens", token=token)
        self.assertEqual((res.status, res.json), (401, INVALID_TOKEN))
        # The revocation key is (aud, jti): the same jti in another tenant still works.
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=apiv2_token(SECRET2, AUD2, jti="me")).status, 200)

    def test_invalid_tokens_are_401(self):
        now = int(time.time())
        bad = {
            "secret text used as key (the classic mistake)": apiv2_token(key=SECRET1_TEXT.encode()),
            "other tenant's secret": apiv2_token(key=SECRET2),
            "unknown aud": apiv2_token(aud="nobody"),
            "expired": apiv2_token(exp=now - 5),
            "alg none": make_token(SECRET1, {"aud": AUD1, "scope": "blacklist:tokens"}, {"alg": "none"})[:-43],
            "alg HS512 header": make_token(SECRET1, {"aud": AUD1, "scope": "blacklist:tokens"}, {"alg": "HS512"}),
            "garbage": "not.a.token",
            "two parts": "abc.def",
            "tampered payload": self.tamper(apiv2_token()),
        }
        for why, token in bad.items():
            with self.subTest(why):
                res = call("GET", "/api/v2/blacklists/tokens", token=token)
                self.assertEqual((res.status, res.json), (401, INVALID_TOKEN))
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=apiv2_token(exp=now + 60)).status, 200)

    @staticmethod
    def tamper(token):
        header, payload, signature = token.split(".")
        claims = json.loads(unb64url(payload))
        claims["scopes"]["users"] = {"actions": ["read"]}
        return ".".join([header, b64url(json.dumps(claims).encode()), signature])

    def test_missing_or_malformed_authorization_is_401(self):
        cases = {None: "Missing authentication", "Basic dXNlcjpwYXNz": "Bad HTTP authentication header format",
                 "Bearer": "Bad HTTP authentication header format"}
        for value, message in cases.items():
            with self.subTest(value):
                headers = {"Authorization": value} if value else {}
                res = call("POST", "/api/v2/blacklists/tokens", {"jti": "x"}, headers=headers)
                self.assertEqual(res.status, 401)
                self.assertEqual(res.json, {"statusCode": 401, "error": "Unauthorized", "message": message})

    def test_invalid_body_is_400(self):
        token = apiv2_token()
        for body in ("", "{not json", "[1]", {"aud": AUD1}, {"jti": 5}, {"jti": ""}, {"jti": "x", "aud": 3},
                     {"jti": "x", "extra": 1}):
            with self.subTest(body=body):
                res = call("POST", "/api/v2/blacklists/tokens", body, token=token,
                           headers={"Content-Type": "application/json"})
                self.assertEqual(res.status, 400)
                self.assertEqual(res.json["errorCode"], "invalid_body")
                self.assertEqual(res.json["error"], "Bad Request")
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=token).json, [])

    def test_keep_alive_after_204_and_chunked_body(self):
        conn = connection()
        token = apiv2_token()
        self.assertEqual(call("POST", "/api/v2/blacklists/tokens", {"jti": "k"}, token=token, conn=conn).status, 204)
        conn.request("POST", "/api/v2/blacklists/tokens", body=iter([b'{"jti":', b'"chunked"}']), encode_chunked=True,
                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        self.assertEqual(Response(conn.getresponse()).status, 204)
        self.assertEqual(len(call("GET", "/api/v2/blacklists/tokens", token=token, conn=conn).json), 2)
        conn.close()

    def test_unknown_route_is_404(self):
        res = call("GET", "/api/v2/nothing-here", token=apiv2_token())
        self.assertEqual((res.status, res.json["error"]), (404, "Not Found"))


class TestOAuthToken(MockTestCase):
    AUDIENCE = "https://tenant.example.com/api/v2/"

    def fetch(self, as_json=False, **overrides):
        params = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                  "audience": self.AUDIENCE}
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        if as_json:
            return call("POST", "/oauth/token", params)
        return call("POST", "/oauth/token", urllib.parse.urlencode(params),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})

    def test_form_and_json_grant(self):
        for as_json in (False, True):
            res = self.fetch(as_json)
            self.assertEqual(res.status, 200)
            self.assertEqual(set(res.json), {"access_token", "expires_in", "scope", "token_type"})
            self.assertEqual(res.json["expires_in"], LIFETIME)
            self.assertEqual(res.json["token_type"], "Bearer")
            self.assertEqual(res.json["scope"], "read:users blacklist:tokens update:users")
            header, payload, _ = res.json["access_token"].split(".")
            self.assertEqual(json.loads(unb64url(header))["alg"], "HS256")
            claims = json.loads(unb64url(payload))
            self.assertEqual(claims["sub"], CLIENT_ID + "@clients")
            self.assertEqual(claims["aud"], self.AUDIENCE)
            self.assertEqual(claims["iss"], "https://127.0.0.1:%d/" % SRV["ready"]["http_port"])
            self.assertEqual(claims["scope"], res.json["scope"])
            self.assertEqual(claims["gty"], "client-credentials")
            self.assertEqual(claims["exp"] - claims["iat"], LIFETIME)

    def test_issued_token_is_accepted_and_revocable(self):
        token = self.fetch().json["access_token"]
        self.assertEqual(call("GET", "/api/v2/users/auth0%7C123", token=token).status, 200)
        jti = json.loads(unb64url(token.split(".")[1]))["jti"]
        self.assertEqual(call("POST", "/api/v2/blacklists/tokens", {"jti": jti}, token=token).status, 204)
        self.assertEqual(call("GET", "/api/v2/users/auth0%7C123", token=token).status, 401)

    def test_host_header_audience(self):
        audience = "https://127.0.0.1:%d/api/v2/" % SRV["ready"]["http_port"]
        self.assertEqual(self.fetch(audience=audience).status, 200)

    def test_scope_parameter_narrows_grant(self):
        res = self.fetch(scope="read:users delete:users")
        self.assertEqual(res.json["scope"], "read:users")
        blacklist = call("GET", "/api/v2/blacklists/tokens", token=res.json["access_token"])
        self.assertEqual((blacklist.status, blacklist.json), (403, NO_BLACKLIST_SCOPE))

    def test_bad_credentials_are_401(self):
        for overrides in ({"client_secret": "wrong"}, {"client_id": "nobody"}, {"client_secret": None}):
            with self.subTest(overrides):
                res = self.fetch(**overrides)
                self.assertEqual((res.status, res.json), (401, {"error": "access_denied", "error_description": "Unauthorized"}))

    def test_bad_audience_is_403(self):
        for audience in ("https://tenant.example.com/api/v2", "https://tenant.example.com/userinfo", None):
            with self.subTest(audience):
                res = self.fetch(audience=audience)
                self.assertEqual((res.status, res.json["error"]), (403, "access_denied"))

    def test_bad_grant_type_is_400(self):
        res = self.fetch(grant_type="password")
        self.assertEqual((res.status, res.json["error"]), (400, "unsupported_grant_type"))


class TestUsers(MockTestCase):
    def token(self, *scopes):
        return make_token(SECRET1, {"aud": AUD1, "scope": " ".join(scopes), "jti": "u", "iat": int(time.time())})

    def test_get_seeded_user(self):
        res = call("GET", "/api/v2/users/auth0%7C123", token=self.token("read:users"))
        self.assertEqual(res.status, 200)
        self.assertEqual(res.json, {"user_id": "auth0|123", "email": "test@example.com", "app_metadata": {}})

    def test_unknown_user_is_404(self):
        res = call("GET", "/api/v2/users/auth0%7C999", token=self.token("read:users"))
        self.assertEqual((res.status, res.json["statusCode"], res.json["error"]), (404, 404, "Not Found"))
        res = call("PATCH", "/api/v2/users/auth0%7C999", {"app_metadata": {}}, token=self.token("update:users"))
        self.assertEqual(res.status, 404)

    def test_scopes_required(self):
        res = call("GET", "/api/v2/users/auth0%7C123", token=self.token("update:users"))
        self.assertEqual((res.status, res.json["message"]), (403, "Insufficient scope, expected any of: read:users"))
        res = call("PATCH", "/api/v2/users/auth0%7C123", {"app_metadata": {"a": 1}}, token=self.token("read:users"))
        self.assertEqual(res.status, 403)
        self.assertEqual(res.json["message"], "Insufficient scope, expected any of: update:users,update:users_app_metadata")
        res = call("PATCH", "/api/v2/users/auth0%7C123", {"email": "x@y"}, token=self.token("update:users_app_metadata"))
        self.assertEqual(res.status, 403)

    def test_patch_merges(self):
        token = self.token("update:users", "read:users")
        path = "/api/v2/users/auth0%7C123"
        call("PATCH", path, {"app_metadata": {"plan": "gold", "flags": {"a": 1}, "gone": True}}, token=token)
        res = call("PATCH", path, {"app_metadata": {"flags": {"b": 2}, "gone": None}, "user_metadata": {"lang": "fr"},
                                   "name": "Test"}, token=token)
        expected = {"user_id": "auth0|123", "email": "test@example.com", "name": "Test",
                    "app_metadata": {"plan": "gold", "flags": {"b": 2}}, "user_metadata": {"lang": "fr"}}
        self.assertEqual((res.status, res.json), (200, expected))
        self.assertEqual(call("GET", path, token=token).json, expected)
        res = call("PATCH", path, {"app_metadata": {"x": 1}}, token=self.token("update:users_app_metadata"))
        self.assertEqual((res.status, res.json["app_metadata"]["x"]), (200, 1))

    def test_patch_invalid_body_is_400(self):
        for body in ("nope", "[]", {"app_metadata": 3}):
            res = call("PATCH", "/api/v2/users/auth0%7C123", body, token=self.token("update:users"),
                       headers={"Content-Type": "application/json"})
            self.assertEqual((res.status, res.json["errorCode"]), (400, "invalid_body"))


class TestControl(MockTestCase):
    def test_rate_limit_with_headers_then_recovery(self):
        control("ratelimit", {"count": 2, "retry_after": 1, "reset_in": 5, "status": 429})
        token = apiv2_token()
        for _ in range(2):
            res = call("GET", "/api/v2/blacklists/tokens", token=token)
            self.assertEqual((res.status, res.json), (429, TOO_MANY))
            self.assertEqual(res.headers["x-ratelimit-remaining"], "0")
            self.assertTrue(res.headers["x-ratelimit-limit"].isdigit())
            self.assertAlmostEqual(int(res.headers["x-ratelimit-reset"]), time.time() + 5, delta=2)
            self.assertEqual(res.headers["retry-after"], "1")
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=token).status, 200)

    def test_rate_limit_hits_every_api_path_even_unauthenticated(self):
        control("ratelimit", {"count": 2, "retry_after": None, "reset_in": None})
        res = call("PATCH", "/api/v2/users/x", {})
        self.assertEqual(res.status, 429)
        self.assertNotIn("retry-after", res.headers)
        self.assertNotIn("x-ratelimit-reset", res.headers)
        self.assertEqual(call("GET", "/api/v2/users/x").status, 429)
        self.assertEqual(call("GET", "/api/v2/users/x").status, 401)

    def test_forever_until_count_zero_and_oauth_untouched(self):
        control("ratelimit", {"count": -1, "retry_after": None, "reset_in": 1})
        for _ in range(3):
            self.assertEqual(call("GET", "/api/v2/blacklists/tokens").status, 429)
        self.assertEqual(call("POST", "/oauth/token", {"grant_type": "x"}).status, 400)
        control("ratelimit", {"count": 0})
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens").status, 401)

    def test_5xx_injection(self):
        for status in (500, 503):
            control("ratelimit", {"count": 1, "retry_after": 2, "reset_in": None, "status": status})
            res = call("GET", "/api/v2/blacklists/tokens", token=apiv2_token())
            self.assertEqual((res.status, res.json["statusCode"]), (status, status))
            self.assertEqual(res.headers["retry-after"], "2")
            self.assertNotIn("x-ratelimit-remaining", res.headers)

    def test_bad_control_request(self):
        res = call("POST", "/__control/ratelimit", {"count": 1, "status": 418})
        self.assertEqual(res.status, 400)

    def test_delay_causes_client_timeout_and_does_not_block_others(self):
        control("delay", {"seconds": 0.6})
        with self.assertRaises(TimeoutError):
            call("GET", "/api/v2/blacklists/tokens", timeout=0.2)
        results, started = [], time.time()
        threads = [threading.Thread(target=lambda: results.append(call("GET", "/api/v2/users/x").status))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(results, [401] * 4)
        self.assertLess(time.time() - started, 1.5)  # concurrent, not 4 x 0.6 s
        control("delay", {"seconds": 0})
        started = time.time()
        call("GET", "/api/v2/users/x")
        self.assertLess(time.time() - started, 0.3)

    def test_requests_are_recorded(self):
        call("POST", "/api/v2/blacklists/tokens?aud=q", {"jti": "r"}, token=apiv2_token(),
             headers={"X-Custom-Header": "Value"})
        records = control("requests")
        self.assertEqual(len(records), 1)  # control calls are not recorded
        record = records[0]
        self.assertEqual((record["method"], record["path"], record["query"]), ("POST", "/api/v2/blacklists/tokens", "aud=q"))
        self.assertEqual(record["headers"]["x-custom-header"], "Value")
        self.assertTrue(record["headers"]["authorization"].startswith("Bearer "))
        self.assertEqual(json.loads(record["body"]), {"jti": "r"})
        self.assertEqual(record["scheme"], "http")

    def test_reset_clears_everything(self):
        token = apiv2_token()
        call("POST", "/api/v2/blacklists/tokens", {"jti": "r"}, token=token)
        control("ratelimit", {"count": -1})
        control("delay", {"seconds": 5})
        control("reset", {})
        started = time.time()
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=token).json, [])
        self.assertLess(time.time() - started, 1)
        self.assertEqual(len(control("requests")), 1)


class TestHTTPS(MockTestCase):
    def test_same_api_over_https_for_both_names(self):
        token = apiv2_token()
        for host in ("localhost", "127.0.0.1"):
            with self.subTest(host):
                res = call("POST", "/api/v2/blacklists/tokens", {"jti": host}, token=token, https=True, host=host)
                self.assertEqual(res.status, 204)
        res = call("GET", "/api/v2/blacklists/tokens", token=token, https=True)
        self.assertEqual(res.json, [{"aud": AUD1, "jti": "localhost"}, {"aud": AUD1, "jti": "127.0.0.1"}])
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token="x.y.z", https=True).json, INVALID_TOKEN)
        self.assertEqual({r["scheme"] for r in control("requests")}, {"https"})

    def test_oauth_over_https(self):
        res = call("POST", "/oauth/token", {"grant_type": "client_credentials", "client_id": "reader",
                                            "client_secret": "r3ader", "audience": "https://t.example/api/v2/"},
                   https=True, host="localhost")
        self.assertEqual((res.status, res.json["scope"]), (200, "read:users"))

    def test_unknown_ca_is_rejected(self):
        context = ssl.create_default_context(cafile=os.path.join(SRV["tls_dir"], "other-ca.pem"))
        with self.assertRaises(ssl.SSLCertVerificationError):
            call("GET", "/api/v2/blacklists/tokens", https=True, context=context)
        # The server survives a failed handshake.
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=apiv2_token(), https=True).status, 200)

    def test_wrong_hostname_is_rejected(self):
        context = ssl.create_default_context(cafile=SRV["ready"]["ca_file"])
        with socket.create_connection(("127.0.0.1", SRV["ready"]["https_port"]), timeout=5) as sock:
            with self.assertRaises(ssl.SSLCertVerificationError):
                context.wrap_socket(sock, server_hostname="tenant.example.com")

if __name__ == "__main__":
    unittest.main()


# ---------------------------------------------------------------- tenant-scale automation

def scale_token(*scopes):
    return make_token(SECRET1, {"aud": AUD1, "scope": " ".join(scopes), "jti": "s", "iat": int(time.time())})


def multipart(fields, boundary="b0undary"):
    out = b""
    for name, (filename, data) in fields.items():
        out += b"--" + boundary.encode() + b"\r\n"
        out += b'Content-Disposition: form-data; name="' + name.encode() + b'"'
        if filename is not None:
            out += b'; filename="' + filename.encode() + b'"\r\nContent-Type: application/json'
        out += b"\r\n\r\n" + data + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n", "multipart/form-data; boundary=" + boundary


class TestUserSearch(MockTestCase):
    def get(self, query, token=None):
        return call("GET", "/api/v2/users?" + urllib.parse.urlencode(query), token=token or scale_token("read:users"))

    def test_offset_paging_with_totals_covers_the_search(self):
        seen, page = [], 0
        while True:
            res = self.get({"q": 'app_metadata.tier:"gold"', "page": page, "per_page": 100, "include_totals": "true"})
            self.assertEqual(res.status, 200)
            self.assertEqual(res.json["total"], 450)
            self.assertEqual((res.json["start"], res.json["limit"]), (page * 100, 100))
            seen += [u["user_id"] for u in res.json["users"]]
            if res.json["length"] < 100:
                break
            page += 1
        self.assertEqual(len(seen), 450)
        self.assertEqual(len(set(seen)), 450)

    def test_without_totals_a_plain_array(self):
        res = self.get({"per_page": 3, "sort": "created_at:1", "q": "_exists_:created_at"})
        self.assertEqual([u["user_id"] for u in res.json], ["auth0|scale-00001", "auth0|scale-00002", "auth0|scale-00003"])
        res = self.get({"per_page": 2, "sort": "created_at:-1", "fields": "user_id,email"})
        self.assertEqual(res.json, [{"user_id": "auth0|scale-00600", "email": "user00600@scale.example.com"},
                                    {"user_id": "auth0|scale-00599", "email": "user00599@scale.example.com"}])

    def test_query_language(self):
        cases = {
            "email:user00007@scale.example.com": 1,
            'email:"USER00007@scale.example.com"': 1,
            "email:user0001*": 10,
            "app_metadata.tier:silver": 150,
            "app_metadata.tier:silver AND user_metadata.team:team-0": len([i for i in range(1, 601) if i % 4 == 0 and i % 7 == 0]),
            "app_metadata.tier:silver OR user_metadata.team:team-0": len([i for i in range(1, 601) if i % 4 == 0 or i % 7 == 0]),
            "NOT app_metadata.tier:gold": 151,  # the 150 silver ones and auth0|123
            "(email:user0001* OR email:user0002*) AND NOT app_metadata.tier:silver": 15,
            "identities.connection:Username-Password-Authentication": 600,
            "_exists_:user_metadata": 600,
            "app_metadata.n:42": 1,
            "email_verified:true": 200,
        }
        for q, expected in cases.items():
            with self.subTest(q=q):
                self.assertEqual(self.get({"q": q, "per_page": 0, "include_totals": "true"}).json["total"], expected)
        for q in ("email:", "(email:a", "AND", "email:a OR"):
            with self.subTest(bad=q):
                res = self.get({"q": q})
                self.assertEqual((res.status, res.json["errorCode"]), (400, "invalid_query_string"))

    def test_the_1000_cap_and_the_page_size_limit(self):
        control("seed", {"users": 1200})
        self.assertEqual(self.get({"page": 9, "per_page": 100}).status, 200)
        res = self.get({"page": 10, "per_page": 100, "include_totals": "true"})
        self.assertEqual((res.status, res.json["errorCode"]), (400, "invalid_paging"))
        self.assertIn("first 1000 records", res.json["message"])
        self.assertEqual(self.get({"page": 20, "per_page": 50}).status, 400)
        self.assertEqual(self.get({"per_page": 101}).status, 400)

    def test_a_patch_moves_the_user_to_the_end_of_the_default_order(self):
        first = self.get({"per_page": 1, "q": "app_metadata.tier:gold"}).json[0]["user_id"]
        path = "/api/v2/users/" + urllib.parse.quote(first, safe="")
        call("PATCH", path, {"app_metadata": {"plan": "pro"}}, token=scale_token("update:users"))
        self.assertNotEqual(self.get({"per_page": 1, "q": "app_metadata.tier:gold"}).json[0]["user_id"], first)
        last = self.get({"page": 449, "per_page": 1, "q": "app_metadata.tier:gold"}).json[0]
        self.assertEqual((last["user_id"], last["app_metadata"]["plan"]), (first, "pro"))

    def test_scope_and_seed_reset(self):
        self.assertEqual(self.get({}, token=scale_token("update:users")).status, 403)
        control("seed", {"users": 5})
        self.assertEqual(self.get({"include_totals": "true", "per_page": 0}).json["total"], 6)
        control("reset", {})
        self.assertEqual(self.get({"include_totals": "true", "per_page": 0}).json["total"], 601)


class TestCheckpointPaging(MockTestCase):
    def test_from_take_next_and_offset(self):
        token, seen, query = scale_token("read:organizations"), [], {"take": 100}
        while True:
            res = call("GET", "/api/v2/organizations?" + urllib.parse.urlencode(query), token=token)
            self.assertEqual(res.status, 200)
            seen += [o["id"] for o in res.json["organizations"]]
            if "next" not in res.json:
                break
            query = {"take": 100, "from": res.json["next"]}
        self.assertEqual(len(set(seen)), 250)
        res = call("GET", "/api/v2/organizations?include_totals=true&per_page=10&page=2", token=token)
        self.assertEqual((res.json["total"], res.json["start"], len(res.json["organizations"])), (250, 20, 10))
        res = call("GET", "/api/v2/organizations?from=bogus", token=token)
        self.assertEqual(res.status, 400)
        self.assertEqual(call("GET", "/api/v2/organizations", token=scale_token("read:users")).status, 403)


class TestJobs(MockTestCase):
    def poll(self, job_id, token):
        statuses = []
        for _ in range(10):
            job = call("GET", "/api/v2/jobs/" + job_id, token=token).json
            statuses.append(job["status"])
            if job["status"] == "completed":
                return job, statuses
        raise AssertionError(statuses)

    def test_export_json_and_csv(self):
        import gzip
        control("seed", {"users": 2000})
        token = scale_token("read:users")
        res = call("POST", "/api/v2/jobs/users-exports", {"connection_id": "con_0000000000000001", "format": "json",
                   "fields": [{"name": "user_id"}, {"name": "email"}, {"name": "app_metadata.tier", "export_as": "tier"}]},
                   token=token)
        self.assertEqual((res.status, res.json["status"], res.json["type"]), (201, "pending", "users_export"))
        job, statuses = self.poll(res.json["id"], token)
        self.assertEqual(statuses, ["pending", "processing", "completed"])
        location = urllib.parse.urlsplit(job["location"])
        download = call("GET", location.path)  # no Authorization: a pre-signed URL
        self.assertEqual((download.status, download.headers["content-type"]), (200, "application/gzip"))
        lines = gzip.decompress(download.raw).decode().splitlines()
        self.assertEqual(len(lines), 2000)  # auth0|123 has no identity in the connection
        self.assertEqual(json.loads(lines[0]), {"user_id": "auth0|scale-00001", "email": "user00001@scale.example.com",
                                                "tier": "gold"})
        res = call("POST", "/api/v2/jobs/users-exports", {"format": "csv", "limit": 3,
                   "fields": [{"name": "email"}, {"name": "identities[0].connection", "export_as": "provider"}]},
                   token=token)
        job, _ = self.poll(res.json["id"], token)
        text = gzip.decompress(call("GET", urllib.parse.urlsplit(job["location"]).path).raw).decode()
        self.assertEqual(text.split("\r\n")[:2], ["email,provider", "test@example.com,"])

    def test_import_with_errors(self):
        token = scale_token("create:users", "read:users")
        users = [{"email": "new1@example.com"}, {"email": "not-an-email"}, {"name": "no email"},
                 {"email": "user00001@scale.example.com", "name": "Renamed"}, {"email": "new2@example.com"}]
        body, ctype = multipart({"users": ("users.json", json.dumps(users).encode()),
                                 "connection_id": (None, b"con_0000000000000001"), "upsert": (None, b"false")})
        res = call("POST", "/api/v2/jobs/users-imports", body, token=token, headers={"Content-Type": ctype})
        self.assertEqual((res.status, res.json["type"], res.json["status"]), (202, "users_import", "pending"))
        job, _ = self.poll(res.json["id"], token)
        self.assertEqual(job["summary"], {"failed": 3, "updated": 0, "inserted": 2, "total": 5})
        errors = call("GET", "/api/v2/jobs/%s/errors" % job["id"], token=token).json
        self.assertEqual([e["errors"][0]["code"] for e in errors], ["INVALID_FORMAT", "OBJECT_REQUIRED", "DUPLICATED_USER"])
        q = urllib.parse.urlencode({"q": "email:new*", "include_totals": "true"})
        self.assertEqual(call("GET", "/api/v2/users?" + q, token=token).json["total"], 2)
        body, ctype = multipart({"users": ("users.json", b"{}"), "connection_id": (None, b"con_0000000000000001")})
        self.assertEqual(call("POST", "/api/v2/jobs/users-imports", body, token=token,
                              headers={"Content-Type": ctype}).status, 400)
        self.assertEqual(call("POST", "/api/v2/jobs/users-imports", {"a": 1}, token=token).status, 400)

    def test_polls_per_phase_and_unknown_job(self):
        control("jobs", {"polls_per_phase": 0})
        token = scale_token("read:users")
        res = call("POST", "/api/v2/jobs/users-exports", {}, token=token)
        self.assertEqual(call("GET", "/api/v2/jobs/" + res.json["id"], token=token).json["status"], "completed")
        self.assertEqual(call("GET", "/api/v2/jobs/job_nothing", token=token).status, 404)


class TestBucketAndConnections(MockTestCase):
    def test_bucket_limits_and_refills(self):
        control("bucket", {"limit": 3, "window": 0.3})
        token = apiv2_token()
        answers = [call("GET", "/api/v2/blacklists/tokens", token=token) for _ in range(4)]
        self.assertEqual([a.status for a in answers], [200, 200, 200, 429])
        self.assertEqual([a.headers["x-ratelimit-remaining"] for a in answers], ["2", "1", "0", "0"])
        self.assertEqual(answers[3].json, TOO_MANY)
        reset = float(answers[0].headers["x-ratelimit-reset"])
        self.assertAlmostEqual(reset, time.time() + 0.3, delta=0.35)
        time.sleep(max(0, reset - time.time()) + 0.02)
        self.assertEqual(call("GET", "/api/v2/blacklists/tokens", token=token).status, 200)
        self.assertEqual(control("bucket"), {"limit": 3, "window": 0.3, "served": 4, "refused": 1})
        control("bucket", {"limit": 0})
        self.assertNotIn("x-ratelimit-limit", call("GET", "/api/v2/blacklists/tokens", token=token).headers)

    def test_connections_are_counted(self):
        before = control("connections")
        conn = connection(https=True)
        for _ in range(3):
            call("GET", "/api/v2/blacklists/tokens", token=apiv2_token(), conn=conn)
        conn.close()
        after = control("connections")
        self.assertEqual(after["https"] - before["https"], 1)

    def test_idle_timeout_closes_kept_connections(self):
        control("idle-timeout", {"seconds": 0.2})
        conn = connection()
        call("GET", "/api/v2/blacklists/tokens", token=apiv2_token(), conn=conn)
        time.sleep(0.5)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            call("GET", "/api/v2/blacklists/tokens", token=apiv2_token(), conn=conn)
        conn.close()
        control("idle-timeout", {"seconds": 0})
