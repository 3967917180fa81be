// Review page: clicking a task (or a finding) highlights where the plan's text says it.
// No inline scripts (CSP): rows carry data-start / data-end offsets into the source text.
(function () {
  "use strict";

  var original = null; // the source text as the server rendered it

  function sourceBox() { return document.getElementById("source-text"); }

  function highlight(start, end) {
    var box = sourceBox();
    if (!box) { return false; }
    if (original === null) { original = box.textContent; }
    if (isNaN(start) || isNaN(end) || end <= start || start >= original.length) {
      box.textContent = original;
      return false;
    }
    var mark = document.createElement("mark");
    mark.className = "task-source";
    mark.dataset.testid = "source-highlight";
    mark.textContent = original.slice(start, end);
    box.replaceChildren(document.createTextNode(original.slice(0, start)), mark,
                        document.createTextNode(original.slice(end)));
    box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - 40);
    return true;
  }

  function select(row) {
    document.querySelectorAll("#task-table tr.selected").forEach(function (r) {
      r.classList.remove("selected");
    });
    row.classList.add("selected");
    highlight(parseInt(row.dataset.start, 10), parseInt(row.dataset.end, 10));
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("a, button, input, select, textarea, label, form, summary")) { return; }
    var row = target.closest("#task-table tr.task-row");
    if (row) { select(row); return; }
    var finding = target.closest(".finding[data-start]");
    if (finding) {
      var start = parseInt(finding.dataset.start, 10);
      var end = parseInt(finding.dataset.end, 10);
      highlight(start, isNaN(end) ? start + 40 : end);
    }
  });
})();
