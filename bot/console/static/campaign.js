// Campaign pages. Compose: each channel's length as you type and about how many messages a
// phone will show (the exact split is on the preview page, made by each channel's renderer).
// Campaign: live progress from the outbox, polled every second, without a reload.
(function () {
  "use strict";
  var text = document.querySelector("[data-compose]");
  if (text) {
    var counters = document.querySelectorAll("[data-counter]");
    var count = function () {
      var value = text.value.trim();
      counters.forEach(function (li) {
        var limit = Number(li.dataset.limit);
        // Telegram counts UTF-16 units (a JS string's length); the others count characters.
        var length = (li.hasAttribute("data-utf16") ? value.length : Array.from(value).length) +
          Number(li.dataset.extra || 0);
        li.querySelector("output").textContent = length;
        var pieces = Math.max(1, Math.ceil(length / limit));
        li.querySelector("[data-pieces]").textContent = pieces === 1 ? "1 tin" : "khoảng " + pieces + " tin";
        li.classList.toggle("over", pieces > 1);
      });
    };
    text.addEventListener("input", count);
    count();
  }
  var live = document.querySelector("[data-live]");
  if (!live) return;
  var bar = live.querySelector("progress");
  var badge = document.querySelector("[data-state]");
  var names = { scheduled: "Đã hẹn giờ", sending: "Đang gửi", paused: "Tạm dừng",
                finished: "Đã gửi xong", cancelled: "Đã huỷ" };
  var first = null;
  function show(p) {
    bar.max = p.total || 1;
    bar.value = p.done;
    live.querySelectorAll("[data-live-field]").forEach(function (el) {
      el.textContent = p[el.dataset.liveField];
    });
    if (badge && names[p.state]) badge.textContent = names[p.state];
    if (first === null) first = p.state;
    // Finished or stopped since the page was drawn: reload once for the reach tables.
    if (p.state !== first && (p.state === "finished" || p.state === "cancelled")) {
      location.reload();
      return true;
    }
    return false;
  }
  function poll() {
    fetch(live.dataset.live, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (p && show(p)) return;
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
