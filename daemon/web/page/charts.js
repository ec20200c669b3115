/* Line charts for the Trends view, drawn as SVG by the page itself (no library, no
 * network): one polyline per series and a circle per point; hovering (or focusing)
 * a point shows its date, series and value in the chart's tip. Every point carries
 * data-series, data-index and data-value, the numbers as the API gave them, so a
 * test can compare them. Text goes in with textContent only. */
'use strict';

window.GS_CHARTS = (function () {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 640, H = 220, LEFT = 44, RIGHT = 12, TOP = 12, BOTTOM = 28;
  const COLOURS = ['#1f6fb2', '#c0392b', '#27ae60', '#8e44ad', '#d35400', '#16a085',
    '#7f8c8d', '#b7950b', '#2c3e50', '#e84393'];

  function el(tag, attrs) {
    const e = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }

  /* A round upper bound for the y axis (at least 1). */
  function niceMax(v) {
    if (v <= 1) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  /* opts: {id, dates: [...], series: [{name, label, values: [n|null]}], max (optional),
   * format(v) for the tip and axis (optional)}. Returns a <figure>. */
  function line(opts) {
    const fmt = opts.format || String;
    const n = opts.dates.length;
    const all = [];
    opts.series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) all.push(v); }); });
    const max = opts.max || niceMax(Math.max.apply(null, all.concat([0])));
    const x = function (i) { return LEFT + (n > 1 ? i * (W - LEFT - RIGHT) / (n - 1) : 0); };
    const y = function (v) { return TOP + (H - TOP - BOTTOM) * (1 - v / max); };
    const svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img' });
    [0, max / 2, max].forEach(function (v) {
      svg.append(el('line', { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), class: 'grid' }));
      const t = el('text', { x: LEFT - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' });
      t.textContent = fmt(v);
      svg.append(t);
    });
    [0, Math.floor((n - 1) / 2), n - 1].forEach(function (i, k) {
      const t = el('text', { x: x(i), y: H - 8, 'text-anchor': ['start', 'middle', 'end'][k], class: 'axis' });
      t.textContent = (opts.dates[i] || '').slice(5);
      svg.append(t);
    });
    const tip = document.createElement('div');
    tip.className = 'chart-tip';
    tip.hidden = true;
    opts.series.forEach(function (s, k) {
      const colour = COLOURS[k % COLOURS.length];
      let path = '';
      s.values.forEach(function (v, i) {
        if (v === null) return;
        path += (path ? ' L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1);
      });
      if (path) svg.append(el('path', { d: path, fill: 'none', stroke: colour, 'stroke-width': 2 }));
      s.values.forEach(function (v, i) {
        if (v === null) return;
        const c = el('circle', { cx: x(i), cy: y(v), r: 3.5, fill: colour, tabindex: 0,
          'data-series': s.name, 'data-index': i, 'data-value': v, 'data-date': opts.dates[i] });
        const show = function () {
          tip.textContent = opts.dates[i] + ' · ' + s.label + ': ' + fmt(v);
          tip.hidden = false;
          c.setAttribute('r', 6);
        };
        const hide = function () { tip.hidden = true; c.setAttribute('r', 3.5); };
        c.addEventListener('mouseenter', show);
        c.addEventListener('focus', show);
        c.addEventListener('mouseleave', hide);
        c.addEventListener('blur', hide);
        svg.append(c);
      });
    });
    const legend = document.createElement('ul');
    legend.className = 'legend';
    opts.series.forEach(function (s, k) {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch c' + (k % COLOURS.length);
      li.append(sw, document.createTextNode(s.label));
      legend.append(li);
    });
    const fig = document.createElement('figure');
    fig.className = 'chart-box';
    fig.id = opts.id;
    fig.append(svg, tip, legend);
    return fig;
  }

  return { line: line, COLOURS: COLOURS };
})();
