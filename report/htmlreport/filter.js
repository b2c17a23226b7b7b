(function () {
  "use strict";
  var form = document.getElementById("filters");
  var checks = Array.prototype.slice.call(document.querySelectorAll("details.check"));
  if (!form) { return; }
  form.hidden = false;
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[data-state]"));
  var profile = document.getElementById("f-profile");
  var level = document.getElementById("f-level");
  var count = document.getElementById("f-count");
  function apply() {
    var states = {};
    boxes.forEach(function (b) { states[b.getAttribute("data-state")] = b.checked; });
    var p = profile.value, l = level.value, shown = 0;
    checks.forEach(function (c) {
      var ok = states[c.getAttribute("data-state")] !== false &&
        (!p || (" " + c.getAttribute("data-profiles") + " ").indexOf(" " + p + " ") >= 0) &&
        (!l || c.getAttribute("data-level") === l);
      c.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown + " von " + checks.length + " Prüfungen angezeigt";
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  document.getElementById("f-open").addEventListener("click", function () {
    checks.forEach(function (c) { if (!c.hidden) { c.open = true; } });
  });
  document.getElementById("f-close").addEventListener("click", function () {
    checks.forEach(function (c) { c.open = false; });
  });
  // Printing shows every check with its details open (and every exchange when "Austausche
  // ausklappen" is ticked), and restores the view afterwards.
  var printExchanges = document.getElementById("f-print-ex");
  printExchanges.addEventListener("change", function () {
    document.body.classList.toggle("print-exchanges", printExchanges.checked);
  });
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.slice.call(document.querySelectorAll(
      printExchanges.checked ? "details:not([open])" : "details:not([open]):not(.ex)"));
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });
  apply();
})();
