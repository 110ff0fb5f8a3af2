// Custos UI: progressive enhancement only. Every page works without this
// file; it never builds HTML from data (textContent only) and adds no
// inline handlers, so the strict CSP holds.
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";

  // Show times in the browser's own time zone.
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch (e) {
    fmt = null;
  }
  if (fmt) {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d.getTime())) {
        el.title = el.textContent;
        el.textContent = fmt.format(d);
      }
    });
  }

  // Re-run the list as soon as the sort order changes.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () {
      if (el.form) {
        el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
      }
    });
  });

  // "/" focuses the search box, as in many web apps.
  var hot = document.querySelector("[data-hotkey='/']");
  if (hot) {
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
      if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        hot.focus();
        hot.select();
      }
    });
  }

  // Confirmations fade away after a while; errors stay.
  document.querySelectorAll("[data-dismiss]").forEach(function (el) {
    setTimeout(function () { el.classList.add("is-hidden"); }, 6000);
  });

  // Prevent double submission of a form (a second click while the first
  // request is on its way).
  document.querySelectorAll("form[method='post']").forEach(function (form) {
    form.addEventListener("submit", function () {
      var btn = form.querySelector("button[type='submit']");
      if (btn) {
        setTimeout(function () { btn.disabled = true; }, 0);
      }
    });
  });
  // Coming back through the history cache must not leave them disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[method='post'] button[type='submit']").forEach(function (btn) {
      btn.disabled = false;
    });
  });
})();
