#!/usr/bin/python3
"""The offline token generator page (build/explorer.html) in a real browser: Debian's chromium,
headless, driven by chromium-driver through python3-selenium. The library's own answers come
from spec/explorer/oracle.lua (Lua 5.4 on the checkout), PyJWT checks the tokens independently.
Run by `make test-explorer` (after `make explorer`)."""
import base64, binascii, json, os, re, shutil, subprocess, sys, tempfile, time, unittest

import jwt as pyjwt
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAGE = os.path.join(ROOT, "build", "explorer.html")
URL = "file://" + PAGE
SCREENSHOT = os.path.join(ROOT, "build", "explorer-screenshot.png")
FIX = os.path.join(ROOT, "spec", "fixtures")
AUD = "jJ3vBoynpFqevesIZLkBWwMoBQQx5fXy"
SECRET = "HyvWeY0JYN00r_WDxbiksiPTLp_pqOH_vE2PxvY-w5PGqLj6xYTxseQSA8-rjMqh"


def oracle(requests):
    env = dict(os.environ, LUA_PATH=ROOT + "/lua/?.lua;" + ROOT + "/lua/?/init.lua;;",
               LUA_CPATH=ROOT + "/build/5.4/?.so;;")
    out = subprocess.run(["lua5.4", os.path.join(ROOT, "spec/explorer/oracle.lua")], env=env,
                         input=json.dumps(requests).encode(), capture_output=True, check=False)
    if out.returncode != 0:
        raise AssertionError("oracle failed: " + out.stderr.decode())
    return json.loads(out.stdout)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def b64url_key(text):
    return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_").rstrip("=") + "==")


