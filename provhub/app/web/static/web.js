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

  function ownNode(svg) {  // the link of the node drawn for this page's record
    var here = decodeURIComponent(window.location.pathname);
    return Array.prototype.filter.call(svg.querySelectorAll("a"), function (a) {
      try { return decodeURIComponent(hrefOf(a)) === here; } catch (e) { return false; }
    })[0];
  }

  // Pan and zoom over the graph (svg-pan-zoom, vendored in static/vendor): it opens fitted to its
  // frame, and zoomed in on this page's record when fitting would make the text too small to read.
  // on-screen pixels per SVG point (Graphviz draws in points) below which its 8 and 10 pt labels
  // are too small to read
  var READABLE = 0.9;
  document.addEventListener("DOMContentLoaded", function () {
    var graph = document.querySelector("[data-graph]");
    var svg = graph && graph.querySelector("svg");
    if (!svg || typeof window.svgPanZoom !== "function") { return; }
    var started = window.performance.now();
    graph.classList.add("pan");
    svg.style.overflow = "hidden";  // else svg-pan-zoom sets a style attribute, which the CSP forbids
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    // the frame fills the screen below its top, so that the graph opens whole in view
    // (or most of the screen when it starts below the first screen, under a product's summary)
    var top = graph.getBoundingClientRect().top + window.scrollY, screen = window.innerHeight;
    graph.style.height = Math.max(360, top < screen / 2 ? screen - top - 12 : 0.85 * screen) + "px";
    var pz = window.svgPanZoom(svg, {
      controlIconsEnabled: false, dblClickZoomEnabled: false, fit: true, center: true,
      minZoom: 0.05, maxZoom: 40, zoomScaleSensitivity: 0.3
    });
    function readable() {
      pz.fit();
      pz.center();
      var self = ownNode(svg), sizes = pz.getSizes();
      if (sizes.realZoom > 1) { pz.zoom(pz.getZoom() / sizes.realZoom); return; }  // never above natural size
      if (sizes.realZoom >= READABLE) { return; }
      var frame = svg.getBoundingClientRect(), point = {x: frame.width / 2, y: frame.height / 2};
      if (self) {
        var box = self.getBoundingClientRect();
        point = {x: box.left + box.width / 2 - frame.left, y: box.top + box.height / 2 - frame.top};
      }
      pz.zoomAtPoint(READABLE / sizes.realZoom * pz.getZoom(), point);
    }
    readable();
    var actions = {
      "in": function () { pz.zoomIn(); },
      "out": function () { pz.zoomOut(); },
      "fit": function () { pz.fit(); pz.center(); },
      "reset": readable
    };
    Array.prototype.forEach.call(document.querySelectorAll("[data-zoom]"), function (button) {
      button.addEventListener("click", function () { actions[button.dataset.zoom](); });
    });
    graph.addEventListener("keydown", function (event) {
      var step = 60, moves = {ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step]};
      if (event.key === "+" || event.key === "=") { pz.zoomIn(); }
      else if (event.key === "-") { pz.zoomOut(); }
      else if (event.key === "0") { actions.fit(); }
      else if (moves[event.key] && event.target === graph) { pz.panBy({x: moves[event.key][0], y: moves[event.key][1]}); }
      else { return; }
      event.preventDefault();
    });
    graph.dataset.readyMs = String(Math.round(window.performance.now() - started));
  });
}());
