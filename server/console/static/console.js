// odatagw console: progressive enhancements only; every page works without it.
"use strict";
(function () {
  // Copy buttons: <button data-copy="ID"> copies the text of #ID.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    if (!navigator.clipboard) { return; }
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) { return; }
      navigator.clipboard.writeText(el.textContent).then(function () {
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = "Copy"; }, 1500);
      }, function () { b.textContent = "Copy failed"; });
    });
  });
  // The check takes a while: say so and prevent a second submission.
  var run = document.getElementById("run-check");
  if (run) {
    run.addEventListener("submit", function () {
      var b = run.querySelector("button");
      if (b) { b.disabled = true; b.textContent = "Running the check…"; }
    });
  }
  // Traffic: optional refresh every 5 seconds, remembered for the session.
  var auto = document.getElementById("auto-refresh");
  var label = document.getElementById("auto-refresh-label");
  if (auto && label) {
    auto.hidden = false; label.hidden = false;
    var on = false;
    try { on = sessionStorage.getItem("odatagw-auto-refresh") === "1"; } catch (e) { /* storage off */ }
    auto.checked = on;
    var timer = null;
    var arm = function () {
      if (timer) { clearTimeout(timer); timer = null; }
      if (auto.checked) { timer = setTimeout(function () { location.reload(); }, 5000); }
    };
    auto.addEventListener("change", function () {
      try { sessionStorage.setItem("odatagw-auto-refresh", auto.checked ? "1" : "0"); } catch (e) { /* storage off */ }
      arm();
    });
    arm();
  }
}());
