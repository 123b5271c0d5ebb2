// Rubric editor: add and remove rows, show the fields of the chosen scoring rule, and "Try it" as you type.
(function () {
  "use strict";
  var form = document.getElementById("rubric-form");
  if (!form) return;

  // -- rows ------------------------------------------------------------------------------
  function nextIndex(kind) {
    var max = -1;
    form.querySelectorAll('[data-row="' + kind + '"]').forEach(function (row) {
      var i = parseInt(row.getAttribute("data-index"), 10);
      if (!isNaN(i) && i > max) max = i;
    });
    return max + 1;
  }

  function addRow(kind) {
    var tpl = document.getElementById("tpl-" + kind);
    var box = document.getElementById("rows-" + kind);
    if (!tpl || !box) return;
    var i = nextIndex(kind);
    var count = form.querySelectorAll('[data-row="' + kind + '"]').length + 1;
    var html = tpl.innerHTML.split("__i__").join(String(i));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    var num = row.querySelector(".row-num");
    if (num) num.textContent = (kind === "misconceptions" ? "!" : "") + count;
    box.appendChild(row);
    wireRow(row);
    var first = row.querySelector("input[type=text], textarea");
    if (first) first.focus();
  }

  function wireRow(row) {
    row.querySelectorAll("[data-remove-row]").forEach(function (box) {
      box.addEventListener("change", function () { row.classList.toggle("removed", box.checked); schedule(); });
    });
    row.querySelectorAll("[data-title-from]").forEach(function (title) {
      var input = document.getElementById(title.getAttribute("data-title-from"));
      if (input) input.addEventListener("input", function () { title.textContent = input.value || "New item"; });
    });
  }

  form.querySelectorAll("[data-add]").forEach(function (button) {
    button.addEventListener("click", function (e) {
      e.preventDefault();
      addRow(button.getAttribute("data-add"));
    });
  });
  form.querySelectorAll("[data-row]").forEach(wireRow);

  // -- scoring rule ------------------------------------------------------------------------
  function showMethod() {
    var chosen = form.querySelector("[data-method]:checked");
    var method = chosen ? chosen.value : "levels";
    form.querySelectorAll("[data-when]").forEach(function (block) {
      block.hidden = block.getAttribute("data-when") !== method;
    });
  }
  form.querySelectorAll("[data-method]").forEach(function (r) { r.addEventListener("change", showMethod); });
  showMethod();

  // -- Try it ------------------------------------------------------------------------------
  var sample = document.getElementById("sample");
  var status = document.getElementById("try-status");
  var output = document.getElementById("try-output");
  var problems = document.getElementById("try-problems");
  var url = form.getAttribute("data-try-url");
  var timer = null, sent = 0;
  var STATES = { developed: "✓ explained", found: "◐ named", missing: "✗ missing" };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showErrors(errors) {
    form.querySelectorAll(".field-errors").forEach(function (slot) { slot.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (f) { f.removeAttribute("aria-invalid"); });
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var slot = form.querySelector('[data-error-for="' + name + '"]');
      if (!slot) { errors[name].forEach(function (m) { unplaced.push(m); }); return; }
      errors[name].forEach(function (m) { slot.appendChild(el("p", "field-error", m)); });
      var field = document.getElementById("f-" + name);
      if (field) field.setAttribute("aria-invalid", "true");
      var details = slot.closest("details");
      if (details) details.open = true;
    });
    return unplaced;
  }

  function render(data) {
    var score = document.getElementById("try-score");
    score.textContent = (data.level !== null && data.level !== undefined ? "Level " + data.level + " · " : "") +
      data.mark + "/" + data.max_mark + " · " + data.words + " words";
    document.getElementById("try-essay").innerHTML = data.html;  // built and escaped by the server
    var list = document.getElementById("try-concepts");
    list.textContent = "";
    var missing = data.concepts.filter(function (c) { return c.state === "missing"; });
    data.concepts.filter(function (c) { return c.state !== "missing"; }).forEach(function (c) {
      var li = el("li", "try-item state-" + c.state);
      li.appendChild(el("span", "num num-c" + ((c.number - 1) % 8), String(c.number)));
      var body = el("span", "try-body");
      body.appendChild(el("strong", "", c.label));
      body.appendChild(el("span", "try-state", STATES[c.state]));
      if (c.matched.length) {
        var words = el("span", "try-words");
        c.matched.forEach(function (w) { words.appendChild(el("code", "", w)); });
        body.appendChild(words);
      }
      li.appendChild(body);
      list.appendChild(li);
    });
    if (!data.concepts.some(function (c) { return c.state !== "missing"; })) list.appendChild(el("li", "muted", "No concept matched yet."));
    if (missing.length) {
      var rest = el("li", "try-missing");
      rest.appendChild(el("span", "try-state", "Not matched: "));
      rest.appendChild(document.createTextNode(missing.map(function (c) { return c.number + ". " + c.label; }).join(" · ")));
      list.appendChild(rest);
    }
    var mis = document.getElementById("try-misconceptions");
    mis.textContent = "";
    if (!data.misconceptions.length) mis.appendChild(el("li", "muted", "None matched."));
    data.misconceptions.forEach(function (m) {
      var li = el("li", "try-item state-mis");
      li.appendChild(el("span", "num num-mis", "!"));
      var body = el("span", "try-body");
      body.appendChild(el("strong", "", m.label));
      var words = el("span", "try-words");
      m.matched.forEach(function (w) { words.appendChild(el("code", "", w)); });
      body.appendChild(words);
      li.appendChild(body);
      mis.appendChild(li);
    });
    output.hidden = false;
  }

  function tryIt() {
    window.clearTimeout(timer);
    var mine = ++sent;
    status.textContent = "Checking…";
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("The server answered " + r.status + ".");
        return r.json();
      })
      .then(function (data) {
        if (mine !== sent) return;  // a newer check is on its way
        var unplaced = showErrors(data.errors || {});
        var general = (data.general || []).concat(unplaced);
        problems.hidden = !general.length && data.ok;
        problems.textContent = "";
        if (!data.ok) {
          problems.appendChild(el("strong", "", "Fix the problems marked in the form to try the rubric."));
          general.forEach(function (g) { problems.appendChild(el("p", "", g)); });
          output.hidden = true;
          status.textContent = "";
          return;
        }
        if (data.empty) { output.hidden = true; status.textContent = "Paste a paragraph to try."; return; }
        render(data);
        status.textContent = "Matched with the rubric as it is now (not saved).";
      })
      .catch(function (err) {
        if (mine !== sent) return;
        status.textContent = "Could not check: " + err.message;
      });
  }

  function schedule() {
    if (!sample.value.trim()) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(tryIt, 600);
  }

  document.getElementById("try-button").addEventListener("click", tryIt);
  sample.addEventListener("input", schedule);
  form.addEventListener("input", function (e) { if (e.target !== sample) schedule(); });
  form.addEventListener("change", function (e) { if (e.target !== sample) schedule(); });
  if (sample.value.trim()) tryIt();
})();
