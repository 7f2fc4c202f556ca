"""Processes of the fleet tests and benchmark: one redis-server, the local Auth0-like server, and
nginx "nodes" of two workers each (spec/fleet/nginx.conf), all on free 127.0.0.1 ports, in one
temporary directory, stopped at the end. Used by spec/fleet/run and bench/fleet/run."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MOCK = os.path.join(ROOT, "spec", "server", "auth0_mock.py")
CORE = os.path.join(ROOT, "build", "jit", "auth0", "apiv2", "core.so")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
MODULES = ["/usr/lib/nginx/modules/ndk_http_module.so",
           "/usr/lib/nginx/modules/ngx_http_lua_module.so"]
REDIS_CLIENTS = ["/usr/share/lua/5.1/nginx/redis.lua", "/usr/share/lua/5.1/resty/redis.lua",
                 "/usr/local/openresty/lualib/resty/redis.lua"]

# The shared test tenant (spec/helpers.lua).
SECRET = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE"
AUD = "DEMOapiKEY0123456789abcdefghijkl"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


SECRET_BYTES = b64url_decode(SECRET)


def forge(claims, key=SECRET_BYTES):
    """A token made here (Python's hmac), not by the library."""
    header = {"typ": "JWT", "alg": "HS256"}
    signing_input = (b64url_encode(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64url_encode(json.dumps(claims, separators=(",", ":")).encode()))
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url_encode(mac)


def token(jti, lifetime=3600):
    now = int(time.time())
    return forge({"iat": now, "exp": now + lifetime, "aud": AUD, "jti": jti,
                  "scopes": {"users": {"actions": ["read"]}}})


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "%d worker=%s %s" % (self.status, self.headers.get("x-worker-id"), self.body[:200])


def request(port, method, path, body=None, headers=None, timeout=10, conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                        r.read().decode("utf-8", "replace"))
    finally:
        if own:
            conn.close()


def missing_parts():
    """Why the fleet cannot run here, or None."""
    if not shutil.which("redis-server"):
        return "redis-server is not installed"
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        return "nginx is not installed"
    for module in MODULES:
        if not os.path.exists(module):
            return "the nginx lua module is not installed (%s)" % module
    if not any(os.path.exists(p) for p in REDIS_CLIENTS):
        return "lua-resty-redis is not installed (Debian: lua-nginx-redis)"
    return None


class Redis:
    def __init__(self, tmp, port=None, password=None):
        self.tmp = tmp
        self.port = port or free_port()
        self.password = password
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.tmp, "redis-%d.log" % self.port), "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.tmp]
            + (["--requirepass", self.password] if self.password else []),
            stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start on port %d" % self.port)

    def cli(self, *args, db=0):
        auth = ["--no-auth-warning", "-a", self.password] if self.password else []
        r = subprocess.run(["redis-cli", "-p", str(self.port), "-n", str(db), "--raw"] + auth
                           + list(args), capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


class Mock:
    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None

    def start(self):
        ready = os.path.join(self.tmp, "mock.ready")
        self.err = open(os.path.join(self.tmp, "mock.stderr"), "wb")
        self.proc = subprocess.Popen(
            [PYTHON, MOCK, "--port", "0", "--http-only", "--tenant", AUD + "=" + SECRET,
             "--ready-file", ready], stdout=subprocess.DEVNULL, stderr=self.err,
            stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(ready):
                with open(ready) as f:
                    text = f.read()
                if text.strip():
                    self.port = json.loads(text)["http_port"]
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("the Auth0-like server did not start")

    def requests(self):
        return request(self.port, "GET", "/__control/requests").json

    def polls(self, since=0.0):
        return [q["time"] for q in self.requests() if q["method"] == "GET"
                and q["path"] == "/api/v2/blacklists/tokens" and q["time"] >= since]

    def blacklist(self, jti):
        """Revoked at "Auth0" directly, with a blacklist:tokens token made here."""
        admin = forge({"iat": int(time.time()), "aud": AUD, "jti": "py-admin",
                       "scopes": {"tokens": {"actions": ["blacklist"]}}})
        return request(self.port, "POST", "/api/v2/blacklists/tokens", {"jti": jti, "aud": AUD},
                       headers={"Authorization": "Bearer " + admin})

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


class Node:
    def __init__(self, tmp, name, redis_port, auth0_url, **settings):
        self.name = name
        self.prefix = os.path.join(tmp, name)
        self.port = free_port()
        self.proc = None
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        os.makedirs(os.path.join(self.prefix, "temp"), exist_ok=True)
        values = {"SPEC_DIR": HERE, "APIV2_ROOT": ROOT, "NODE": name, "PORT": self.port,
                  "REDIS_PORT": redis_port, "AUTH0_URL": auth0_url, "ON_STALE": "open",
                  "MAX_STALE": 60, "SYNC_INTERVAL": 1, "LEASE": 3, "POLL_INTERVAL": 1,
                  "REDIS_PASSWORD": "", "REDIS_DB": 0}
        values.update({k.upper(): v for k, v in settings.items()})
        with open(os.path.join(HERE, "nginx.conf")) as f:
            conf = f.read()
        for k, v in values.items():
            conf = conf.replace("@%s@" % k, str(v))
        with open(os.path.join(self.prefix, "nginx.conf"), "w") as f:
            f.write(conf)

    def start(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH0_")}
        env.update(AUTH0_API_SECRET=SECRET, AUTH0_API_KEY=AUD)
        self.out = open(os.path.join(self.prefix, "nginx.stderr"), "ab")
        self.proc = subprocess.Popen([nginx, "-p", self.prefix, "-c", "nginx.conf", "-e",
                                      "logs/error.log"], stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        deadline = time.time() + 15
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("node %s: nginx exited:\n%s" % (self.name, self.logs()))
            try:
                last = self.status()
                if last.get("backend", {}).get("syncs", 0) >= 1:
                    return
            except (OSError, ValueError, AttributeError) as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError("node %s not ready (%r):\n%s" % (self.name, last, self.logs()))

    def status(self, conn=None):
        return request(self.port, "GET", "/status", conn=conn).json

    def statuses(self, tries=100):
        """The status of both workers (new connections until both answered)."""
        seen = {}
        for _ in range(tries):
            s = self.status()
            seen[s["worker"]] = s
            if len(seen) == 2:
                break
        return seen

    def revoke(self, jti, exp=None, auth0=False):
        body = {"jti": jti, "aud": AUD, "auth0": auth0}
        if exp is not None:
            body["exp"] = exp
        return request(self.port, "POST", "/revoke", body)

    def get(self, jwt, conn=None, path="/api"):
        return request(self.port, "GET", path, headers={"Authorization": "Bearer " + jwt},
                       conn=conn)

    def metrics(self):
        text = request(self.port, "GET", "/metrics").body
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def logs(self):
        out = []
        for name in ("nginx.stderr", "logs/error.log"):
            path = os.path.join(self.prefix, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out.append("--- %s %s\n%s" % (self.name, name, f.read()[-3000:]))
        return "\n".join(out)

    def stop(self, sig=signal.SIGQUIT):
        p, self.proc = self.proc, None
        if not p or p.poll() is not None:
            return
        if sig == signal.SIGKILL:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
            return
        p.send_signal(sig)
        try:
            p.wait(8)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)


class Fleet:
    """Redis, the mock and nodes; stop() ends them all (call it in a finally)."""

    def __init__(self, prefix="auth0-apiv2-fleet-"):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.tmp, 0o755)
        self.redis = Redis(self.tmp)
        self.mock = Mock(self.tmp)
        self.nodes = []
        self.extra_redis = []   # more servers a test starts (stopped with the rest)

    def add_node(self, name, redis=None, **settings):
        node = Node(self.tmp, name, (redis or self.redis).port,
                    "http://127.0.0.1:%d/api/v2" % self.mock.port, **settings)
        self.nodes.append(node)
        return node

    def stop(self, keep=False):
        for node in self.nodes:
            try:
                node.stop()
            except Exception:
                pass
        self.mock.stop()
        self.redis.kill()
        for extra in self.extra_redis:
            extra.kill()
        if not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
