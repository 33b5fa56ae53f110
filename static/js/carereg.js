// CareReg's only script: live totals on questionnaires. The server computes the saved total;
// this just spares the care manager adding up in their head. No inline scripts anywhere, so a
// strict Content Security Policy can forbid them.
(function () {
  "use strict";
  function updateTotal(fieldset) {
    var radios = fieldset.querySelectorAll("input[type=radio]:checked");
    var rows = fieldset.querySelectorAll("tbody tr").length;
    var total = 0;
    radios.forEach(function (radio) { total += parseInt(radio.value, 10); });
    var out = fieldset.querySelector("[data-live-total]");
    if (!out) { return; }
    if (radios.length === 0) { out.textContent = "–"; return; }
    out.textContent = total + (radios.length < rows ? " (" + (rows - radios.length) + " unanswered)" : "");
  }
  document.querySelectorAll("[data-score-form]").forEach(function (fieldset) {
    fieldset.addEventListener("change", function () { updateTotal(fieldset); });
    updateTotal(fieldset);
  });
})();
