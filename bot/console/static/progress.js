// "Tất cả áp phích": follows the ZIP being built (a JSON file the server keeps current) and
// shows the download link when it is ready. Without script, reloading the page does the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress]");
  if (!box) return;
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var link = box.querySelector("[data-progress-done]");
  var failed = box.querySelector("[data-progress-failed]");
  function show(state) {
    bar.max = state.total || 1;
    bar.value = state.done || 0;
    text.textContent = state.done + "/" + state.total;
    if (state.state === "done") {
      link.hidden = false;
      if (state.failed && state.failed.length) {
        failed.textContent = "Không in được: " + state.failed.join(", ");
        failed.hidden = false;
      }
      return true;
    }
    if (state.state === "failed") {
      failed.textContent = "Không tạo được tệp ZIP: hãy thử lại.";
      failed.hidden = false;
      return true;
    }
    return false;
  }
  function poll() {
    fetch(box.dataset.progress, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (state && show(state)) return;
        setTimeout(poll, 700);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
