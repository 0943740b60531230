// Rivesto's own start-up script (the CSP forbids inline scripts). Bootstrap Italia's bundle
// initialises its components from their data-bs-* attributes on load; this file re-initialises
// those that htmx swaps in later, and keeps focus where a keyboard user expects it.
(function () {
  "use strict";

  // Components inside a fragment that htmx has just inserted.
  function inizializza(radice) {
    if (!window.bootstrap) {
      return;
    }
    radice.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      window.bootstrap.Tooltip.getOrCreateInstance(el);
    });
    radice.querySelectorAll('[data-bs-toggle="collapse"]').forEach(function (el) {
      window.bootstrap.Collapse.getOrCreateInstance(
        document.querySelector(el.getAttribute("data-bs-target")) || el,
        { toggle: false }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // A page that opens on an error summary moves focus there, so a screen reader reads it
    // first and the keyboard starts from the list of fields to fix.
    var riepilogo = document.querySelector("[data-riepilogo-errori]");
    if (riepilogo) {
      riepilogo.setAttribute("tabindex", "-1");
      riepilogo.focus();
    }
  });

  // The request page polls its state; the live region that announces progress is replaced
  // only when its text changes, so a screen reader does not repeat the same announcement.
  document.addEventListener("htmx:oobBeforeSwap", function (evento) {
    var bersaglio = evento.detail.target;
    var nuovo = evento.detail.fragment;
    if (
      bersaglio &&
      bersaglio.id === "avanzamento-annuncio" &&
      nuovo &&
      nuovo.textContent.trim() === bersaglio.textContent.trim()
    ) {
      evento.detail.shouldSwap = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (evento) {
    inizializza(evento.target);
  });
})();
