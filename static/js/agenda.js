// The agenda's order, changed in one step: drag a row by its handle, or (keyboard, or no mouse)
// "Move to top" and the arrows, which move the row in place and keep the focus on it. Each change
// posts the whole new order in one request; the questions typed meanwhile stay in their rows.
// Without this script the same buttons post the page and reload it.
(function () {
  "use strict";
  var list = document.getElementById("agenda");
  var form = document.getElementById("agenda-form");
  if (!list || !form || !list.dataset.reorderUrl) { return; }
  var status = document.getElementById("reorder-status");

  function rows() { return Array.prototype.slice.call(list.querySelectorAll("li[data-item]")); }

  function name(row) { return row.querySelector("a").textContent; }

  function refreshButtons() {
    var all = rows();
    all.forEach(function (row, index) {
      row.querySelectorAll("[data-move=top], [data-move=up]").forEach(function (b) { b.disabled = index === 0; });
      row.querySelectorAll("[data-move=down]").forEach(function (b) { b.disabled = index === all.length - 1; });
    });
  }

  function save(row) {
    var body = new URLSearchParams();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    rows().forEach(function (each) { body.append("item", each.dataset.item); });
    var place = rows().indexOf(row) + 1;
    return fetch(list.dataset.reorderUrl, {
      method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error(answer.error || "The new order was not saved."); }
        status.textContent = name(row) + " is now number " + place + "; the order is saved.";
        list.dataset.saved = String(Number(list.dataset.saved || 0) + 1);
      });
    }).catch(function (error) {
      status.textContent = error.message;
      window.alert(error.message + " The page will reload.");
      window.location.reload();
    });
  }

  function move(row, where) {
    if (where === "top") { list.insertBefore(row, list.firstElementChild); }
    if (where === "up" && row.previousElementSibling) { list.insertBefore(row, row.previousElementSibling); }
    if (where === "down" && row.nextElementSibling) { list.insertBefore(row.nextElementSibling, row); }
    refreshButtons();
    var focus = row.querySelector("[data-move=" + where + "]:not([disabled])") || row.querySelector("[data-move]:not([disabled])");
    if (focus) { focus.focus(); }
    return save(row);
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move]");
    if (!button) { return; }
    event.preventDefault();
    move(button.closest("li"), button.dataset.move);
  });

  // Only the handle starts a drag, so that text in the question boxes can still be selected.
  var dragged = null;
  list.addEventListener("mousedown", function (event) {
    var handle = event.target.closest(".agenda-handle");
    if (handle) { handle.closest("li").draggable = true; }
  });
  document.addEventListener("mouseup", function () { rows().forEach(function (row) { row.draggable = false; }); });
  list.addEventListener("dragstart", function (event) {
    dragged = event.target.closest && event.target.closest("li[data-item]");
    if (!dragged || !dragged.draggable) { dragged = null; return; }
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.item);
    dragged.classList.add("agenda-dragging");
  });
  list.addEventListener("dragover", function (event) {
    var over = event.target.closest("li[data-item]");
    if (!dragged || !over || over === dragged) { return; }
    event.preventDefault();
    var box = over.getBoundingClientRect();
    list.insertBefore(dragged, event.clientY < box.top + box.height / 2 ? over : over.nextElementSibling);
  });
  list.addEventListener("drop", function (event) { if (dragged) { event.preventDefault(); } });
  list.addEventListener("dragend", function () {
    if (!dragged) { return; }
    var row = dragged;
    dragged = null;
    row.classList.remove("agenda-dragging");
    row.draggable = false;
    refreshButtons();
    save(row);
  });
})();
