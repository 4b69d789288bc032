// The progress board (评分进度): ask the server every few seconds whether the board changed
// (If-None-Match: a 304 while nothing did) and, when it did, replace the board's part in place:
// no reload, the window keeps its scroll position, and each scrolled table keeps its own.
(function () {
  "use strict";

  function keepScroll(root, change) {
    var kept = {};
    root.querySelectorAll("[data-keep-scroll][id]").forEach(function (el) {
      kept[el.id] = [el.scrollLeft, el.scrollTop];
    });
    var x = window.scrollX, y = window.scrollY;
    change();
    Object.keys(kept).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.scrollLeft = kept[id][0]; el.scrollTop = kept[id][1]; }
    });
    window.scrollTo(x, y);
  }

  function clock() {
    var d = new Date();
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(function (n) {
      return (n < 10 ? "0" : "") + n;
    }).join(":");
  }

  function startBoard(board) {
    var etag = board.dataset.etag ? '"' + board.dataset.etag + '"' : null;
    var every = Math.max(parseFloat(board.dataset.pollSeconds) || 10, 1) * 1000;
    var status = document.querySelector("[data-progress-status]");
    function poll() {
      var headers = etag ? { "If-None-Match": etag } : {};
      fetch(board.dataset.liveUrl, { headers: headers, credentials: "same-origin", cache: "no-cache" })
        .then(function (response) {
          if (response.status === 304) { return null; }
          if (!response.ok) { throw new Error(String(response.status)); }
          etag = response.headers.get("ETag") || etag;
          return response.text();
        })
        .then(function (html) {
          if (html !== null) { keepScroll(board, function () { board.innerHTML = html; }); }
          board.dataset.polls = String((parseInt(board.dataset.polls || "0", 10)) + 1);
          if (status) { status.textContent = board.dataset.checkedLabel + " " + clock(); }
        })
        .catch(function () {
          if (status) { status.textContent = board.dataset.offlineLabel; }
        })
        .then(function () { window.setTimeout(poll, every); });
    }
    window.setTimeout(poll, every);
  }

  function startCopy(button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.dataset.copy);
      text.select();
      var done = function () { button.textContent = button.dataset.copiedLabel; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("progress-board");
    if (board) { startBoard(board); }
    document.querySelectorAll("[data-copy]").forEach(startCopy);
  });
})();
