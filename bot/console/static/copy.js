// "Sao chép": copies the text of the element named by data-copy (the report's summary).
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var box = document.getElementById(button.dataset.copy);
    if (!box) return;
    var done = function () {
      var note = button.parentNode.querySelector("[data-copied]");
      if (note) note.hidden = false;
    };
    var fallback = function () {
      box.focus();
      box.select();
      try { if (document.execCommand("copy")) done(); } catch (err) {}
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(box.value).then(done, fallback);
    } else {
      fallback();
    }
  });
})();