class Page(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.profile = tempfile.mkdtemp(prefix="explorer-chrome-")
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                  "--user-data-dir=" + cls.profile, "--no-first-run", "--disable-extensions",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-default-apps", "--hide-scrollbars"):
            o.add_argument(a)
        o.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        cls.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        cls.d.set_window_size(1280, 800)
        # The viewport itself 1280x800, as the screenshot shows it.
        cls.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                              {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        cls.d.get("about:blank")
        time.sleep(0.5)
        cls.d.get_log("performance")     # what the browser did before the first page: not ours
        cls.requests = []

    @classmethod
    def tearDownClass(cls):
        cls.d.quit()
        shutil.rmtree(cls.profile, ignore_errors=True)

    # ---------------------------------------------------------------- helpers
    def open(self, query=""):
        self.collect_network()
        self.d.get(URL + query)
        self.assertFalse(self.d.find_element(By.ID, "app").get_attribute("hidden"),
                         "the page's script did not run (CSP hash?)")

    def collect_network(self):
        for entry in self.d.get_log("performance"):
            m = json.loads(entry["message"])["message"]
            if m["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated",
                               "Network.webTransportCreated"):
                url = m["params"].get("request", {}).get("url") or m["params"].get("url")
                type(self).requests.append(url)

    def set(self, id_, value):
        """Sets a field as typing would end, firing one input event."""
        self.d.execute_script(
            "var e = document.getElementById(arguments[0]); e.value = arguments[1];"
            "e.dispatchEvent(new Event(e.type === 'checkbox' ? 'change' : 'input'));", id_, value)

    def check(self, id_, on):
        self.d.execute_script(
            "var e = document.getElementById(arguments[0]); if (e.checked !== arguments[1]) e.click();",
            id_, on)

    def type(self, id_, text):
        e = self.d.find_element(By.ID, id_)
        e.clear()
        e.send_keys(text)

    def text(self, id_):
        return self.d.find_element(By.ID, id_).get_attribute("textContent")

    def token(self, previous=None):
        """The token once signing settled (it is asynchronous: WebCrypto)."""
        deadline = time.time() + 10
        while time.time() < deadline:
            t, err = self.text("token"), self.text("sign-error")
            if (t and t != previous) or err:
                time.sleep(0.05)
                if (self.text("token"), self.text("sign-error")) == (t, err):
                    return t, err
            time.sleep(0.02)
        return self.text("token"), self.text("sign-error")

    def click_scope(self, scope):
        for e in self.d.find_elements(By.CSS_SELECTOR, '[data-scope="%s"]' % scope):
            if e.is_displayed():
                e.click()
                return
        self.set("custom-scope", scope)
        self.d.find_element(By.ID, "custom-add").click()

    def chosen(self):
        return [e.get_attribute("data-remove")
                for e in self.d.find_elements(By.CSS_SELECTOR, "#chosen [data-remove]")]

    # ---------------------------------------------------------------- signing
    def test_1_click_type_sign_verify(self):
        self.open()
        self.d.find_element(By.CSS_SELECTOR, '[data-endpoint="GET /users"]').click()
        self.d.find_element(By.CSS_SELECTOR, '[data-endpoint="PATCH /users/{id}"]').click()
        self.click_scope("read:clients")
        self.click_scope("read:clients")          # twice: still once
        self.assertEqual(["read:users", "update:users_app_metadata", "read:clients"], self.chosen())
        self.type("aud", AUD)
        self.type("secret", SECRET)
        self.type("lifetime", "3600")
        jwt, err = self.token()
        self.assertEqual("", err)
        self.assertRegex(jwt, r"^eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9\.[\w-]+\.[\w-]{43}$")
        claims = pyjwt.decode(jwt, b64url_key(SECRET), algorithms=["HS256"], audience=AUD)
        self.assertRegex(claims["jti"], r"^[0-9a-f]{32}$")
        self.assertLessEqual(abs(claims["iat"] - time.time()), 5)
        self.assertEqual(claims["iat"] + 3600, claims["exp"])
        self.assertEqual({"users": {"actions": ["read"]}, "users_app_metadata": {"actions": ["update"]},
                          "clients": {"actions": ["read"]}}, claims["scopes"])
        got = oracle([{"op": "verify", "token_hex": jwt.encode().hex(), "secret": SECRET,
                       "now": int(time.time()), "leeway": 0, "audience": AUD, "require_exp": True,
                       "scopes": ["read:users", "update:users_app_metadata", "read:clients"]},
                      {"op": "sign", "aud": AUD, "secret": SECRET, "lifetime": 3600,
                       "iat": claims["iat"], "jti": claims["jti"],
                       "scopes": ["read:users", "update:users_app_metadata", "read:clients"]}])
        self.assertEqual({"valid": True}, got[0])
        self.assertEqual(jwt, got[1]["token"])
        # The decoded view: header, claims, dates, scopes as action:entity.
        decoded = self.text("decoded")
        self.assertIn('"alg": "HS256"', decoded)
        self.assertIn(time.strftime("%Y-%m-%d", time.gmtime(claims["exp"])), decoded)
        for s in ("read:users", "update:users_app_metadata", "read:clients"):
            self.assertIn(s, decoded)
        # Remove one, and the token follows.
        self.d.find_element(By.CSS_SELECTOR, '#chosen [data-remove="read:users"]').click()
        jwt2, _ = self.token(jwt)
        self.assertNotIn("users", pyjwt.decode(jwt2, b64url_key(SECRET), algorithms=["HS256"],
                                               audience=AUD)["scopes"])
        # The secret is nowhere but in its field.
        html = self.d.execute_script("return document.documentElement.outerHTML")
        self.assertNotIn(SECRET, html)
        self.assertNotIn(SECRET[:12], html)
        self.assertNotIn(SECRET[:12], self.d.current_url)
        self.assertEqual([0, 0, ""], self.d.execute_script(
            "return [localStorage.length, sessionStorage.length, document.cookie]"))

    def test_2_bytes_equal_the_library_on_auth0_generator_vectors(self):
        cases = load(os.path.join(FIX, "auth0-api-tokens/vectors.json"))["cases"]
        requests = []
        for c in cases:
            self.open("?fixed_iat=%d&fixed_jti=%s" % (c["iat"], c["jti"]))
            self.assertIn("Test mode", self.text("test-mode"))
            for s in c["scope_strings"]:
                self.click_scope(s)
            self.assertEqual(c["scope_strings"], self.chosen(), c["name"])
            self.set("aud", c["client_id"])
            self.set("lifetime", str(c["exp"] - c["iat"]))
            if c["extra_claims"] is not None:
                self.set("claims", json.dumps(c["extra_claims"]))
            self.set("secret", c["secret"])
            jwt, err = self.token()
            self.assertEqual("", err, c["name"])
            self.assertEqual(c["token"], jwt, c["name"] + ": the bytes of Auth0's generator")
            requests.append({"op": "sign", "aud": c["client_id"], "secret": c["secret"],
                             "scopes": c["scope_strings"], "iat": c["iat"], "jti": c["jti"],
                             "lifetime": c["exp"] - c["iat"], "claims": c["extra_claims"],
                             "_page": jwt})
        for r, a in zip(requests, oracle([{k: v for k, v in r.items() if k != "_page"}
                                          for r in requests])):
            self.assertEqual(a.get("token"), r["_page"])

    def test_3_current_user_scopes_cannot_be_added(self):
        self.open()
        chip = self.d.find_element(By.CSS_SELECTOR, '[data-scope="read:current_user"]')
        least = self.d.find_element(By.CSS_SELECTOR, '[data-endpoint="PATCH /users/{id}"]')
        marked = least.find_elements(By.XPATH, "following-sibling::span/*[contains(@class, 'least')]")
        self.assertEqual(["update:users_app_metadata"], [m.get_attribute("data-scope") for m in marked])
        self.assertEqual("true", chip.get_attribute("aria-disabled"))
        chip.click()
        self.assertEqual([], self.chosen())
        self.assertIn("is a current_user scope", self.text("notice"))
        self.set("custom-scope", "update:current_user_metadata")
        self.d.find_element(By.ID, "custom-add").click()
        self.assertEqual([], self.chosen())
        self.set("pick-entity", "current_user")
        self.d.execute_script("document.getElementById('pick-entity').dispatchEvent(new Event('change'))")
        options = self.d.find_elements(By.CSS_SELECTOR, "#pick-action option")
        self.assertTrue(options and all(o.get_attribute("disabled") for o in options))
        self.d.find_element(By.ID, "pick-add").click()
        self.assertEqual([], self.chosen())
        # An endpoint whose only scopes are current_user ones adds nothing either.
        only = [e.get_attribute("data-endpoint") for e in
                self.d.find_elements(By.CSS_SELECTOR, "[data-endpoint]")
                if e.get_attribute("title") == "no scope to add"]
        if only:
            self.d.execute_script("arguments[0].click()", self.d.find_element(
                By.CSS_SELECTOR, '[data-endpoint="%s"]' % only[0]))
            self.assertEqual([], self.chosen())

    def test_4_secrets_are_decoded_as_the_library_decodes_them(self):
        """Every secret of the shared base64url vectors and a few more, base64 and raw: the page
        refuses with token.key's exact message, or signs the library's exact bytes."""
        self.open("?fixed_iat=1767225600&fixed_jti=page-test")
        self.set("aud", AUD)
        self.click_scope("read:users")
        b64 = load(os.path.join(FIX, "vectors", "base64url.json"))
        texts = [c["input"] for c in b64["secret_decoding"]["accept"] + b64["secret_decoding"]["reject"]
                 + b64["valid"] + b64["invalid"] if isinstance(c.get("input"), str)]
        texts += ["not base64!", "QQ", SECRET + " ", "QR==", "abc+def_" * 6, SECRET[:40],
                  "A" * 42 + "B", "A" * 43, SECRET + "==", SECRET.replace("-", "+")]
        cases = [(t, False) for t in texts] + [("short raw secret", True), ("x" * 32, True),
                                               ("caf\u00e9 " * 8, True), (SECRET, True)]
        seen = []
        for t, raw in cases:
            self.check("raw", raw)
            self.set("secret", t)
            jwt, err = self.token()
            # A password field drops line breaks from what it is given (HTML's value
            # sanitisation): the library is asked about what the field holds.
            held = self.d.execute_script("return document.getElementById('secret').value")
            self.assertEqual(t.replace("\r", "").replace("\n", ""), held)
            seen.append((held, raw, jwt, err))
            self.set("secret", "")
        expected = oracle([{"op": "sign", "aud": AUD, "secret": held, "raw": raw, "scopes": ["read:users"],
                            "iat": 1767225600, "jti": "page-test", "lifetime": None, "claims": None}
                           for held, raw, _, _ in seen])
        refused = 0
        for (held, raw, jwt, err), want in zip(seen, expected):
            if "error" in want:
                refused += 1
                self.assertEqual((want["error"], ""), (err, jwt), repr(held))
            else:
                self.assertEqual(("", want["token"]), (err, jwt), repr(held))
        self.check("raw", False)
        self.assertGreater(refused, 20)
        self.assertLess(refused, len(cases) - 5)
        print("secrets: %d cases agree (%d refused)" % (len(cases), refused), file=sys.stderr)

    # ---------------------------------------------------------------- verify tab
    def test_5_verify_tab_agrees_with_token_verify_on_every_shared_vector(self):
        self.open()
        self.d.find_element(By.CSS_SELECTOR, '[data-tab="verify"]').click()
        cases = []
        for name in ("jwt_valid_interop.json", "jwt_valid_policy.json", "jwt_invalid.json"):
            cases += load(os.path.join(FIX, "vectors", name))["tests"]
        rfc = load(os.path.join(FIX, "vectors", "jwt_rfc_examples.json"))
        cases += rfc["valid"] + rfc["invalid"]
        requests = []
        for c in cases:
            raw = bytes.fromhex(c["token_hex"]) if c.get("token_hex") else c["token"].encode()
            v = c["verify"]
            requests.append({"op": "verify", "token_hex": raw.hex(), "secret": c["key_b64url"],
                             "now": v["now"], "leeway": v["leeway"], "audience": v["audience"],
                             "require_exp": v["require_exp"]})
        answers = oracle(requests)
        seen = {"valid": 0, "refused": 0, "error": 0}
        for c, r, a in zip(cases, requests, answers):
            raw = bytes.fromhex(r["token_hex"])
            # A text field holds text: bytes that are not UTF-8 arrive as U+FFFD (still a
            # character outside the token alphabet).
            text = raw.decode("utf-8", errors="replace")
            box = self.d.find_element(By.ID, "verdict")
            before = box.get_attribute("data-done")
            self.d.execute_script(
                "var v = arguments[0];"
                "document.getElementById('verify-audience').value = v.audience === null ? '' : v.audience;"
                "document.getElementById('verify-leeway').value = String(v.leeway);"
                "document.getElementById('verify-now').value = String(v.now);"
                "document.getElementById('verify-require-exp').checked = v.require_exp;"
                "document.getElementById('secret').value = v.secret;"
                "var t = document.getElementById('verify-token'); t.value = arguments[1];"
                "t.dispatchEvent(new Event('input'));", r, text)
            deadline = time.time() + 10       # one input event: one more finished check
            while box.get_attribute("data-done") == before and time.time() < deadline:
                time.sleep(0.01)
            self.assertNotEqual(before, box.get_attribute("data-done"), c["id"])
            page = box.get_attribute("data-reason")
            want = "" if a.get("valid") else (a.get("reason") or "error: " + a["error"])
            self.assertEqual(want, page, "%s: the library says %r, the page %r" % (c["id"], want, page))
            seen["valid" if want == "" else ("error" if want.startswith("error") else "refused")] += 1
        self.assertGreater(seen["valid"], 50)
        self.assertGreater(seen["refused"], 100)
        self.assertGreater(seen["error"], 0)          # the key_too_short cases
        print("verify tab: %d cases agree (%s)" % (len(cases), seen), file=sys.stderr)

    # ---------------------------------------------------------------- the rest
    def test_6_search_filters_endpoints_and_scopes(self):
        self.open()
        self.set("search", "blacklist")
        shown = [e.get_attribute("data-endpoint") for e in
                 self.d.find_elements(By.CSS_SELECTOR, "#endpoints [data-endpoint]") if e.is_displayed()]
        self.assertTrue(shown)
        self.assertTrue(all("blacklists" in e for e in shown), shown)
        self.set("search", "read:logs")
        shown = [e.get_attribute("data-endpoint") for e in
                 self.d.find_elements(By.CSS_SELECTOR, "#endpoints [data-endpoint]") if e.is_displayed()]
        self.assertIn("GET /logs", shown)
        self.assertNotIn("GET /users", shown)

    def test_7_screenshot(self):
        self.open()
        for e in ("GET /users", "PATCH /users/{id}", "GET /clients", "POST /blacklists/tokens"):
            self.d.find_element(By.CSS_SELECTOR, '[data-endpoint="%s"]' % e).click()
        # Scrolled to the users group, where the marks show: several scopes, current_user ones.
        self.d.execute_script(
            "var g = [].slice.call(document.querySelectorAll('#endpoints summary'))"
            ".filter(function (s) { return s.textContent.indexOf('users') === 0; })[0];"
            "var box = document.querySelector('#browser .scroll');"
            "box.scrollTop = g.parentNode.offsetTop - box.offsetTop;")
        self.set("aud", AUD)
        self.set("lifetime", "3600")
        self.set("secret", SECRET)
        self.token()
        w, h = self.d.execute_script("return [innerWidth, innerHeight]")
        self.assertEqual((1280, 800), (w, h))
        self.d.save_screenshot(SCREENSHOT)
        self.assertGreater(os.path.getsize(SCREENSHOT), 10000)

    def test_9_no_network_request_beyond_the_file(self):
        self.open()
        self.collect_network()
        self.assertTrue(self.requests, "the performance log saw no request at all")
        others = [u for u in self.requests if not u.startswith(URL)]
        self.assertEqual([], others)
        violations = [e for e in self.d.get_log("browser") if "Content Security Policy" in e["message"]]
        self.assertEqual([], violations)


if __name__ == "__main__":
    if not os.path.exists(PAGE):
        sys.exit("test_explorer: build/explorer.html is missing (make explorer)")
    unittest.main(verbosity=2)
