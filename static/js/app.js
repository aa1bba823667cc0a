/* Loyalty Portal: the one script every page loads (after htmx, both deferred). No inline script
   exists anywhere: the Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";

  if (window.htmx) {
    /* Refusals come back with their real status (403 wrong PIN, 429 cooldown, ...) and an error
       fragment that the server retargets to #messages (HX-Retarget). htmx ignores 4xx/5xx bodies by
       default; swap them, still flagged as errors so listeners can tell. */
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: true },
      { code: "...", swap: false }
    ];
  }

  /* A refused save shows an error summary at the top: move there (scrolls, and is read out). */
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  });

  /* Program setup: only the section of the chosen kind (stamps or points) is shown. */
  document.addEventListener("change", function (event) {
    if (event.target.name !== "program_type") {
      return;
    }
    document.querySelectorAll("[data-program-kind]").forEach(function (section) {
      section.hidden = section.getAttribute("data-program-kind") !== event.target.value;
    });
  });

  /* Every htmx request carries the CSRF token from <meta name="csrf-token"> as X-CSRFToken. */
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  /* A new message (success or refusal) should be seen and heard: bring it into view. */
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "messages") {
      event.detail.target.scrollIntoView({ block: "nearest" });
    }
    var autofocus = event.detail.target && event.detail.target.querySelector("[autofocus]");
    if (autofocus) {
      autofocus.focus();
    }
  });

  /* A successful swap elsewhere clears old messages, so a refusal never lingers next to a success. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var messages = document.getElementById("messages");
    if (messages && event.detail.target !== messages && !event.detail.isError) {
      messages.innerHTML = "";
    }
  });
})();
