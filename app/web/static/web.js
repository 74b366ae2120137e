// provhub lineage page: small progressive enhancements; every feature also works without script.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A collapsed group in the graph links to "#expand=<group id>": reload with ?expand=<group id>.
  function expand(group) {
    if (!/^g[0-9a-f]{12}$/.test(group)) { return; }
    var params = new URLSearchParams(window.location.search);
    if (params.getAll("expand").indexOf(group) < 0) { params.append("expand", group); }
    window.location.assign(window.location.pathname + "?" + params.toString() + "#lineage");
  }
  function hrefOf(a) {
    return a.getAttribute("href") || a.getAttributeNS("http://www.w3.org/1999/xlink", "href") || "";
  }
  document.addEventListener("click", function (event) {
    var a = event.target.closest && event.target.closest("a");
    if (!a) { return; }
    var href = hrefOf(a);
    if (href.indexOf("#expand=") === 0) {
      event.preventDefault();
      expand(href.slice("#expand=".length));
    }
  });
  if (window.location.hash.indexOf("#expand=") === 0) {
    expand(window.location.hash.slice("#expand=".length));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-toggle-fit]");
    var graph = document.querySelector("[data-graph]");
    if (!button || !graph) { return; }
    button.addEventListener("click", function () {
      var fit = graph.classList.toggle("fit");
      button.setAttribute("aria-pressed", fit ? "false" : "true");
      button.textContent = fit ? "Actual size" : "Fit to width";
    });
  });
}());
