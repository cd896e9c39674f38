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
