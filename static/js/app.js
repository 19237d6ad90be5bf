// Ferry's small progressive enhancements. Every page works without them.
(function () {
  "use strict";

  // Dates: show in the viewer's locale; the absolute UTC time stays in the title.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = el.getAttribute("datetime");
      el.textContent = el.dataset.format === "date" ? d.toLocaleDateString() : d.toLocaleString();
    });
  }

  // Tables marked data-sortable: click (or Enter on) a header to sort by it.
  function sortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      if (th.dataset.nosort !== undefined) return;
      var label = th.textContent;
      th.classList.add("sortable");
      th.textContent = "";
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = label;
      th.appendChild(btn);
      btn.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellKey(a.cells[col]), y = cellKey(b.cells[col]);
          var r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  function cellKey(td) {
    if (!td) return "";
    var v = td.dataset.sort !== undefined ? td.dataset.sort : td.textContent.trim();
    var n = Number(String(v).replace(/,/g, ""));
    return v !== "" && !isNaN(n) ? n : v.toLowerCase();
  }

  // Inputs with data-filter="tableId": hide rows that do not contain the text.
  function filters(root) {
    root.querySelectorAll("input[data-filter]").forEach(function (input) {
      var table = document.getElementById(input.dataset.filter);
      var counter = document.getElementById(input.dataset.filter + "-count");
      if (!table) return;
      input.hidden = false;
      input.addEventListener("input", function () {
        var q = input.value.toLowerCase(), shown = 0;
        Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
          var hit = tr.textContent.toLowerCase().indexOf(q) >= 0;
          tr.hidden = !hit;
          if (hit) shown++;
        });
        if (counter) counter.textContent = shown.toLocaleString();
      });
    });
  }

  // Subgroup editor: "Add a subgroup" clones the last row.
  function subgroups(root) {
    root.querySelectorAll("[data-add-row]").forEach(function (btn) {
      var list = document.getElementById(btn.dataset.addRow);
      if (!list) return;
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var last = list.lastElementChild;
        if (!last) return;
        var row = last.cloneNode(true);
        var n = list.children.length + 1;
        row.querySelectorAll("input").forEach(function (i) {
          i.value = "";
          if (i.id) i.id = i.id.replace(/\d+$/, String(n));
        });
        row.querySelectorAll("label").forEach(function (l) {
          var f = l.getAttribute("for");
          if (f) l.setAttribute("for", f.replace(/\d+$/, String(n)));
          l.textContent = l.textContent.replace(/\d+/, String(n));
        });
        row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
        list.appendChild(row);
        row.querySelector("input").focus();
      });
    });
  }

  // Copy buttons for secrets shown once.
  function copyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (btn) {
      var src = document.getElementById(btn.dataset.copy);
      if (!src || !navigator.clipboard) return;
      btn.hidden = false;
      btn.addEventListener("click", function () {
        navigator.clipboard.writeText(src.textContent.trim()).then(function () { btn.textContent = "Copied"; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    document.querySelectorAll("table[data-sortable]").forEach(sortable);
    filters(document);
    subgroups(document);
    copyButtons(document);
  });
})();
