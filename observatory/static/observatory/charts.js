// Draws every chart the page carries as a JSON data block (observatory/charts/embedding.py):
// no inline script, so the Content-Security-Policy can forbid them all.
(function () {
  function draw() {
    document.querySelectorAll("div.plotly-chart[data-figure]").forEach(function (div) {
      var block = document.getElementById(div.getAttribute("data-figure"));
      if (!block) return;
      var figure = JSON.parse(block.textContent);
      Plotly.newPlot(div, figure.data, figure.layout, figure.config);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
