/*
 * 通办 page behaviour. Loaded with `defer` on every page; the CSP allows only our own scripts,
 * so everything that would otherwise be inline lives here. Pages work without it.
 *  1. htmx requests carry the CSRF token (X-CSRFToken header).
 *  2. The 朗读 (read-aloud) button reads <main> with the browser's speechSynthesis (zh-CN).
 */
(function () {
  "use strict";

  // ---- 1. CSRF token for htmx -------------------------------------------------------------
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      return meta.content;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // ---- 2. Read aloud (朗读) ------------------------------------------------------------------
  var synth = window.speechSynthesis;
  var buttons = document.querySelectorAll("[data-read-aloud]");
  if (!buttons.length || !synth || typeof window.SpeechSynthesisUtterance !== "function") {
    return; // The buttons keep their `hidden` attribute.
  }

  var speaking = false;

  // Chrome stops long utterances after about 15 seconds, so speak sentence-sized pieces.
  function chunks(text) {
    var pieces = text.replace(/\s+/g, " ").split(/(?<=[。！？；!?;\n])/);
    var out = [];
    var current = "";
    pieces.forEach(function (piece) {
      if ((current + piece).length > 160 && current) {
        out.push(current);
        current = "";
      }
      current += piece;
    });
    if (current.trim()) {
      out.push(current);
    }
    return out;
  }

  function chineseVoice() {
    var voices = synth.getVoices() || [];
    for (var i = 0; i < voices.length; i += 1) {
      if (/^zh[-_]CN/i.test(voices[i].lang)) {
        return voices[i];
      }
    }
    return null;
  }

  function setState(on) {
    speaking = on;
    buttons.forEach(function (button) {
      button.classList.toggle("is-active", on);
      var label = button.querySelector("[data-read-aloud-label]") || button;
      label.textContent = on ? "停止朗读" : "朗读";
    });
  }

  function stop() {
    synth.cancel();
    setState(false);
  }

  function readMain() {
    var main = document.querySelector("main");
    if (!main) {
      return;
    }
    // innerText gives the rendered text: hidden elements are skipped, line breaks kept.
    var parts = chunks(main.innerText || "");
    if (!parts.length) {
      return;
    }
    var voice = chineseVoice();
    synth.cancel();
    setState(true);
    parts.forEach(function (part, index) {
      var utterance = new window.SpeechSynthesisUtterance(part);
      utterance.lang = "zh-CN";
      utterance.rate = 0.9; // a little slower: the mode is for older readers
      if (voice) {
        utterance.voice = voice;
      }
      if (index === parts.length - 1) {
        utterance.onend = function () { setState(false); };
      }
      utterance.onerror = function () { setState(false); };
      synth.speak(utterance);
    });
  }

  buttons.forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      if (speaking) {
        stop();
      } else {
        readMain();
      }
    });
  });

  window.addEventListener("pagehide", function () { synth.cancel(); });
})();
