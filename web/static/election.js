// Keeps an open election's turnout and count up to date: polls
// GET /elections/{id}/tally (the public REST route) every five seconds
// until the election is closed, then reloads the page for the final tally.
'use strict';
(function () {
  const section = document.getElementById('tally');
  if (!section || section.dataset.closed === 'true') { return; }
  const id = section.dataset.election;
  const turnout = document.getElementById('turnout');
  const rows = document.querySelectorAll('#counts tbody tr');
  const bars = document.querySelectorAll('#chart g');
  // The longest bar's width: the chart's, less room for the value.
  const chart = document.getElementById('chart');
  const width = chart ? chart.viewBox.baseVal.width - 120 : 0;
  function count(n, thing) { return n === 1 ? '1 ' + thing : n + ' ' + thing + 's'; }
  async function poll() {
    let t;
    try {
      const resp = await fetch('/elections/' + encodeURIComponent(id) + '/tally', { headers: { Accept: 'application/json' } });
      if (!resp.ok) { return; }
      t = await resp.json();
    } catch (e) {
      return;
    }
    if (t.closed) { window.location.reload(); return; }
    turnout.textContent = t.tokens === 0 ? 'no ballot tokens issued yet'
      : (100 * t.ballots / t.tokens).toFixed(1) + '% (' + count(t.ballots, 'ballot') + ' cast of ' + count(t.tokens, 'ballot token') + ' issued)';
    const max = Math.max.apply(null, t.counts.concat([0]));
    const total = t.counts.reduce(function (a, b) { return a + b; }, 0);
    t.counts.forEach(function (n, i) {
      const pct = total > 0 ? (100 * n / total).toFixed(1) + '%' : '0%';
      if (rows[i]) { rows[i].cells[1].textContent = String(n); rows[i].cells[2].textContent = pct; }
      if (bars[i]) {
        const w = max > 0 ? Math.floor(n * width / max) : 0;
        bars[i].querySelector('rect').setAttribute('width', String(w));
        const label = bars[i].querySelector('text.value');
        label.setAttribute('x', String(w + 8));
        label.textContent = n + ' (' + pct + ')';
      }
    });
  }
  window.setInterval(poll, 5000);
})();
