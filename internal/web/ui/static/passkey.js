// Custos passkeys (AUTH-3): registration, second factor and passwordless
// sign-in through navigator.credentials. Buttons opt in with data-passkey:
//   "register" (account page; the name comes from the input named by
//   data-passkey-name), "verify" (second step and step-up) and "login".
// The server's options arrive as JSON with byte strings in base64url; the
// browser's answer goes back the same way. No inline script, no HTML built
// from data (textContent only): the strict CSP holds. Messages come from
// data-msg-* attributes so that they are translated on the server.
(function () {
  "use strict";

  var buttons = document.querySelectorAll("[data-passkey]");
  if (!buttons.length) {
    return;
  }

  function b64uToBuf(s) {
    var b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) {
      out[i] = b.charCodeAt(i);
    }
    return out.buffer;
  }

  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64uToBuf(pk.challenge);
    pk.user.id = b64uToBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64uToBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
    return { publicKey: pk };
  }

  function attestationJSON(c) {
    return {
      id: c.id, rawId: bufToB64u(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      response: {
        clientDataJSON: bufToB64u(c.response.clientDataJSON),
        attestationObject: bufToB64u(c.response.attestationObject),
        transports: c.response.getTransports ? c.response.getTransports() : []
      },
      clientExtensionResults: c.getClientExtensionResults()
    };
  }

  function assertionJSON(a) {
    return {
      id: a.id, rawId: bufToB64u(a.rawId), type: a.type,
      authenticatorAttachment: a.authenticatorAttachment || undefined,
      response: {
        clientDataJSON: bufToB64u(a.response.clientDataJSON),
        authenticatorData: bufToB64u(a.response.authenticatorData),
        signature: bufToB64u(a.response.signature),
        userHandle: a.response.userHandle ? bufToB64u(a.response.userHandle) : undefined
      },
      clientExtensionResults: a.getClientExtensionResults()
    };
  }

  // post sends JSON and resolves with {status, body} (body parsed if JSON).
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.text().then(function (t) {
        var b = null;
        try { b = t ? JSON.parse(t) : null; } catch (e) { b = null; }
        return { status: r.status, body: b };
      });
    });
  }

  function fail(res) {
    var e = new Error("request failed");
    e.res = res;
    throw e;
  }

  function ok(res) {
    if (res.status < 200 || res.status > 299) {
      fail(res);
    }
    return res.body;
  }

  var flows = {
    register: function (btn) {
      var input = document.querySelector(btn.getAttribute("data-passkey-name") || "#passkey-name");
      var name = input ? input.value.trim() : "";
      if (!name) {
        name = btn.getAttribute("data-default-name") || "Passkey";
      }
      return post("/api/v1/account/passkey-challenge").then(ok).then(function (o) {
        return navigator.credentials.create(creationOptions(o));
      }).then(function (c) {
        return post("/api/v1/account/passkeys", { name: name, credential: attestationJSON(c) });
      }).then(ok);
    },
    verify: function () {
      return post("/api/v1/session/passkey/challenge").then(ok).then(function (o) {
        return navigator.credentials.get(requestOptions(o));
      }).then(function (a) {
        return post("/api/v1/session/passkey", { credential: assertionJSON(a) });
      }).then(ok);
    },
    login: function () {
      return post("/api/v1/passkey-login/challenge").then(ok).then(function (o) {
        return navigator.credentials.get(requestOptions(o));
      }).then(function (a) {
        return post("/api/v1/passkey-login", { credential: assertionJSON(a) });
      }).then(ok);
    }
  };

  function message(btn, text, isError) {
    var el = document.getElementById(btn.getAttribute("data-passkey-status") || "passkey-status");
    if (el) {
      el.textContent = text;
      el.hidden = !text;
      el.classList.toggle("alert-error", !!isError);
    }
  }

  buttons.forEach(function (btn) {
    var flow = flows[btn.getAttribute("data-passkey")];
    if (!flow) {
      return;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      btn.disabled = true;
      message(btn, btn.getAttribute("data-msg-unsupported") || "", true);
      return;
    }
    btn.hidden = false;
    btn.addEventListener("click", function (ev) {
      ev.preventDefault();
      btn.disabled = true;
      message(btn, btn.getAttribute("data-msg-wait") || "", false);
      flow(btn).then(function () {
        window.location.assign(btn.getAttribute("data-next") || window.location.pathname);
      }).catch(function (e) {
        btn.disabled = false;
        var res = e && e.res;
        if (res && res.body && res.body.error && res.body.error.code === "step_up_required") {
          window.location.assign("/stepup?next=" + encodeURIComponent(window.location.pathname));
          return;
        }
        var text = btn.getAttribute("data-msg-failed") || "";
        if (res && res.status === 429) {
          text = btn.getAttribute("data-msg-rate") || text;
        }
        message(btn, text, true);
        // For tests and support: what failed, without details of the key.
        document.documentElement.setAttribute("data-passkey-error",
          res ? res.status + " " + ((res.body && res.body.error && res.body.error.code) || "") : (e && e.name) || "error");
      });
    });
  });
})();
