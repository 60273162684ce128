// Drag and drop onto a form that takes a file: the dropped file goes into the form's file
// input and the form is sent, as if chosen and submitted by hand. Without this script the
// form works the same with its own file input.
(function () {
  "use strict";
  function enhance(form) {
    var input = form.querySelector('input[type="file"]');
    var zone = form.querySelector("[data-dropzone-target]");
    if (!input || !zone) return;
    zone.hidden = false;
    function over(event) {
      event.preventDefault();
      zone.classList.add("dragging");
    }
    function leave() {
      zone.classList.remove("dragging");
    }
    form.addEventListener("dragenter", over);
    form.addEventListener("dragover", over);
    form.addEventListener("dragleave", leave);
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      leave();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || files.length === 0) return;
      input.files = files;
      zone.textContent = "Sending " + files[0].name + "…";
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  }
  document.querySelectorAll("form[data-dropzone]").forEach(enhance);
})();
