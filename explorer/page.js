// The APIv2 explorer's token generator, offline. Signs exactly as auth0.apiv2.token does
// (token.new{...}:sign(token.key(secret))) and verifies as token.verify does, in the browser
// with WebCrypto; nothing is sent anywhere (the page's CSP forbids every connection).
(function () {
  "use strict";
  var TOKEN_MAX = 8192;
  var MAX_TIME = 9007199254740991;            // 2^53 - 1
  var MAX_LIFETIME = 100 * 366 * 86400;
  var MAX_LEEWAY = 300;
  var MIN_KEY_BYTES = 32;
  var JSON_MAX_DEPTH = 64;                    // the strict checker's nesting limit
  var CLAIMS_MAX_DEPTH = 32;                  // the encoder's
  var HEADER_B64 = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";   // {"typ":"JWT","alg":"HS256"}
  var RESERVED = { iat: 1, scopes: 1, jti: 1, exp: 1, aud: 1 };
  var MSG_NOT_BASE64 = "secret is not base64 or base64url text; for a plain-text secret use " +
    "token.key(secret, { encoding = \"raw\" })";

  var $ = function (id) { return document.getElementById(id); };
  var catalog = JSON.parse($("catalog").textContent);
  var enc = new TextEncoder();

  function Failure(message) { this.message = message; }

  // ------------------------------------------------------------ bytes
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  function b64url(bytes) {
    var out = "", i, v;
    for (i = 0; i + 3 <= bytes.length; i += 3) {
      v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      out += B64[v >> 18 & 63] + B64[v >> 12 & 63] + B64[v >> 6 & 63] + B64[v & 63];
    }
    if (bytes.length - i === 1) {
      v = bytes[i] << 16;
      out += B64[v >> 18 & 63] + B64[v >> 12 & 63];
    } else if (bytes.length - i === 2) {
      v = (bytes[i] << 16) | (bytes[i + 1] << 8);
      out += B64[v >> 18 & 63] + B64[v >> 12 & 63] + B64[v >> 6 & 63];
    }
    return out;
  }
  var URL_ONLY = 64, STD_ONLY = 128, BAD = 255;
  function digit(c) {
    if (c >= 65 && c <= 90) return c - 65;
    if (c >= 97 && c <= 122) return c - 71;
    if (c >= 48 && c <= 57) return c + 4;
    if (c === 45) return 62 | URL_ONLY;
    if (c === 95) return 63 | URL_ONLY;
    if (c === 43) return 62 | STD_ONLY;
    if (c === 47) return 63 | STD_ONLY;
    return BAD;
  }
  // csrc/b64url.c decode_digits: null when not canonical text of the allowed alphabet(s).
  function decodeDigits(text, n, forbidden) {
    var out = [], acc = 0, bits = 0, seen = 0, i, d;
    if (n % 4 === 1) return null;
    for (i = 0; i < n; i++) {
      var c = text.charCodeAt(i);
      d = c > 127 ? BAD : digit(c);
      if (d === BAD || (d & forbidden)) return null;
      if (d & (URL_ONLY | STD_ONLY)) {
        seen |= d & (URL_ONLY | STD_ONLY);
        if (seen === (URL_ONLY | STD_ONLY)) return null;   // mixed alphabets
        d &= 63;
      }
      acc = ((acc << 6) | d) & 0xffffff;
      bits += 6;
      if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 255); }
    }
    if (bits && (acc & ((1 << bits) - 1))) return null;     // non-canonical final bits
    return new Uint8Array(out);
  }
  function b64urlDecode(text) { return decodeDigits(text, text.length, STD_ONLY); }
  // The API secret as token.key reads it: either alphabet, padding optional but exact.
  function secretDecode(text) {
    var n = text.length, pad = 0;
    while (pad < n && pad < 3 && text[n - 1 - pad] === "=") pad++;
    if (pad) {
      if (n % 4 !== 0 || pad > 2) return null;
      n -= pad;
    }
    return decodeDigits(text, n, 0);
  }
  function hex(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return s;
  }
  function wellFormed(s) { return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s); }

  // ------------------------------------------------------------ keys (token.key)
  // Returns the key bytes; the caller imports them and wipes the array.
  function keyBytes(fname, secret, raw) {
    var bytes = raw ? enc.encode(secret) : secretDecode(secret);
    if (!bytes) throw new Failure(fname + ": " + MSG_NOT_BASE64);
    if (bytes.length < MIN_KEY_BYTES) {
      bytes.fill(0);
      throw new Failure(fname + ": key is " + bytes.length + " bytes, at least " +
        MIN_KEY_BYTES + " are required");
    }
    return bytes;
  }
  function importKey(bytes) {
    var p = crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false,
      ["sign", "verify"]);
    bytes.fill(0);   // the CryptoKey (not extractable) holds the only copy
    return p;
  }

  // ------------------------------------------------------------ JSON like the library's encoder
  // Keys sorted by their UTF-8 bytes at every depth, strings as JSON.stringify escapes them
  // (that is csrc/json_escape.c), numbers as JSON.stringify writes them (json.number).
  function bytesLess(a, b) {
    var x = enc.encode(a), y = enc.encode(b), n = Math.min(x.length, y.length);
    for (var i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  }
  function encodeString(s, path) {
    if (!wellFormed(s)) throw new Failure(path + ": string is not UTF-8 text (invalid utf8)");
    return JSON.stringify(s);
  }
  function encodeValue(v, depth, path) {
    if (typeof v === "string") return encodeString(v, path);
    if (typeof v === "number") {
      if (!isFinite(v)) throw new Failure(path + ": cannot encode NaN or infinity");
      return JSON.stringify(v);
    }
    if (typeof v === "boolean") return v ? "true" : "false";
    if (v === null) return "null";
    if (depth > CLAIMS_MAX_DEPTH)
      throw new Failure(path + ": nested deeper than " + CLAIMS_MAX_DEPTH + " levels");
    if (Array.isArray(v)) {
      return "[" + v.map(function (x, i) {
        return encodeValue(x, depth + 1, path + "[" + (i + 1) + "]");
      }).join(",") + "]";
    }
    var keys = Object.keys(v).sort(bytesLess);
    return "{" + keys.map(function (k) {
      return encodeString(k, path) + ":" + encodeValue(v[k], depth + 1, path + "." + k);
    }).join(",") + "}";
  }

  // ------------------------------------------------------------ strict JSON (csrc/json_check.c)
  // Returns null when text is one strict RFC 8259 text (no duplicate names at any depth,
  // nesting at most 64, surrogate escapes paired), else the library's reason.
  function jsonCheck(text) {
    var i = 0, n = text.length, stack = [];
    function ws() { while (i < n && " \t\r\n".indexOf(text[i]) >= 0) i++; }
    function str() {           // text[i] is the opening quote; returns the decoded string
      var out = "";
      i++;
      while (i < n) {
        var c = text.charCodeAt(i);
        if (c === 34) { i++; return out; }
        if (c < 32) return null;
        if (c === 92) {
          var e = text[i + 1];
          var simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
          if (e in simple && e !== "u") { out += simple[e]; i += 2; continue; }
          if (e !== "u") return null;
          var h = text.substr(i + 2, 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) return null;
          var u = parseInt(h, 16);
          if (u >= 0xDC00 && u <= 0xDFFF) return null;
          if (u >= 0xD800 && u <= 0xDBFF) {
            if (text[i + 6] !== "\\" || text[i + 7] !== "u") return null;
            var l = text.substr(i + 8, 4);
            if (!/^[0-9a-fA-F]{4}$/.test(l)) return null;
            var lo = parseInt(l, 16);
            if (lo < 0xDC00 || lo > 0xDFFF) return null;
            out += String.fromCharCode(u, lo);
            i += 12;
          } else {
            out += String.fromCharCode(u);
            i += 6;
          }
          continue;
        }
        out += text[i];
        i++;
      }
      return null;
    }
    var NUM = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    function scalar() {
      var c = text[i];
      if (c === '"') return str() !== null;
      if (c === "-" || (c >= "0" && c <= "9")) {
        NUM.lastIndex = i;
        var m = NUM.exec(text);
        if (!m) return false;
        i += m[0].length;
        return true;
      }
      var words = ["true", "false", "null"];
      for (var k = 0; k < 3; k++) {
        if (text.substr(i, words[k].length) === words[k]) { i += words[k].length; return true; }
      }
      return false;
    }
    function name() {          // `"name" :` for the innermost object
      ws();
      if (text[i] !== '"') return false;
      var s = str();
      if (s === null) return false;
      stack[stack.length - 1].names.push(s);
      ws();
      if (text[i] !== ":") return false;
      i++;
      return true;
    }
    for (;;) {
      ws();
      if (i >= n) return "invalid json";
      var c = text[i];
      if (c === "{" || c === "[") {
        if (stack.length === JSON_MAX_DEPTH) return "too deep";
        stack.push({ object: c === "{", names: [] });
        i++;
        ws();
        if (text[i] === (c === "{" ? "}" : "]")) {
          i++;
          stack.pop();
        } else if (c === "{") {
          if (!name()) return "invalid json";
          continue;
        } else {
          continue;
        }
      } else if (!scalar()) {
        return "invalid json";
      }
      for (;;) {                 // a value just ended
        ws();
        if (stack.length === 0) return i === n ? null : "invalid json";
        if (i >= n) return "invalid json";
        var top = stack[stack.length - 1];
        if (text[i] === ",") {
          i++;
          if (top.object && !name()) return "invalid json";
          break;
        }
        if (text[i] !== (top.object ? "}" : "]")) return "invalid json";
        i++;
        if (top.object && new Set(top.names).size !== top.names.length) return "duplicate member";
        stack.pop();
      }
    }
  }
  var utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  // A token segment as JSON: the rules of csrc/jws.c decode_json_segment.
  function jsonSegment(seg, notObject) {
    var bytes = b64urlDecode(seg);
    if (!bytes) return { reason: "invalid base64url" };
    var text;
    try { text = utf8.decode(bytes); } catch (e) { return { reason: "invalid utf8" }; }
    var reason = jsonCheck(text);
    if (reason) return { reason: reason };
    if (!/^[ \t\r\n]*\{/.test(text)) return { reason: notObject };
    return { text: text, value: JSON.parse(text) };
  }
  // token.decode: header, claims, signing input, signature bytes; or { reason }.
  function parseToken(jwt) {
    if (enc.encode(jwt).length > TOKEN_MAX) return { reason: "token too long" };
    if (!/^[A-Za-z0-9_.-]*$/.test(jwt)) return { reason: "malformed token" };
    var parts = jwt.split(".");
    if (parts.length !== 3 || parts[0] === "" || parts[1] === "" || parts[2] === "")
      return { reason: "malformed token" };
    var h = jsonSegment(parts[0], "header not an object");
    if (h.reason) return h;
    var p = jsonSegment(parts[1], "payload not an object");
    if (p.reason) return p;
    var sig = b64urlDecode(parts[2]);
    if (!sig) return { reason: "invalid base64url" };
    return { header: h.value, claims: p.value, headerText: h.text, payloadText: p.text,
      input: parts[0] + "." + parts[1], signature: sig };
  }
  function own(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  function isTable(v) { return typeof v === "object" && v !== null; }

  // token.has_scope: the classic scopes object, or the flat space-separated scope string.
  function hasScope(claims, scope) {
    var colon = scope.indexOf(":"), scopes = claims.scopes;
    if (colon >= 0 && isTable(scopes) && !Array.isArray(scopes)) {
      var entity = own(scopes, scope.slice(colon + 1)) ? scopes[scope.slice(colon + 1)] : null;
      var actions = isTable(entity) && !Array.isArray(entity) && own(entity, "actions") ? entity.actions : null;
      if (Array.isArray(actions) && actions.indexOf(scope.slice(0, colon)) >= 0) return true;
    }
    if (typeof claims.scope === "string" && own(claims, "scope")) {
      var list = claims.scope.split(" ");
      for (var i = 0; i < list.length; i++) if (list[i] !== "" && list[i] === scope) return true;
    }
    return false;
  }

  // token.verify(jwt, secret, opts) with its order of checks and its reasons. With raw, what
  // token.verify(jwt, token.key(secret, { encoding = "raw" }), opts) does: the key first.
  async function verify(jwt, secret, raw, opts) {
    var key = null;
    if (raw) key = await importKey(keyBytes("token.key", secret, true));
    var t = parseToken(jwt);
    if (t.reason) return t;
    var header = t.header, claims = t.claims;
    if (!own(header, "alg")) return { reason: "alg missing", token: t };
    if (header.alg !== "HS256") return { reason: "alg not allowed", token: t };
    if (own(header, "crit")) return { reason: "unsupported crit", token: t };
    if (own(header, "enc")) return { reason: "unsupported enc", token: t };
    if (own(header, "b64") && header.b64 !== true) return { reason: "unsupported b64", token: t };
    if (t.signature.length !== 32) return { reason: "signature length", token: t };
    if (!key) key = await importKey(keyBytes("token.verify", secret, false));
    var ok = await crypto.subtle.verify("HMAC", key, t.signature, enc.encode(t.input));
    if (!ok) return { reason: "signature mismatch", token: t };
    var names = ["exp", "nbf", "iat"];
    for (var i = 0; i < names.length; i++) {
      if (own(claims, names[i]) && typeof claims[names[i]] !== "number")
        return { reason: "invalid claim type", token: t };
    }
    var now = opts.now, leeway = opts.leeway;
    if (!own(claims, "exp")) {
      if (opts.requireExp) return { reason: "exp missing", token: t };
    } else if (now - leeway >= claims.exp) {
      return { reason: "expired", token: t };
    }
    if (own(claims, "nbf") && claims.nbf > now + leeway) return { reason: "not yet valid", token: t };
    if (own(claims, "iat") && claims.iat > now + leeway) return { reason: "issued in the future", token: t };
    if (opts.audience !== null) {
      var aud = claims.aud;
      if (!(aud === opts.audience || (Array.isArray(aud) && aud.indexOf(opts.audience) >= 0)))
        return { reason: "audience mismatch", token: t };
    }
    for (var s = 0; s < opts.scopes.length; s++) {
      if (!hasScope(claims, opts.scopes[s])) return { reason: "insufficient scope", token: t };
    }
    return { claims: claims, token: t };
  }

  // ------------------------------------------------------------ signing (token.new + sign)
  var params = new URLSearchParams(location.search);
  // Test hook: fixed_iat and fixed_jti in the address fix the per-signature parts, as token.new's
  // iat and jti options do, so that a test can compare bytes with the library's token.
  var fixedIat = params.get("fixed_iat"), fixedJti = params.get("fixed_jti");

  function wholeSeconds(text, name) {
    if (!/^[0-9]+$/.test(text) || Number(text) > MAX_TIME)
      throw new Failure("token.new: " + name + " must be a whole number of seconds since the epoch");
    return Number(text);
  }
  function randomJti() {
    var raw = new Uint8Array(16);
    crypto.getRandomValues(raw);
    return hex(raw);
  }
  function scopesJson(list) {
    var entities = [], byName = {};
    list.forEach(function (scope) {
      var c = scope.indexOf(":"), action = scope.slice(0, c), entity = scope.slice(c + 1);
      if (!own(byName, entity)) { byName[entity] = []; entities.push(entity); }
      if (byName[entity].indexOf(action) < 0) byName[entity].push(action);
    });
    return "{" + entities.map(function (e) {
      return '"' + e + '":{"actions":["' + byName[e].join('","') + '"]}';
    }).join(",") + "}";
  }
  function claimsPrefix(text) {
    if (text.trim() === "") return "";
    var reason = jsonCheck(text);
    if (reason) throw new Failure("token.new: claims: " + reason);
    var claims = JSON.parse(text);
    if (!isTable(claims) || Array.isArray(claims)) throw new Failure("token.new: claims must be a table");
    return Object.keys(claims).sort(bytesLess).map(function (name) {
      if (own(RESERVED, name))
        throw new Failure("token.new: claims." + name + " is reserved; use the " + name + " option");
      return encodeString(name, "claims") + ":" + encodeValue(claims[name], 1, "claims." + name) + ",";
    }).join("");
  }
  // What token.new{ aud, scopes, lifetime, claims, iat, jti }:sign(key) does, in its order.
  async function sign(form) {
    var secret = form.secret;
    if (secret === "") throw new Failure("");
    var key = await importKey(keyBytes("token.key", secret, form.raw));
    if (form.aud === "") throw new Failure("token.new: aud must be a non-empty string (the tenant's API key)");
    var audJson = encodeString(form.aud, "token.new: aud");
    var head = "{" + claimsPrefix(form.claims) + '"iat":';
    var iat = fixedIat !== null ? wholeSeconds(fixedIat, "iat") : null;
    var lifetime = null;
    if (form.lifetime !== "") {
      if (!/^[0-9]+$/.test(form.lifetime) || Number(form.lifetime) <= 0 || Number(form.lifetime) > MAX_LIFETIME)
        throw new Failure("token.new: lifetime must be a positive whole number of seconds (at most a century)");
      lifetime = Number(form.lifetime);
    }
    if (iat !== null && lifetime !== null && iat + lifetime > MAX_TIME)
      throw new Failure("token.new: exp must be a whole number of seconds since the epoch");
    if (fixedJti === "") throw new Failure("token.new: jti must be a non-empty string");
    var jtiJson = fixedJti !== null ? encodeString(fixedJti, "token.new: jti") : null;
    if (iat === null) iat = Math.floor(Date.now() / 1000);
    var payload = head + iat + ',"scopes":' + scopesJson(form.scopes) + ',"jti":' +
      (jtiJson || '"' + randomJti() + '"') +
      (lifetime !== null ? ',"exp":' + (iat + lifetime) : "") + ',"aud":' + audJson + "}";
    var input = HEADER_B64 + "." + b64url(enc.encode(payload));
    if (input.length + 44 > TOKEN_MAX)
      throw new Failure("token.sign: the token would be longer than 8192 bytes");
    var mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(input)));
    return input + "." + b64url(mac);
  }

  // ------------------------------------------------------------ rendering helpers
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function utc(v) {
    if (typeof v !== "number" || v !== Math.floor(v) || v < 0 || v > 253402300799) return null;
    return new Date(v * 1000).toISOString().replace(".000Z", "Z").replace("T", " ");
  }
  function relative(v) {
    var d = v - Math.floor(Date.now() / 1000), a = Math.abs(d), unit;
    if (a < 120) unit = a + " s";
    else if (a < 7200) unit = Math.round(a / 60) + " min";
    else if (a < 172800) unit = Math.round(a / 3600) + " h";
    else unit = Math.round(a / 86400) + " days";
    return d >= 0 ? "in " + unit : unit + " ago";
  }
  function grantedScopes(claims) {
    var out = [];
    if (isTable(claims.scopes) && !Array.isArray(claims.scopes)) {
      Object.keys(claims.scopes).forEach(function (entity) {
        var e = claims.scopes[entity];
        if (isTable(e) && Array.isArray(e.actions)) e.actions.forEach(function (a) {
          if (typeof a === "string") out.push(a + ":" + entity);
        });
      });
    }
    if (typeof claims.scope === "string") claims.scope.split(" ").forEach(function (s) { if (s) out.push(s); });
    return out;
  }
  // jwt.io's view: header, claims, the times as dates, the scopes as action:entity.
  function renderDecoded(box, t) {
    box.textContent = "";
    if (!t) return;
    var parts = [["Header", t.header, "part-header"], ["Claims", t.claims, "part-payload"]];
    parts.forEach(function (p) {
      box.appendChild(el("section", { class: "decoded-part " + p[2] }, [
        el("h4", { text: p[0] }), el("pre", { text: JSON.stringify(p[1], null, 2) })]));
    });
    var times = el("dl", { class: "times" });
    ["iat", "nbf", "exp"].forEach(function (name) {
      if (!own(t.claims, name)) return;
      var text = utc(t.claims[name]);
      times.appendChild(el("dt", { text: name }));
      times.appendChild(el("dd", { text: text ? text + " UTC (" + relative(t.claims[name]) + ")" : "not a time" }));
    });
    if (!own(t.claims, "exp")) {
      times.appendChild(el("dt", { text: "exp" }));
      times.appendChild(el("dd", { text: "none: the token does not expire" }));
    }
    box.appendChild(el("section", { class: "decoded-part" }, [el("h4", { text: "Times" }), times]));
    var scopes = grantedScopes(t.claims);
    box.appendChild(el("section", { class: "decoded-part" }, [
      el("h4", { text: "Scopes (" + scopes.length + ")" }),
      el("ul", { class: "chips static" }, scopes.map(function (s) {
        return el("li", { class: "chip granted", text: s });
      }))]));
  }
  function renderToken(box, jwt) {
    box.textContent = "";
    var parts = jwt.split(".");
    ["part-header", "part-payload", "part-signature"].forEach(function (cls, i) {
      if (i) box.appendChild(document.createTextNode("."));
      box.appendChild(el("span", { class: cls, text: parts[i] }));
    });
  }

  // ------------------------------------------------------------ the catalog
  var scopeInfo = {};            // scope -> { description, special }
  catalog.scopes.forEach(function (s) { scopeInfo[s[0]] = { description: s[1], special: s[2] === 1 }; });
  function isSpecial(scope) { return scope.slice(scope.indexOf(":") + 1).indexOf("current_user") >= 0; }
  var chosen = [];
  var notice = $("notice");
  function say(text) { notice.textContent = text; notice.hidden = !text; }

  function specialMessage(scope) {
    var c = scope.indexOf(":");
    return "token.new: scope '" + scope.slice(0, c) + ":" + scope.slice(c + 1) + "' is a current_user " +
      "scope: Auth0 grants it only to a logged-in user's own token, never to one built by server code";
  }
  function addScope(scope) {
    if (isSpecial(scope)) { say(specialMessage(scope)); return; }
    say("");
    if (chosen.indexOf(scope) < 0) chosen.push(scope);
    update();
  }
  function scopeChip(scope, least) {
    var info = scopeInfo[scope] || { description: "", special: isSpecial(scope) };
    var b = el("button", { type: "button", class: "chip" + (least ? " least" : "") +
      (info.special ? " special" : ""), "data-scope": scope, text: scope,
      title: (info.description || scope) + (least ? " (least privileged for this endpoint)" : "") +
        (info.special ? " (current_user: only in a logged-in user's own token; cannot be added)" : "") });
    if (info.special) b.setAttribute("aria-disabled", "true");
    return b;
  }
  function buildEndpoints() {
    var list = $("endpoints"), groups = {}, order = [];
    catalog.endpoints.forEach(function (e) {
      var g = e[1].split("/")[1];
      if (!own(groups, g)) { groups[g] = []; order.push(g); }
      groups[g].push(e);
    });
    order.sort();
    order.forEach(function (g) {
      var rows = groups[g].map(function (e) {
        var id = e[0] + " " + e[1], scopes = e[2], least = e[3];
        var row = el("li", { class: "endpoint", "data-search": (id + " " + scopes.join(" ")).toLowerCase() }, [
          el("button", { type: "button", class: "endpoint-name", "data-endpoint": id,
            title: least ? "add " + least + ", its least privileged scope" : "no scope to add" }, [
            el("span", { class: "method m-" + e[0].toLowerCase(), text: e[0] }),
            el("span", { class: "path", text: e[1] })]),
          // The mark matters only where there is a choice: several scopes authorise the endpoint.
          el("span", { class: "chips" }, scopes.length ? scopes.map(function (s) { return scopeChip(s, s === least && scopes.length > 1); })
            : [el("span", { class: "none", text: "no scope listed" })])]);
        return row;
      });
      list.appendChild(el("details", { class: "group", open: "" }, [
        el("summary", {}, [el("span", { text: g }), el("span", { class: "count", text: String(rows.length) })]),
        el("ul", {}, rows)]));
    });
    var all = $("all-scopes"), byEntity = {}, entities = [];
    catalog.scopes.forEach(function (s) {
      var entity = s[0].slice(s[0].indexOf(":") + 1);
      if (!own(byEntity, entity)) { byEntity[entity] = []; entities.push(entity); }
      byEntity[entity].push(s[0]);
    });
    entities.sort();
    entities.forEach(function (entity) {
      all.appendChild(el("li", { class: "endpoint", "data-search": (entity + " " + byEntity[entity].join(" ") + " " +
        byEntity[entity].map(function (s) { return scopeInfo[s].description; }).join(" ")).toLowerCase() }, [
        el("span", { class: "entity", text: entity }),
        el("span", { class: "chips" }, byEntity[entity].map(function (s) { return scopeChip(s, false); }))]));
    });
    // The picker: entity, then its actions.
    var ent = $("pick-entity");
    entities.forEach(function (entity) { ent.appendChild(el("option", { value: entity, text: entity })); });
    function fillActions() {
      var act = $("pick-action");
      act.textContent = "";
      (byEntity[ent.value] || []).forEach(function (s) {
        var o = el("option", { value: s, text: s.slice(0, s.indexOf(":")) + (scopeInfo[s].special ? " (user token only)" : "") });
        if (scopeInfo[s].special) o.disabled = true;
        act.appendChild(o);
      });
    }
    ent.value = own(byEntity, "users") ? "users" : entities[0];
    ent.addEventListener("change", fillActions);
    fillActions();
    $("pick-add").addEventListener("click", function () { if ($("pick-action").value) addScope($("pick-action").value); });
    // A scope the catalog does not know yet (Auth0's list grows): the library's syntax rule.
    function addCustom() {
      var scope = $("custom-scope").value.trim();
      if (scope === "") return;
      var m = /^([a-z][a-z0-9_]*):([a-z][a-z0-9_:]*)$/.exec(scope);
      if (!m || /:[^a-z]/.test(m[2]) || /:$/.test(m[2])) {
        say("token.new: malformed scope " + JSON.stringify(scope) + ": expected action:entity in lower case, e.g. read:users");
        return;
      }
      $("custom-scope").value = "";
      addScope(scope);
    }
    $("custom-add").addEventListener("click", addCustom);
    $("custom-scope").addEventListener("keydown", function (ev) { if (ev.key === "Enter") addCustom(); });
    document.addEventListener("click", function (ev) {
      var t = ev.target.closest("[data-scope],[data-endpoint],[data-remove]");
      if (!t || t.closest("#decoded")) return;
      if (t.hasAttribute("data-remove")) {
        chosen = chosen.filter(function (s) { return s !== t.getAttribute("data-remove"); });
        update();
      } else if (t.hasAttribute("data-scope")) {
        addScope(t.getAttribute("data-scope"));
      } else {
        var e = catalog.endpoints.filter(function (x) { return x[0] + " " + x[1] === t.getAttribute("data-endpoint"); })[0];
        if (e && e[3]) addScope(e[3]);
        else say("token.new: endpoint '" + t.getAttribute("data-endpoint") + "': " +
          (e && e[2].length ? "only current_user scopes" : "no scopes listed"));
      }
    });
  }
  function filter() {
    var words = $("search").value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("#browser .endpoint").forEach(function (row) {
      var text = row.getAttribute("data-search");
      row.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    document.querySelectorAll("#browser details").forEach(function (d) {
      d.hidden = !d.querySelector(".endpoint:not([hidden])");
    });
  }

  // ------------------------------------------------------------ wiring
  var generation = 0;
  async function update() {
    var list = $("chosen");
    list.textContent = "";
    chosen.forEach(function (s) {
      list.appendChild(el("li", { class: "chip chosen" }, [el("span", { text: s }),
        el("button", { type: "button", class: "remove", "data-remove": s, title: "remove " + s, text: "\u00d7" })]));
    });
    $("chosen-empty").hidden = chosen.length > 0;
    var mine = ++generation;
    var out = $("token"), err = $("sign-error");
    try {
      var jwt = await sign({ aud: $("aud").value, secret: $("secret").value, raw: $("raw").checked,
        lifetime: $("lifetime").value.trim(), scopes: chosen.slice(), claims: $("claims").value });
      if (mine !== generation) return;
      renderToken(out, jwt);
      err.textContent = "";
      $("copy").disabled = false;
      renderDecoded($("decoded"), parseToken(jwt));
    } catch (e) {
      if (mine !== generation) return;
      if (!(e instanceof Failure)) e = new Failure(String(e && e.message || e));
      out.textContent = "";
      $("copy").disabled = true;
      renderDecoded($("decoded"), null);
      err.textContent = e.message;
      var hint = $("sign-hint");
      var secret = $("secret").value;
      hint.textContent = secret === "" ? "Enter the API key and the API secret: the token appears here." :
        (!$("raw").checked && /^\s|\s$/.test(secret) ? "The secret has white space around it: token.key refuses it." : "");
    }
    if (!err.textContent) $("sign-hint").textContent = "";
  }
  var verifyGeneration = 0;
  async function runVerify() {
    var box = $("verdict"), jwt = $("verify-token").value, mine = ++verifyGeneration;
    box.className = "verdict";
    $("verify-hint").textContent = "";
    if (jwt === "") $("verify-hint").textContent = "Paste a token.";
    try {
      var leewayText = $("verify-leeway").value.trim(), nowText = $("verify-now").value.trim();
      var leeway = leewayText === "" ? 0 : Number(leewayText);
      if (!/^[0-9]+(\.[0-9]+)?$/.test(leewayText || "0") || !(leeway >= 0 && leeway <= MAX_LEEWAY))
        throw new Failure("token.verify: leeway must be a number of seconds from 0 to 300");
      var now = nowText === "" ? Math.floor(Date.now() / 1000) : Number(nowText);
      if (!/^-?[0-9]+(\.[0-9]+)?$/.test(nowText || "0") || !isFinite(now))
        throw new Failure("token.verify: now must be a finite number");
      var aud = $("verify-audience").value;
      var scopes = $("verify-scopes").value.split(/[\s,]+/).filter(Boolean);
      var r = await verify(jwt, $("secret").value, $("raw").checked, { now: now, leeway: leeway,
        audience: aud === "" ? null : aud, requireExp: $("verify-require-exp").checked, scopes: scopes });
      if (mine !== verifyGeneration) return;
      if (r.claims) {
        box.classList.add("valid");
        box.textContent = "valid";
      } else {
        box.classList.add("invalid");
        box.textContent = "refused: " + r.reason;
        if (r.reason === "malformed token" && /^\s|\s$|^bearer /i.test(jwt))
          $("verify-hint").textContent = "The token has white space or \"Bearer \" around it; the library does not strip it.";
      }
      box.setAttribute("data-reason", r.claims ? "" : r.reason);
      renderDecoded($("verify-decoded"), r.token || (r.claims && parseToken(jwt)));
    } catch (e) {
      if (mine !== verifyGeneration) return;
      if (!(e instanceof Failure)) e = new Failure(String(e && e.message || e));
      box.classList.add("error");
      box.textContent = "error: " + e.message;
      box.setAttribute("data-reason", "error: " + e.message);
      renderDecoded($("verify-decoded"), null);
    }
    box.setAttribute("data-done", String(++verifyCount));
  }
  var verifyCount = 0;

  function showTab(name) {
    document.querySelectorAll("[data-tab]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-tab") === name));
    });
    $("view-generate").hidden = name !== "generate";
    $("view-verify").hidden = name !== "verify";
    if (name === "verify") runVerify();
  }

  $("noscript").hidden = true;
  $("app").hidden = false;
  if (!window.crypto || !crypto.subtle) {
    say("This browser gives no WebCrypto here (crypto.subtle): the page cannot sign.");
  }
  if (fixedIat !== null || fixedJti !== null) {
    var b = $("test-mode");
    b.hidden = false;
    b.textContent = "Test mode: " + (fixedIat !== null ? "iat fixed at " + fixedIat : "") +
      (fixedIat !== null && fixedJti !== null ? ", " : "") + (fixedJti !== null ? "jti fixed at " + fixedJti : "") +
      " by the address. Every token from this page is the same: do not use them.";
  }
  $("scope-count").textContent = catalog.scopes.length + " scopes, " + catalog.endpoints.length + " endpoints";
  buildEndpoints();
  ["aud", "secret", "lifetime", "claims"].forEach(function (id) { $(id).addEventListener("input", function () { update(); runVerifyIfShown(); }); });
  $("raw").addEventListener("change", function () { update(); runVerifyIfShown(); });
  function runVerifyIfShown() { if (!$("view-verify").hidden) runVerify(); }
  ["verify-token", "verify-audience", "verify-scopes", "verify-leeway", "verify-now"].forEach(function (id) {
    $(id).addEventListener("input", runVerify);
  });
  $("verify-require-exp").addEventListener("change", runVerify);
  $("search").addEventListener("input", filter);
  $("clear").addEventListener("click", function () { chosen = []; say(""); update(); });
  document.querySelectorAll("[data-tab]").forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); });
  });
  document.querySelectorAll("[data-view]").forEach(function (b) {
    b.addEventListener("click", function () {
      document.querySelectorAll("[data-view]").forEach(function (x) { x.setAttribute("aria-selected", String(x === b)); });
      $("endpoints").hidden = b.getAttribute("data-view") !== "endpoints";
      $("all-scopes").hidden = b.getAttribute("data-view") !== "scopes";
    });
  });
  $("copy").addEventListener("click", function () {
    var text = $("token").textContent;
    navigator.clipboard.writeText(text).then(function () { $("copy").textContent = "Copied"; },
      function () {
        var r = document.createRange();
        r.selectNodeContents($("token"));
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        $("copy").textContent = "Selected: press Ctrl+C";
      });
    setTimeout(function () { $("copy").textContent = "Copy"; }, 1500);
  });
  $("use-token").addEventListener("click", function () {
    $("verify-token").value = $("token").textContent;
    showTab("verify");
  });
  update();
})();
