// Behaviour of the case pages (no inline scripts: the CSP forbids them).
(function () {
  "use strict";

  // Printable pages (archive cover, notice boards): a print button.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { window.print(); }
  });

  // Duplicate review: the merge buttons say which case stays.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-keep]");
    if (!button) { return; }
    var input = button.form && button.form.querySelector("[data-keep-input]");
    if (input) { input.value = button.dataset.keep; }
  });

  // Progress bars: width from data-percent (style attributes are not allowed in the markup).
  function bars(root) {
    (root || document).querySelectorAll("[data-percent]").forEach(function (bar) {
      var percent = Math.max(0, Math.min(100, parseInt(bar.dataset.percent, 10) || 0));
      bar.style.width = percent + "%";
    });
  }

  // New programme: the chosen standard decides the case type and which parameters are sent.
  function standards() {
    var select = document.querySelector("[data-case-table]");
    if (!select) { return; }
    var typeInput = document.querySelector("[data-case-type-input]");
    function show() {
      var option = select.options[select.selectedIndex];
      if (typeInput && option) { typeInput.value = option.dataset.caseType; }
      document.querySelectorAll("[data-table-params]").forEach(function (set) {
        var on = set.dataset.tableParams === select.value;
        set.hidden = !on;
        set.disabled = !on;
      });
    }
    select.addEventListener("change", show);
    show();
  }

  document.addEventListener("DOMContentLoaded", function () { bars(); standards(); });
  document.addEventListener("htmx:afterSwap", function (event) { bars(event.target); });
})();
