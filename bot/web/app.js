// The web chat: every text is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("text");
  var session = localStorage.getItem("troly-session");
  if (!session) {
    // Unguessable: whoever knows a session id can read that conversation's staff answers.
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    session = "w" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    localStorage.setItem("troly-session", session);
  }

  function bubble(text, who) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    div.scrollIntoView({ block: "end" });
  }

  function disableOldButtons() {
    log.querySelectorAll(".buttons button").forEach(function (b) { b.disabled = true; });
  }

  function render(reply) {
    bubble(reply.text, reply.from === "staff" ? "bot staff" : "bot");
    if (reply.image) {
      var img = document.createElement("img");
      img.className = "reply";
      img.alt = "";
      img.src = reply.image;
      log.appendChild(img);
    }
    if (!reply.buttons || !reply.buttons.length) return;
    var box = document.createElement("div");
    box.className = "buttons";
    reply.buttons.forEach(function (b) {
      var el;
      if (b.action) {
        el = document.createElement("button");
        el.type = "button";
        el.addEventListener("click", function () { send({ action: b.action }, b.label); });
      } else {
        el = document.createElement("a");
        el.href = b.url ? b.url : "tel:" + String(b.phone).replace(/[^0-9+]/g, "");
        if (b.url) { el.target = "_blank"; el.rel = "noopener"; }
      }
      el.textContent = b.label;
      box.appendChild(el);
    });
    log.appendChild(box);
    box.scrollIntoView({ block: "end" });
  }

  var counter = 0;
  function newId() {
    counter += 1;
    return session.slice(-12) + "-" + Date.now().toString(36) + "-" + counter;
  }

  // A message the server kept (503, "retry") is sent again with the same id, waiting a little
  // longer each time; the server answers each id once, whatever happens in between.
  function post(payload, wait, told) {
    return fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (r) {
      return r.json().then(function (data) { return { status: r.status, data: data }; });
    }).then(function (answer) {
      if (answer.status === 503 && answer.data.retry) {
        if (!told) (answer.data.replies || []).forEach(render);
        return new Promise(function (resolve) { setTimeout(resolve, wait * 1000); })
          .then(function () { return post(payload, Math.min(wait * 2, 30), true); });
      }
      (answer.data.replies || []).forEach(render);
    });
  }

  function send(payload, shown) {
    if (shown) bubble(shown, "user");
    disableOldButtons();
    payload.session = session;
    payload.id = newId();
    return post(payload, 3, false)
      .catch(function () { bubble("Mất kết nối. Bạn thử lại sau ít phút nhé.", "bot"); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text }, text);
  });

  // Staff answers arrive with no request open: the history first, then live (server-sent events).
  var shown = {};
  var lastId = 0;
  function staffMessage(message) {
    if (!message.id || shown[message.id]) return;
    shown[message.id] = true;
    lastId = Math.max(lastId, message.id);
    render(message);
  }
  function listen() {
    if (!window.EventSource) return;
    var q = "?session=" + encodeURIComponent(session) + "&after=" + lastId;
    var source = new EventSource("/api/chat/events" + q);
    source.addEventListener("message", function (e) {
      try { staffMessage(JSON.parse(e.data)); } catch (err) { /* a broken event is skipped */ }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  var start = new URLSearchParams(location.search).get("start");
  send(start ? { start: start } : { text: "/start" })
    .then(function () {
      return fetch("/api/chat/history?session=" + encodeURIComponent(session))
        .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
        .then(function (data) { (data.messages || []).forEach(staffMessage); })
        .catch(function () {});
    })
    .then(listen);
})();
