// Orgs pages: ask before destructive clicks (remove an alias, unlock an account).
(function () {
  "use strict";
  // Runs in the capture phase on window, before shidian.js marks the form as submitted, so a
  // cancelled confirmation leaves the form usable.
  window.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.dataset ? form.dataset.confirm : "";
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
})();
