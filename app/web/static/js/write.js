// Write page: live word count, drafts kept in this browser (localStorage), upload notes.
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  var area = form.querySelector("textarea[name=essay]");
  var count = document.getElementById("word-count");
  var status = document.getElementById("draft-status");
  var file = form.querySelector("input[type=file]");
  var fileNote = document.getElementById("file-note");
  var key = form.getAttribute("data-draft-key");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
  var MIN_WORDS = 20, MAX_WORDS = 20000;

  function words(text) {
    // Same idea as the marker: whitespace-separated words that contain a letter or digit.
    var n = 0;
    text.split(/\s+/).forEach(function (w) { if (/[\p{L}\p{N}]/u.test(w)) n++; });
    return n;
  }

  function showCount() {
    var n = words(area.value);
    var text = n.toLocaleString() + (n === 1 ? " word" : " words");
    if (n > MAX_WORDS) text += " (over the " + MAX_WORDS.toLocaleString() + "-word limit)";
    else if (n > 0 && n < MIN_WORDS) text += " (write at least " + MIN_WORDS + " for useful feedback)";
    count.textContent = text;
    count.classList.toggle("warn", n > MAX_WORDS);
  }

  function store() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function time(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  var timer = null;
  function save() {
    var s = store();
    if (!s) return;
    try {
      if (area.value.trim()) s.setItem(key, JSON.stringify({ text: area.value, savedAt: Date.now() }));
      else s.removeItem(key);
      status.textContent = area.value.trim() ? "Draft saved in this browser at " + time(Date.now()) + "." : "";
    } catch (e) {
      status.textContent = "This browser cannot keep a draft: copy your work somewhere safe.";
    }
  }

  function restore() {
    var s = store();
    if (!s) return;
    var saved = null;
    try { saved = JSON.parse(s.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved || typeof saved.text !== "string" || !saved.text.trim() || saved.text === area.value) return;
    var original = area.value;
    area.value = saved.text;
    status.textContent = "Restored your unsaved draft from " + time(saved.savedAt) + ". ";
    if (original.trim()) {
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "linkish";
      undo.textContent = "Use the last submitted version instead";
      undo.addEventListener("click", function () {
        area.value = original;
        showCount();
        save();
      });
      status.appendChild(undo);
    }
  }

  restore();
  showCount();
  area.addEventListener("input", function () {
    showCount();
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 400);
  });
  window.addEventListener("pagehide", save);

  if (file) {
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      fileNote.hidden = !chosen;
      if (chosen && chosen.size > maxBytes) {
        fileNote.textContent = chosen.name + " is larger than 2 MB and cannot be marked. Paste the essay into the box instead.";
        fileNote.classList.add("warn");
      } else if (chosen) {
        fileNote.textContent = chosen.name + " will be marked instead of the text box.";
        fileNote.classList.remove("warn");
      }
    });
  }
})();
