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


  // The matrix: rows save in place (the server answers with the new row),
  // Enter saves and moves down, Ctrl+Up/Down moves between rows.
  function matrixGrid(root) {
    var table = root.querySelector("table[data-grid]");
    if (!table) return;
    var status = document.createElement("p");
    status.className = "grid-status";
    status.setAttribute("role", "status");
    var wrap = table.closest(".matrix-wrap") || table;
    wrap.parentNode.insertBefore(status, wrap);

    function rowOf(el) { return el.closest("tr"); }
    function cellsOfColumn(name) {
      return Array.prototype.slice.call(table.querySelectorAll(".cell[name='" + name + "']"));
    }
    function move(el, step) {
      var list = cellsOfColumn(el.name);
      var i = list.indexOf(el);
      var next = list[i + step];
      if (next) next.focus();
    }
    function save(form, then) {
      var row = document.getElementById(form.id.replace(/^f-/, ""));
      var data = new FormData(form);
      fetch(form.action, { method: "POST", body: data, headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (res) {
          var err = res.headers.get("X-Ferry-Error");
          return res.text().then(function (html) { return { ok: res.ok, err: err, html: html }; });
        })
        .then(function (r) {
          var tpl = document.createElement("template");
          tpl.innerHTML = r.html.trim();
          var fresh = tpl.content.querySelector("tr");
          if (fresh && row) {
            row.replaceWith(fresh);
            localTimes(fresh);
          }
          status.textContent = r.err ? "Not saved: " + r.err : "Saved.";
          status.className = "grid-status " + (r.err ? "error" : "ok");
          if (then) then(fresh);
        })
        .catch(function () {
          status.textContent = "Not saved: the server could not be reached. Your change is still in the row.";
          status.className = "grid-status error";
        });
    }
    table.addEventListener("submit", function (e) {
      var form = e.target;
      if (!form.matches("form[data-inline-row]")) return;
      e.preventDefault();
      save(form);
    });
    table.addEventListener("change", function (e) {
      var el = e.target;
      if (!el.classList.contains("cell") || !el.form) return;
      save(el.form);
    });
    table.addEventListener("keydown", function (e) {
      var el = e.target;
      if (!el.classList.contains("cell") || el.tagName === "BUTTON") return;
      if (e.key === "Enter" && el.tagName === "INPUT") {
        e.preventDefault();
        var name = el.name, list = cellsOfColumn(name), i = list.indexOf(el);
        save(el.form, function () {
          var again = cellsOfColumn(name);
          if (again[i + 1]) again[i + 1].focus();
        });
      } else if (e.ctrlKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        move(el, e.key === "ArrowDown" ? 1 : -1);
      }
    });
  }

  // The transformation editor previews on the field's samples as it is typed.
  function transformPreview(root) {
    var form = root.querySelector("#row-form");
    var input = root.querySelector("#f-transform");
    var target = root.querySelector("#transform-preview");
    if (!form || !input || !target) return;
    var url = form.getAttribute("data-preview");
    if (!url) return;
    var timer;
    function refresh() {
      var data = new FormData(form);
      fetch(url, { method: "POST", body: data, headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (res) { return res.text(); })
        .then(function (html) {
          var tpl = document.createElement("template");
          tpl.innerHTML = html.trim();
          var fresh = tpl.content.querySelector("#transform-preview");
          var current = document.getElementById("transform-preview");
          if (fresh && current) current.replaceWith(fresh);
        });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    var fieldSelect = root.querySelector("#f-source_field_id");
    if (fieldSelect) fieldSelect.addEventListener("change", refresh);
  }

  // Extract uploads show their progress: the form is sent with
  // XMLHttpRequest, whose upload reports it. The server answers such a
  // request with where to go once the extract is staged, or with the page
  // whose form carries the messages when it is refused. Without script the
  // form posts as usual.
  function uploads(root) {
    root.querySelectorAll("form[data-upload]").forEach(uploadForm);
  }
  function uploadForm(form) {
    form.addEventListener("submit", function (e) {
      if (!window.FormData || !window.XMLHttpRequest || !window.DOMParser) return;
      e.preventDefault();
      var bar = form.querySelector(".upload-progress");
      var status = form.querySelector(".upload-status");
      var button = form.querySelector("button[type=submit]");
      var xhr = new XMLHttpRequest();
      function say(text) { if (status) status.textContent = text; }
      // A file over the limit is refused here, before it is sent at all.
      var file = form.querySelector("input[type=file]");
      var most = Number(form.dataset.maxBytes || 0);
      if (file && file.files && file.files[0] && most > 0 && file.files[0].size > most) {
        say("The file is larger than the " + Math.floor(most / 1048576).toLocaleString() + " MB this console takes: nothing was sent. Stage it with `ferry stage`.");
        return;
      }
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "fetch");
      xhr.upload.addEventListener("progress", function (ev) {
        if (!ev.lengthComputable || !bar) return;
        var pct = Math.floor(ev.loaded * 100 / ev.total);
        bar.hidden = false;
        bar.value = pct;
        say(pct < 100 ? "Uploading: " + pct + "%" : "Uploaded. Checking the file…");
      });
      xhr.upload.addEventListener("load", function () {
        if (bar) { bar.hidden = false; bar.value = 100; }
        say("Uploaded. Checking the file…");
      });
      xhr.addEventListener("load", function () {
        var to = xhr.getResponseHeader("X-Ferry-Location");
        if (xhr.status === 204 && to) {
          var u = new URL(to, window.location.href);
          if (u.pathname + u.search === window.location.pathname + window.location.search) {
            window.location.hash = u.hash;
            window.location.reload();
          } else {
            window.location.assign(u.href);
          }
          return;
        }
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var fresh = doc.getElementById(form.id);
        if (fresh) {
          var node = document.importNode(fresh, true);
          form.replaceWith(node);
          localTimes(node);
          uploadForm(node);
          var invalid = node.querySelector("[aria-invalid=true]") || node.querySelector("input[type=file]");
          if (invalid) invalid.focus();
          return;
        }
        var h1 = doc.querySelector("h1");
        say("The upload was refused (" + xhr.status + "): " + (h1 ? h1.textContent.trim() : "reload the page and try again") + " Nothing was staged.");
        if (button) button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        say("The upload failed: the server could not be reached. Nothing was staged.");
        if (button) button.disabled = false;
      });
      if (button) button.disabled = true;
      say("Uploading…");
      xhr.send(new FormData(form));
    });
  }

  // Background jobs (stagings, validations) show their progress live: the
  // panel of an active job (data-job-poll) is replaced by a fresh copy from
  // the server every second. Once the job has ended, the page is reloaded to
  // show what it produced, unless the person is typing in a form. Without
  // script, the panel's link refreshes the page.
  function jobPanels(root) {
    root.querySelectorAll("[data-job-poll]").forEach(pollJob);
  }
  function pollJob(panel) {
    var id = panel.id, failures = 0;
    function quiet(p) {
      var link = p.querySelector(".job-refresh");
      if (link) link.hidden = true;
    }
    quiet(panel);
    function tick() {
      var current = document.getElementById(id);
      if (!current) return;
      fetch(current.getAttribute("data-job-poll"), { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin", cache: "no-store" })
        .then(function (res) {
          if (!res.ok) throw new Error("status " + res.status);
          return res.text();
        })
        .then(function (html) {
          failures = 0;
          var tpl = document.createElement("template");
          tpl.innerHTML = html.trim();
          var fresh = tpl.content.firstElementChild;
          var now = document.getElementById(id);
          if (!fresh || !now) return;
          now.replaceWith(fresh);
          localTimes(fresh);
          if (fresh.hasAttribute("data-job-poll")) {
            quiet(fresh);
            setTimeout(tick, 1000);
            return;
          }
          var typing = document.activeElement && document.activeElement.form && !fresh.contains(document.activeElement);
          if (!typing) {
            document.documentElement.setAttribute("data-job-reloading", id);
            window.location.reload();
          }
        })
        .catch(function () {
          failures++;
          var now = document.getElementById(id);
          var note = now && now.querySelector(".job-message");
          if (note && !now.querySelector(".job-lost")) {
            var lost = document.createElement("span");
            lost.className = "job-lost error";
            lost.textContent = " The server cannot be reached right now; trying again.";
            note.appendChild(lost);
          }
          setTimeout(tick, Math.min(30000, 1000 * Math.pow(2, failures)));
        });
    }
    setTimeout(tick, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    document.querySelectorAll("table[data-sortable]").forEach(sortable);
    filters(document);
    subgroups(document);
    copyButtons(document);
    matrixGrid(document);
    transformPreview(document);
    uploads(document);
    jobPanels(document);
  });
})();
