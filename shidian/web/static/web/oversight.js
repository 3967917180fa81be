// Oversight pages: behaviour without inline scripts (the CSP forbids them).
(function () {
  "use strict";
  // A picker that reloads the page for the value chosen (the plan of a new notice).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });
})();
(function () {
  "use strict";
  // A picker whose options are addresses: go there (the plan of a new inspection round).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-navigate]") && field.value) {
      window.location.href = field.value;
    }
  });
})();
