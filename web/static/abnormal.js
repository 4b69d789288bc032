// The chair's abnormal ratings: a written waiver is sent without leaving the place on the list.
// The answer (the list again, after the server's redirect or with its refusal) replaces only the
// waived flag and the status line; the focus goes to the waiver recorded, or to the refusal.
// Without this script the form posts as usual and the server brings the chair back to the flag.
(function () {
  "use strict";
  function replace(from, selector) {
    var fresh = from.querySelector(selector), old = document.querySelector(selector);
    if (fresh && old) { old.replaceWith(document.importNode(fresh, true)); }
    return document.querySelector(selector);
  }
  function wire(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var flag = form.closest("[data-flag]").dataset.flag;
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var answer = new DOMParser().parseFromString(html, "text/html");
          var row = answer.querySelector('[data-flag="' + flag + '"]');
          if (!row) { throw new Error("no such flag in the answer"); }
          replace(answer, "[data-abnormal-status]");
          var updated = replace(answer, '[data-flag="' + flag + '"]');
          updated.querySelectorAll("form[data-waive-form]").forEach(wire);
          var target = updated.querySelector("[data-waive-message]") || updated.querySelector(".waiver") || updated;
          target.focus({ preventScroll: true });
          target.scrollIntoView({ block: "nearest" });
        })
        .catch(function () { form.submit(); });   // the ordinary post: the server answers the whole page
    });
  }
  document.querySelectorAll("form[data-waive-form]").forEach(wire);
})();
