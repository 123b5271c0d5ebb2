// Teacher pages: marking progress bars (polling the job's JSON), select-on-focus links, print buttons.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  var jobs = Array.prototype.slice.call(document.querySelectorAll("[data-job-url]"));
  if (!jobs.length) return;
  var POLL_MS = 400;
  var finished = 0;

  function poll(box) {
    var bar = box.querySelector("[data-job-bar]");
    var count = box.querySelector("[data-job-count]");
    var status = box.querySelector("[data-job-status]");
    fetch(box.getAttribute("data-job-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (p) {
        bar.value = p.percent;
        bar.textContent = p.percent + "%";
        count.textContent = p.done + " of " + p.total + " essays" + (p.failed ? " (" + p.failed + " could not be marked)" : "");
        if (p.status === "done") {
          box.classList.add("done");
          status.textContent = "Done: " + p.marked + " marked. Loading the results…";
          finished += 1;
          if (finished === jobs.length) {
            var url = window.location.pathname + "?done=" + encodeURIComponent(box.getAttribute("data-job")) + "#results";
            window.setTimeout(function () { window.location.replace(url); }, 300);
          }
          return;
        }
        status.textContent = p.percent + "% · the results appear below when it finishes; you can leave this page.";
        window.setTimeout(function () { poll(box); }, POLL_MS);
      })
      .catch(function () {
        status.textContent = "Lost touch with the server; retrying…";
        window.setTimeout(function () { poll(box); }, 2000);
      });
  }
  jobs.forEach(poll);
})();
