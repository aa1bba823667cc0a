/* The customer's card page: htmx polls the live part (public.card_live). The browser's cache
   revalidates with If-None-Match and the server answers 304 while the card is unchanged; the
   response then carries the same ETag, and nothing is swapped, so screen readers hear nothing. */
(function () {
  "use strict";

  document.addEventListener("htmx:beforeSwap", function (event) {
    var live = document.getElementById("card-live");
    if (!live || event.detail.target !== live) {
      return;
    }
    var etag = (event.detail.xhr.getResponseHeader("ETag") || "").replace(/"/g, "");
    if (event.detail.xhr.status === 304 || (etag && etag === live.dataset.etag)) {
      event.detail.shouldSwap = false;
      return;
    }
    live.dataset.etag = etag;
  });
})();
