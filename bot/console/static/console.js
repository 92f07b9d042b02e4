// The staff console: live inbox (server-sent events), canned answers. Text only, never HTML
// built from data here: fragments come rendered (and escaped) by the server.
(function () {
  "use strict";

  // Two quick events can make two fetches whose answers cross: only the latest one is shown.
  function refresh(el) {
    if (!el || !el.dataset.src) return Promise.resolve();
    var ticket = (el.refreshes = (el.refreshes || 0) + 1);
    return fetch(el.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null || ticket !== el.refreshes) return;
        var list = el.querySelector(".thread");
        var wasAtBottom = !list || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
        el.innerHTML = html;
        if (wasAtBottom) scrollThread();
      })
      .catch(function () {});
  }

  // Only the thread's own box scrolls: the page (and a half-typed answer) stays where it is.
  function scrollThread() {
    var list = document.querySelector(".thread");
    if (list) list.scrollTop = list.scrollHeight;
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
    var seen = inbox.dataset.version;  // what the page showed when it was rendered
    source.addEventListener("inbox", function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      var list = document.getElementById("inbox-list");
      if (list && typeof data.html === "string") {
        list.innerHTML = data.html;  // rendered and escaped by the server
        var current = list.querySelector('[data-handoff="' + inbox.dataset.current + '"]');
        if (current) current.parentNode.classList.add("current");
      }
      if (String(data.version) === seen) return;
      seen = String(data.version);
      refresh(document.getElementById("thread"));
    });
    // Closed for good (the server said no: logged out, password changed): the list is no
    // longer live, so say so rather than show a stale list as if it were.
    source.addEventListener("error", function () {
      var lost = document.getElementById("live-lost");
      if (source.readyState === EventSource.CLOSED && lost) lost.hidden = false;
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  scrollThread();

  // On a phone the page links are a bar that scrolls sideways: show the current one.
  var here = document.querySelector('.nav [aria-current="page"]');
  if (here && here.scrollIntoView) here.scrollIntoView({ block: "nearest", inline: "nearest" });
})();
