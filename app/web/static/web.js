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

  // Leave blank search fields out of the URL.
  document.addEventListener("submit", function (event) {
    var fields = event.target.querySelectorAll("input[name], select[name]");
    Array.prototype.forEach.call(fields, function (field) {
      if (field.value === "" && field.type !== "radio" && field.type !== "checkbox") { field.disabled = true; }
    });
  });

  window.addEventListener("pageshow", function () {  // back to a page whose form was sent
    Array.prototype.forEach.call(document.querySelectorAll("form [disabled]"), function (field) {
      field.disabled = false;
    });
  });

  // Type in a filter box to show only the table rows that contain the text.
  document.addEventListener("input", function (event) {
    var box = event.target;
    var table = box.dataset && box.dataset.filterRows && document.querySelector(box.dataset.filterRows);
    if (!table) { return; }
    var wanted = box.value.trim().toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      row.hidden = wanted !== "" && row.textContent.toLowerCase().indexOf(wanted) < 0;
    });
  });

  // Scroll a graph shown at natural size so that the record of this page is in view.
  function centre(graph, svg) {
    var here = decodeURIComponent(window.location.pathname);
    var self = Array.prototype.filter.call(svg.querySelectorAll("a"), function (a) {
      try { return decodeURIComponent(hrefOf(a)) === here; } catch (e) { return false; }
    })[0];
    if (!self) { return; }
    var box = self.getBoundingClientRect(), frame = graph.getBoundingClientRect();
    graph.scrollLeft += box.left + box.width / 2 - (frame.left + frame.width / 2);
    graph.scrollTop += box.top + box.height / 2 - (frame.top + frame.height / 2);
  }

  // The graph is drawn at its natural size (scrollable); shrink it to the column when that
  // keeps its text readable, and let the reader switch.
  var MIN_SCALE = 0.6;
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-toggle-fit]");
    var graph = document.querySelector("[data-graph]");
    var svg = graph && graph.querySelector("svg");
    if (!button || !svg) { return; }
    function show(fit) {
      graph.classList.toggle("fit", fit);
      button.setAttribute("aria-pressed", fit ? "true" : "false");
    }
    var natural = svg.getBoundingClientRect().width;
    show(natural > 0 && graph.clientWidth / natural >= MIN_SCALE);
    centre(graph, svg);
    button.addEventListener("click", function () { show(!graph.classList.contains("fit")); });
  });
}());
