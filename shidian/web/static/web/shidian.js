// Page behaviour without inline scripts (the CSP forbids them).
(function () {
  "use strict";
  // A form submits once: a double click must not file a report twice. The server refuses
  // duplicates as well; this only spares the user the error.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted === "1") { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  }, true);
  // htmx forms stay on the page: let them submit again once the request is done.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (!form) { return; }
    form.dataset.submitted = "";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
})();
