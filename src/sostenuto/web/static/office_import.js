// The import job page, with JavaScript: poll the job's status and show its progress, then
// load the page again for the report (without JavaScript the page refreshes itself).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var bar = document.getElementById("progress");
  var percent = document.getElementById("percent");
  function poll() {
    fetch(box.getAttribute("data-status"), { headers: { accept: "application/json" }, credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : Promise.reject(answer.status); })
      .then(function (status) {
        if (status.state !== "running") { window.location.reload(); return; }
        bar.value = status.percent;
        bar.textContent = status.percent + " %";
        percent.textContent = status.percent + " %";
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
