// Per-check latency charts with uPlot (vendored, global `uPlot`): mean from the 5m rollups, p50 and
// p99 from the stored sketches. x in seconds, as uPlot wants.

import { h } from './dom.js';
import { duration } from './format.js';

const charts = new Map();

function seriesOf(points) {
  const xs = [],
    mean = [],
    p50 = [],
    p99 = [];
  for (const p of points) {
    xs.push(p.ts / 1000);
    mean.push(p.mean);
    p50.push(p.p50 ?? null);
    p99.push(p.p99 ?? null);
  }
  return [xs, mean, p50, p99];
}

/** Draw or update the chart of one check in `container`. */
export function drawLatency(container, checkId, data) {
  const width = Math.max(280, Math.min(560, container.clientWidth - 16));
  let c = charts.get(checkId);
  if (!c) {
    const box = h('div', { class: 'chart', 'data-check': checkId }, h('h3', null, checkId));
    const plotEl = h('div');
    const empty = h('p', { class: 'muted empty' }, 'no latency points yet');
    box.append(plotEl, empty);
    container.append(box);
    c = { box, plotEl, empty, plot: undefined };
    charts.set(checkId, c);
  }
  const d = seriesOf(data.points);
  c.empty.hidden = data.points.length > 0;
  if (!globalThis.uPlot) return;
  if (!c.plot) {
    const fmt = (_u, v) => (v === null || v === undefined ? '–' : duration(v));
    c.plot = new globalThis.uPlot(
      {
        width,
        height: 180,
        scales: { x: { time: true } },
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => duration(t)), size: 60 }],
        series: [
          {},
          { label: 'mean', stroke: '#3b82f6', value: fmt },
          { label: 'p50', stroke: '#10b981', value: fmt },
          { label: 'p99', stroke: '#ef4444', value: fmt },
        ],
      },
      d,
      c.plotEl,
    );
  } else c.plot.setData(d);
}
