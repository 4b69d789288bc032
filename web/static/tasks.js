// The expert's assignment list: filters apply as soon as they change; the service worker is
// registered here too so the list and the forms already opened stay available offline.
(function () {
  "use strict";
  document.querySelectorAll("[data-auto-submit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
})();
