/* Hall big screen: refreshes its figures from the JSON endpoint every data-interval seconds. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) { return; }
  var url = main.getAttribute("data-source");
  var every = Math.max(5, parseInt(main.getAttribute("data-interval"), 10) || 60) * 1000;

  function pick(data, path) {
    return path.split(".").reduce(function (v, k) { return v == null ? v : v[k]; }, data);
  }
  function show(el, value) {
    if (value === null || value === undefined) { el.textContent = "—"; return; }
    if (el.getAttribute("data-format") === "percent") { el.textContent = Math.round(value * 100) + "%"; return; }
    el.textContent = String(value);
  }
  function rows(body, items) {
    while (body.firstChild) { body.removeChild(body.firstChild); }
    items.forEach(function (d) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = d.label;
      tr.appendChild(th);
      ["received", "completed", "late"].forEach(function (k) {
        var td = document.createElement("td");
        td.textContent = String(d[k]);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        document.querySelectorAll("[data-field]").forEach(function (el) {
          var name = el.getAttribute("data-field");
          if (name === "stale") { el.hidden = true; return; }
          show(el, pick(data, name));
        });
        var body = document.querySelector("[data-rows='departments']");
        if (body) { rows(body, data.departments || []); }
      })
      .catch(function () {
        var stale = document.querySelector("[data-field='stale']");
        if (stale) { stale.hidden = false; }
      });
  }
  window.setInterval(refresh, every);
})();
