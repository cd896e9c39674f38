// Every filter change reloads the page with the new query string: the URL is the state.
(function () {
  var form = document.getElementById("filters");
  form.addEventListener("change", function () {
    var data = new FormData(form), query = new URLSearchParams();
    data.forEach(function (value, key) { if (value !== "") query.append(key, value); });
    if (query.get("scope") === "tracked") query.delete("scope");
    window.location.assign(form.action + (query.toString() ? "?" + query.toString() : ""));
  });
  var button = document.getElementById("permalink-button");
  button.addEventListener("click", function () {
    var link = button.getAttribute("data-permalink");
    if (navigator.clipboard) { navigator.clipboard.writeText(link).catch(function () {}); }
    button.textContent = "Permalink copied";
  });
})();

// Image exports without the server's Chromium (#exports data-server-export="no", from the same check
// the export view makes): plotly.js draws the chart in this browser (Plotly.downloadImage), so an
// export never ends on a 503. plotly.js has no PDF; that button saves an SVG (the page's note says so).
(function () {
  var exports = document.getElementById("exports");
  if (!exports || exports.getAttribute("data-server-export") !== "no") return;
  var chart = document.getElementById("chart");
  exports.querySelectorAll("a[data-export=png], a[data-export=svg], a[data-export=pdf]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!chart || !window.Plotly || !chart._fullLayout) return;  // not drawn: let the link answer
      event.preventDefault();
      var format = link.getAttribute("data-export") === "png" ? "png" : "svg";
      Plotly.downloadImage(chart, {
        format: format, width: 1200, height: chart._fullLayout.height, scale: format === "png" ? 2 : 1,
        filename: exports.getAttribute("data-filename") || "chart"
      });
    });
  });
})();
