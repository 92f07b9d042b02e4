// The staff console: live inbox (server-sent events), canned answers. Text only, never HTML
// built from data here: fragments come rendered (and escaped) by the server.
(function () {
  "use strict";

  function refresh(el) {
    if (!el || !el.dataset.src) return Promise.resolve();
    return fetch(el.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var wasAtBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        el.innerHTML = html;
        if (wasAtBottom) scrollThread();
      })
      .catch(function () {});
  }

  function scrollThread() {
    var list = document.querySelector(".thread");
    if (list && list.lastElementChild) list.lastElementChild.scrollIntoView({ block: "end" });
  }

  document.addEventListener("click", function (e) {
    var chip = e.target.closest("[data-insert]");
    if (!chip) return;
    var box = document.getElementById("answer-text");
    if (!box) return;
    box.value = box.value ? box.value + "\n" + chip.dataset.insert : chip.dataset.insert;
    box.focus();
  });

  var inbox = document.querySelector("[data-live]");
  if (inbox && window.EventSource) {
    var source = new EventSource(inbox.dataset.live);
    var seen = null;
    source.addEventListener("inbox", function (e) {
      if (seen === e.data) return;
      var first = seen === null;
      seen = e.data;
      if (first) return;  // the page was rendered fresh just now
      refresh(document.getElementById("inbox-list"));
      refresh(document.getElementById("thread"));
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  scrollThread();
})();
