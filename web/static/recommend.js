// Live count of ticked entries against the provincial cap; the server checks again on save.
(function () {
  var form = document.getElementById("recommend-form");
  if (!form) return;
  var tally = document.getElementById("tally");
  var count = document.getElementById("chosen-count");
  var over = document.getElementById("over-cap");
  var limit = tally.dataset.limit === "" ? null : Number(tally.dataset.limit);
  function update() {
    var n = form.querySelectorAll('input[name="work"]:checked').length;
    count.textContent = String(n);
    if (limit !== null) over.hidden = n <= limit;
  }
  form.addEventListener("change", update);
})();
