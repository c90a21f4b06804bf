// Passkeys in the browser: register one (/account), sign in with one (/login, also through
// the address field's autofill), or use one as the second step (/login/two-factor).
// Served from this origin (the CSP allows no inline or outside script). The server sends
// the WebAuthn options as JSON with base64url strings; this turns them into the
// ArrayBuffers navigator.credentials wants, and the answer back into JSON.
(function () {
  "use strict";

  function toBytes(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: descriptors(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: descriptors(json.allowCredentials)
    });
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      out.response.userHandle = toText(response.userHandle);
    }
    return out;
  }

  function post(box, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var failure = new Error(data.message || "");
          failure.fromService = Boolean(data.message);
          throw failure;
        }
        return data;
      });
    });
  }

  function showError(box, error) {
    var place = box.querySelector("[data-passkey-error]");
    if (!place) return;
    // The words come from the page (in its language): the browser's own messages
    // are in the browser's language and name internals ("invalid domain").
    place.textContent = error && error.name === "NotAllowedError"
      ? place.getAttribute("data-not-used")
      : (error && error.fromService && error.message) || place.getAttribute("data-failed");
    place.hidden = false;
  }

  function go(data) {
    if (data && data.redirect) window.location.assign(data.redirect);
  }

  function supported(box) {
    if (window.PublicKeyCredential && navigator.credentials) return true;
    box.hidden = true;
    return false;
  }

  // /account: name it, create it, keep it.
  document.querySelectorAll("[data-passkey-register]").forEach(function (box) {
    if (!supported(box)) return;
    box.querySelector("[data-passkey-start]").addEventListener("click", function () {
      var name = box.querySelector("[data-passkey-name]");
      post(box, box.dataset.optionsUrl).then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }).then(function (credential) {
        return post(box, box.dataset.registerUrl, {
          credential: credentialJSON(credential), name: name ? name.value : ""
        });
      }).then(go).catch(function (error) { showError(box, error); });
    });
  });

  // /login: the button, and the address field's autofill (conditional mediation).
  document.querySelectorAll("[data-passkey-login]").forEach(function (box) {
    if (!supported(box)) return;
    var waiting = null;

    function signIn(mediation) {
      if (waiting) waiting.abort();
      var controller = new AbortController();
      waiting = controller;
      return post(box, box.dataset.optionsUrl).then(function (options) {
        var request = { publicKey: requestOptions(options), signal: controller.signal };
        if (mediation) request.mediation = mediation;
        return navigator.credentials.get(request);
      }).then(function (credential) {
        return post(box, box.dataset.loginUrl, {
          credential: credentialJSON(credential), return_to: box.dataset.returnTo || ""
        });
      }).then(go);
    }

    box.querySelector("[data-passkey-start]").addEventListener("click", function () {
      signIn(null).catch(function (error) { showError(box, error); });
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) {
          signIn("conditional").catch(function (error) {
            // Autofill the reader did not ask for: a failure stays quiet unless the
            // service itself refused (the button still offers the passkey).
            if (error && error.fromService) showError(box, error);
          });
        }
      });
    }
  });

  // /login/two-factor: a passkey instead of a code.
  document.querySelectorAll("[data-passkey-second-factor]").forEach(function (box) {
    if (!supported(box)) return;
    box.querySelector("[data-passkey-start]").addEventListener("click", function () {
      post(box, box.dataset.optionsUrl).then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      }).then(function (credential) {
        return post(box, box.dataset.verifyUrl, { credential: credentialJSON(credential) });
      }).then(go).catch(function (error) { showError(box, error); });
    });
  });
})();
