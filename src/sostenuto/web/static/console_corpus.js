// Follows a screening job's progress without reloading the page; the page reloads itself
// once the job is over (without JavaScript, a <noscript> refresh does the same).
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section) { return; }
  var url = section.getAttribute("data-progress-url");
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (job.state !== "screening") { window.location.reload(); return; }
        bar.value = job.done;
        text.textContent = job.done + " of " + job.total + " files screened.";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
