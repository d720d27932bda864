// Autosave the exam form a moment after each change; the Save button still works without it.
// Once the form is sent (Save or the final submit) no autosave is started any more: one that
// fired after the final submit would be refused (the paper is handed in).
(function () {
  var form = document.getElementById("paper");
  if (!form) return;
  var status = document.getElementById("autosave"), timer = null, sent = false;
  function save() {
    if (sent) return;
    fetch("/exam/save", {method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (d) { if (status) status.textContent = d.message; })
      .catch(function () { if (status) status.textContent = "Not saved: no connection."; });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(save, 1500); });
  form.addEventListener("submit", function () { clearTimeout(timer); sent = true; });
})();
