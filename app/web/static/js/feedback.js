// Feedback and progress pages: clear a submitted draft, print button, keep tooltips on screen, select the private link.
(function () {
  "use strict";
  var clear = document.querySelector("[data-clear-draft]");
  if (clear) {
    try { window.localStorage.removeItem(clear.getAttribute("data-clear-draft")); } catch (e) { /* no storage: nothing to clear */ }
  }

  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // A tooltip near the right edge opens leftwards instead of running off a phone screen.
  function place(mark) {
    var tip = mark.querySelector(".tip");
    if (!tip) return;
    tip.classList.remove("flip");
    var rect = tip.getBoundingClientRect();
    if (rect.right > document.documentElement.clientWidth - 8) tip.classList.add("flip");
  }
  document.querySelectorAll("mark.hl").forEach(function (mark) {
    mark.addEventListener("mouseenter", function () { place(mark); });
    mark.addEventListener("focus", function () { place(mark); });
    mark.addEventListener("keydown", function (e) { if (e.key === "Escape") mark.blur(); });
  });
})();

// Printing shows everything: open folded lists first.
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
});

// Dates are sent in UTC; show them in the student's own time zone.
document.querySelectorAll("time[datetime]").forEach(function (t) {
  var d = new Date(t.getAttribute("datetime"));
  if (!isNaN(d)) t.textContent = d.toLocaleString([], { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
});
