// The blind scoring form: every change is kept on the device (IndexedDB) first, then sent in
// order, one PUT per change, each with its own Idempotency-Key and the version the previous
// answer returned. Offline, changes wait; a 409 shows both values and lets the expert choose.
(function () {
  "use strict";
  var root = document.getElementById("scoring");
  if (!root) { return; }
  var id = Number(root.dataset.assignmentId);
  var editable = root.dataset.editable === "true";
  var page = JSON.parse(root.dataset.state);
  var indicator = root.querySelector("[data-save-state]");
  var message = root.querySelector("[data-message]");
  var csrf = root.dataset.csrf;
  var db = null;
  var queue = [];          // {seq, key, body:{scores?, comment?, confidence?, highlights?}, attempted}
  var local = null;        // {id, version, scores, comment, confidence, highlights}
  var flushing = false, timer = null, retryTimer = null, conflict = null, refused = false;
  // Every IndexedDB write goes through this one chain, in order: a queue entry's first write
  // (which gives it its key, "seq") always lands before any later write or delete of it, so
  // an entry is never stored twice, and "N changes waiting" counts only what is really stored.
  var writing = Promise.resolve();

  // ---- IndexedDB -------------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("tuiyou-rating", 1);
      request.onupgradeneeded = function () {
        var d = request.result;
        d.createObjectStore("queue", { keyPath: "seq", autoIncrement: true }).createIndex("assignment", "assignment");
        d.createObjectStore("local", { keyPath: "id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function tx(store, mode, work) {
    return new Promise(function (resolve, reject) {
      var t = db.transaction(store, mode), result;
      result = work(t.objectStore(store));
      t.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
      t.onerror = function () { reject(t.error); };
    });
  }
  function persist(work) {
    var done = writing.then(work);
    writing = done.catch(function () {});
    return done;
  }
  function saveLocal() {
    return persist(function () { return tx("local", "readwrite", function (s) { return s.put(local); }); });
  }
  function putEntry(entry) {
    return persist(function () {
      return tx("queue", "readwrite", function (s) { return s.put(entry); }).then(function (seq) {
        entry.seq = seq; return entry;
      });
    });
  }
  function dropEntry(entry) {
    return persist(function () { return tx("queue", "readwrite", function (s) { return s["delete"](entry.seq); }); });
  }
  function stored() { return queue.filter(function (e) { return e.seq !== undefined; }).length; }
  function loadQueue() {
    return tx("queue", "readonly", function (s) { return s.index("assignment").getAll(id); });
  }

  // ---- the indicator ---------------------------------------------------------------------
  function show(state, text) {
    indicator.dataset.saveState = state;
    indicator.dataset.pending = String(stored());   // changes kept on the device, not merely in memory
    indicator.textContent = text || {
      saved: root.dataset.msgSaved, saving: root.dataset.msgSaving,
      offline: root.dataset.msgOffline.replace("{n}", stored()), error: root.dataset.msgError
    }[state];
  }
  function say(text) {
    message.textContent = text || "";
    message.hidden = !text;
  }

  // ---- the controls ----------------------------------------------------------------------
  function paint() {
    root.querySelectorAll("[data-criterion]").forEach(function (field) {
      var value = local.scores[field.dataset.criterion];
      field.querySelectorAll("[data-value]").forEach(function (button) {
        button.setAttribute("aria-pressed", String(value !== undefined && Number(button.dataset.value) === value));
      });
      field.querySelector("[data-current]").textContent = value === undefined ? "—" : String(value);
    });
    root.querySelectorAll("[data-confidence-value]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.confidenceValue) === local.confidence));
    });
    root.querySelectorAll("[data-highlight]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(local.highlights.indexOf(button.dataset.highlight) >= 0));
    });
    root.querySelector("[data-version]").textContent = String(local.version);
    var comment = root.querySelector("[data-comment]");
    if (document.activeElement !== comment) { comment.value = local.comment || ""; }
  }

  function apply(body) {
    Object.keys(body.scores || {}).forEach(function (k) { local.scores[k] = body.scores[k]; });
    if ("comment" in body) { local.comment = body.comment; }
    if ("confidence" in body) { local.confidence = body.confidence; }
    if ("highlights" in body) { local.highlights = body.highlights.slice(); }
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return id + "-" + Date.now() + "-" + Math.random().toString(36).slice(2);
  }

  // One change → one queue entry (a comment typed in bursts merges into its unsent entry).
  function change(body, mergeable) {
    if (!editable) { return; }
    apply(body);
    paint();
    var last = queue[queue.length - 1];
    var merge = mergeable && last && !last.attempted && last.mergeable;
    var entry = merge ? last : { assignment: id, key: newKey(), body: {}, attempted: false, mergeable: mergeable };
    Object.keys(body).forEach(function (k) { entry.body[k] = body[k]; });
    if (!merge) { queue.push(entry); }
    // At once: the indicator must never still say "saved" while a change exists only in memory.
    if (!conflict && !refused) { show(navigator.onLine ? "saving" : "offline"); }
    Promise.all([putEntry(entry), saveLocal()]).then(function () {
      show(navigator.onLine ? "saving" : "offline");
      schedule(mergeable ? 800 : 250);
    });
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }

  // ---- sending ---------------------------------------------------------------------------
  function request(method, url, body, key, retried) {
    var headers = { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" };
    if (key) { headers["Idempotency-Key"] = key; }
    return fetch(url, { method: method, headers: headers, body: JSON.stringify(body || {}),
                        credentials: "same-origin", cache: "no-store", redirect: "error" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.status === 400 && data.error === "csrf" && !retried) {
            // A fresh token, then one more try; no token means the session has ended (401: log in again).
            return refreshCsrf().then(function (ok) {
              return ok ? request(method, url, body, key, true) : { status: 401, data: {} };
            });
          }
          return { status: response.status, data: data };
        });
      });
  }
  function refreshCsrf() {
    return fetch(root.dataset.csrfUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin",
                                         cache: "no-store", redirect: "error" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (d) { if (d.token) { csrf = d.token; } return Boolean(d.token); });
  }
  // The session has ended (logout, a password change, the idle or absolute limit): the changes stay
  // on the device, and the link brings the expert back to this form after logging in, where they sync.
  function askToLogIn() {
    show("error", root.dataset.msgLogin);
    message.textContent = root.dataset.msgLogin + " ";
    var link = document.createElement("a");
    link.href = root.dataset.loginUrl + "?next=" + encodeURIComponent(location.pathname);
    link.textContent = root.dataset.msgRelogin;
    link.dataset.relogin = "";
    message.appendChild(link);
    message.hidden = false;
  }

  function flush() {
    if (flushing || conflict || refused) { return; }
    if (!queue.length) { show(navigator.onLine ? "saved" : "offline"); return; }
    // The browser knows it is offline: keep the changes on the device until its "online" event.
    if (!navigator.onLine) { show("offline"); return; }
    flushing = true;
    var entry = queue[0];
    var first = entry.attempted ? Promise.resolve() : (entry.attempted = true, putEntry(entry));
    show("saving");
    first.then(function () {
      var body = Object.assign({}, entry.body, { version: local.version });
      return request("PUT", root.dataset.saveUrl, body, entry.key);
    }).then(function (answer) {
      flushing = false;
      if (answer.status === 200) {
        local.version = answer.data.version;
        root.querySelector("[data-version]").textContent = String(local.version);
        root.querySelector("[data-status-badge]").textContent = root.dataset.msgInProgress;
        queue.shift();
        return Promise.all([dropEntry(entry), saveLocal()]).then(function () {
          say("");
          if (queue.length) { flush(); } else { show("saved"); }
        });
      }
      if (answer.status === 409) { return showConflict(entry, answer.data); }
      if (answer.status === 401) { askToLogIn(); return; }
      // 422 / 423 / 404: the server refused this change; keep it on the device, say why.
      refused = true;
      show("error");
      say(answer.data.message || root.dataset.msgError);
    }).catch(function () {
      flushing = false;
      show("offline");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, 5000);
    });
  }

  // ---- 409: both values, the expert chooses -----------------------------------------------
  function showConflict(entry, server) {
    if (!("scores" in entry.body) && !("comment" in entry.body)) {
      return resolve("mine", entry, server);   // confidence or highlights: no value of the other tablet to weigh
    }
    var mine = entry.body.scores || {};
    var differs = Object.keys(mine).filter(function (k) { return server.scores[k] !== mine[k]; });
    if (!differs.length && !("comment" in entry.body && entry.body.comment !== server.comment)) {
      return resolve("server-same", entry, server);   // the server already holds these values
    }
    conflict = { entry: entry, server: server };
    var panel = root.querySelector("[data-conflict]");
    var rows = panel.querySelector("[data-conflict-rows]");
    rows.textContent = "";
    differs.forEach(function (k) {
      var field = root.querySelector('[data-criterion="' + k + '"]');
      var tr = document.createElement("tr");
      [field ? field.dataset.label : k, String(mine[k]),
       server.scores[k] === undefined ? "—" : String(server.scores[k])].forEach(function (text) {
        var td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    panel.hidden = false;
    show("error", root.dataset.msgConflict);
    panel.scrollIntoView({ block: "center" });
  }

  function resolve(choice, entry, server) {
    conflict = null;
    root.querySelector("[data-conflict]").hidden = true;
    local.version = server.version;
    var pending = queue.slice(choice === "mine" ? 0 : 1);
    // Start from the server's values, then lay every change still waiting on top.
    local.scores = Object.assign({}, server.scores);
    local.comment = server.comment || "";
    pending.forEach(function (e) { apply(e.body); });
    var work = [saveLocal()];
    if (choice === "mine") {
      entry.key = newKey();            // the refused save was never applied: a fresh key
      work.push(putEntry(entry));
    } else {
      queue.shift();
      work.push(dropEntry(entry));
    }
    paint();
    return Promise.all(work).then(flush);
  }

  // ---- submit, recuse, reopen --------------------------------------------------------------
  function act(url, body) {
    return request("POST", url, body).then(function (answer) {
      if (answer.status === 200) {
        // The reloaded page brings its confirmation into view and moves the focus to it.
        try { sessionStorage.setItem("tuiyou-confirm", String(id)); } catch (e) { /* private mode */ }
        if ("scrollRestoration" in history) { history.scrollRestoration = "manual"; }
        window.location.reload();
        return;
      }
      say(answer.data.message || root.dataset.msgError);
    }, function () { say(root.dataset.msgSyncFirst); });
  }

  // A handler that needs the device's state: run after start(), in the order the taps came.
  function whenStarted(handler) {
    return function (event) {
      var target = this;
      started.then(function () { handler.call(target, event); });
    };
  }

  function wire() {
    root.querySelectorAll("[data-criterion]").forEach(function (field) {
      field.querySelectorAll("[data-value]").forEach(function (button) {
        button.addEventListener("click", whenStarted(function () {
          var scores = {}; scores[field.dataset.criterion] = Number(button.dataset.value);
          if (local.scores[field.dataset.criterion] !== scores[field.dataset.criterion]) { change({ scores: scores }, false); }
        }));
      });
    });
    root.querySelectorAll("[data-confidence-value]").forEach(function (button) {
      button.addEventListener("click", whenStarted(function () {
        var value = Number(button.dataset.confidenceValue);
        change({ confidence: local.confidence === value ? null : value }, false);
      }));
    });
    root.querySelectorAll("[data-highlight]").forEach(function (button) {
      button.addEventListener("click", whenStarted(function () {
        var tag = button.dataset.highlight, tags = local.highlights.filter(function (t) { return t !== tag; });
        if (tags.length === local.highlights.length) { tags.push(tag); }
        change({ highlights: tags.sort() }, false);
      }));
    });
    var comment = root.querySelector("[data-comment]");
    comment.addEventListener("input", whenStarted(function () { change({ comment: comment.value }, true); }));
    root.querySelectorAll("[data-resolve]").forEach(function (button) {
      button.addEventListener("click", function () { resolve(button.dataset.resolve, conflict.entry, conflict.server); });
    });
    root.querySelector('[data-action="submit"]').addEventListener("click", whenStarted(function () {
      var missing = Array.prototype.filter.call(root.querySelectorAll("[data-criterion]"), function (f) {
        return local.scores[f.dataset.criterion] === undefined;
      });
      if (missing.length) { say(root.dataset.msgIncomplete); missing[0].scrollIntoView({ block: "center" }); return; }
      if (queue.length) { say(root.dataset.msgSyncFirst); flush(); return; }
      act(root.dataset.submitUrl);
    }));
    var dialog = root.querySelector("[data-recuse-dialog]");
    root.querySelector('[data-action="recuse"]').addEventListener("click", function () { dialog.showModal(); });
    root.querySelector("[data-recuse-form]").addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.value !== "confirm") { return; }
      var reason = root.querySelector("[data-recuse-reason]").value.trim();
      event.preventDefault();
      var said = root.querySelector("[data-recuse-message]");
      if (!reason) {            // asked for in place: the dialog stays open and says what is missing
        said.textContent = root.dataset.msgReason;
        said.hidden = false;
        root.querySelector("[data-recuse-reason]").focus();
        return;
      }
      said.hidden = true;
      dialog.close();
      act(root.dataset.recuseUrl, { reason: reason });
    });
    var reopen = root.querySelector('[data-action="reopen"]');
    if (reopen) { reopen.addEventListener("click", function () { act(root.dataset.reopenUrl); }); }
    window.addEventListener("online", whenStarted(function () { refused = false; flush(); }));
    window.addEventListener("offline", whenStarted(function () {
      if (!flushing && !conflict && !refused) { show("offline"); }
    }));
  }

  // ---- start: the page's values, then what this device holds ------------------------------
  function start() {
    return openDb().then(function (opened) {
      db = opened;
      return Promise.all([tx("local", "readonly", function (s) { return s.get(id); }), loadQueue()]);
    }).then(function (found) {
      var stored = found[0];
      queue = (found[1] || []).sort(function (a, b) { return a.seq - b.seq; });
      var fresh = { id: id, version: page.version, scores: Object.assign({}, page.scores),
                    comment: page.comment || "", confidence: page.confidence,
                    highlights: (page.highlights || []).slice() };
      if (stored && (queue.length || stored.version > page.version)) {
        local = stored;                // the device knows more than this (possibly cached) page
      } else {
        local = fresh;
      }
      queue.forEach(function (e) { apply(e.body); });
      paint();
      // A page kept by the service worker may predate the scores this device holds.
      if (root.dataset.status === "pending" && Object.keys(local.scores).length) {
        root.querySelector("[data-status-badge]").textContent = root.dataset.msgInProgress;
      }
      return saveLocal();
    }).then(function () {
      if (!editable) { queue = []; show("saved"); return; }
      if (queue.length) { show(navigator.onLine ? "saving" : "offline"); flush(); }
      else { show(navigator.onLine ? "saved" : "offline"); }
    });
  }

  // The service worker keeps this page and its assets so that it opens without a network.
  function keepOffline() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      if (!navigator.onLine || !window.caches) { return; }
      return caches.open("tuiyou-pages-v1").then(function (cache) {
        return fetch(location.pathname, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
          if (r.ok) { return cache.put(location.pathname, r); }
        });
      });
    }).then(function () { root.dataset.offlineReady = "true"; }, function () {});
  }

  // Right after submit, recuse or an explanation: the confirmation in view, the focus on it.
  function confirmAction() {
    var asked = false;
    try { asked = sessionStorage.getItem("tuiyou-confirm") === String(id); } catch (e) { /* private mode */ }
    var shown = root.querySelector("[data-confirmation][data-fresh]") || (asked && root.querySelector("[data-confirmation]"));
    if (!shown) { return; }
    try { sessionStorage.removeItem("tuiyou-confirm"); } catch (e) { /* private mode */ }
    var bring = function () { shown.focus({ preventScroll: true }); shown.scrollIntoView({ block: "center" }); };
    bring();
    if (document.readyState !== "complete") { window.addEventListener("load", bring); }
  }
  confirmAction();

  // The controls are wired at once; a tap that comes before the device's state is loaded waits
  // for it (in order) instead of being lost.
  var started = start();
  wire();
  started.then(function () { root.dataset.ready = "true"; keepOffline(); }, function (error) {
    show("error", String(error));
  });
})();
