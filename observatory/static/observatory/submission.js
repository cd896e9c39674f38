// Poll the status JSON every 1.5 s until every run has ended; no reload, no external script.
(function () {
  const url = document.getElementById("submission-status").getAttribute("data-status-url");
  const ended = ["succeeded", "failed", "cancelled"];
  function pct(x) { return Math.round(x * 100); }
  async function tick() {
    let state;
    try {
      const response = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (!response.ok) { setTimeout(tick, 3000); return; }
      state = await response.json();
    } catch (e) { setTimeout(tick, 3000); return; }
    document.getElementById("overall-status").textContent = state.status;
    document.getElementById("overall-progress").textContent = pct(state.progress);
    for (const run of state.runs) {
      const row = document.querySelector('tr[data-run="' + run.id + '"]');
      if (!row) continue;
      row.querySelector(".status").textContent = run.status;
      row.querySelector("progress").value = run.progress;
      row.querySelector(".pct").textContent = pct(run.progress) + "%";
      row.querySelector(".step").textContent = run.current_step;
      row.querySelector(".error").textContent = run.error;
    }
    if (!state.runs.every(r => ended.includes(r.status))) setTimeout(tick, 1500);
  }
  setTimeout(tick, 1500);
})();
