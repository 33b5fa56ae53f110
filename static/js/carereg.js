// CareReg's only script: live totals on questionnaires, review-session keys, folded sections on a phone. The server computes the saved total;
// this just spares the care manager adding up in their head. No inline scripts anywhere, so a
// strict Content Security Policy can forbid them.
(function () {
  "use strict";
  function updateTotal(fieldset) {
    var radios = fieldset.querySelectorAll("input[type=radio]:checked");
    var rows = fieldset.querySelectorAll("tbody tr, .item-row").length;
    var total = 0;
    radios.forEach(function (radio) { total += parseInt(radio.value, 10); });
    var out = fieldset.querySelector("[data-live-total]");
    if (!out) { return; }
    if (radios.length === 0) { out.textContent = "–"; return; }
    out.textContent = total + (radios.length < rows ? " (" + (rows - radios.length) + " unanswered)" : "");
  }
  // In a review session: "[" and "]" move to the previous and next patient, unless typing.
  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) || event.target.isContentEditable;
    if (typing || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var link = document.querySelector(event.key === "]" ? "[data-nav=next]" : event.key === "[" ? "[data-nav=previous]" : null);
    if (link) { window.location.href = link.href; }
  });
  document.querySelectorAll("[data-score-form]").forEach(function (fieldset) {
    fieldset.addEventListener("change", function () { updateTotal(fieldset); });
    updateTotal(fieldset);
  });
  // On a phone the patient page opens with its long sections (timeline, contact form) folded,
  // so that the safety facts, flags and episode come first; each opens with a tap or Enter.
  if (window.matchMedia("(max-width: 767.98px)").matches) {
    document.querySelectorAll("details[data-fold-on-phone]").forEach(function (section) { section.open = false; });
  }
})();
