// The queue-depth chart: one step line per queue over the last minutes, drawn as inline SVG in
// the container's own pixel size (so text is never stretched). Queue names come from events:
// they are set as text nodes, never as markup.

const svgNS = 'http://www.w3.org/2000/svg';
export const palette = ['#2f6fdb', '#d98b00', '#7046c2', '#1f9d55', '#d64545', '#0f9bb5', '#8a6d3b', '#c2408f'];

function svg(tag, attributes, text) {
  const node = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// 4 -> 4, 7 -> 8, 13 -> 15, 31 -> 40: an axis maximum with round halves.
function niceMax(value) {
  const steps = [4, 6, 8, 10, 15, 20, 30, 40, 60, 80, 100];
  return steps.find((s) => s >= value) ?? Math.ceil(value / 100) * 100;
}

// series: [{name, color, points: [[t, depth], ...] (ascending), current: depth or null}]
export function renderDepthChart(box, series, { now, windowMs, openedAt }) {
  const width = Math.max(200, box.clientWidth), height = 170;
  const left = 30, right = 8, top = 10, bottom = 20;
  const plotW = width - left - right, plotH = height - top - bottom;
  const from = now - windowMs;
  const x = (t) => left + ((Math.max(t, from) - from) / windowMs) * plotW;
  let peak = 0;
  for (const s of series) for (const [t, d] of s.points) if (t >= from || s.points.length === 1) peak = Math.max(peak, d);
  for (const s of series) if (s.current !== null) peak = Math.max(peak, s.current);
  const yMax = niceMax(Math.max(4, peak));
  const y = (depth) => top + plotH - (depth / yMax) * plotH;

  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'queue depth over the last minutes' });
  // Before the page opened there is nothing to show: the snapshot holds no history.
  if (openedAt > from) {
    const edge = x(openedAt);
    root.append(svg('rect', { x: left, y: top, width: edge - left, height: plotH, class: 'before-open' }));
    if (edge - left > 90) root.append(svg('text', { x: (left + edge) / 2, y: top + plotH / 2, class: 'before-open-label', 'text-anchor': 'middle' }, 'before this page opened'));
  }
  for (const depth of [0, yMax / 2, yMax]) {
    root.append(svg('line', { x1: left, x2: left + plotW, y1: y(depth), y2: y(depth), class: 'grid' }));
    root.append(svg('text', { x: left - 6, y: y(depth) + 4, class: 'axis', 'text-anchor': 'end' }, String(depth)));
  }
  const minutes = Math.round(windowMs / 60_000);
  for (let m = minutes; m >= 0; m--) {
    const label = m === 0 ? 'now' : `−${m} min`;
    if (m !== 0 && m !== minutes && plotW < 360 && m % 2 === 0) continue;  // fewer labels on a phone
    root.append(svg('text', { x: x(now - m * 60_000), y: height - 5, class: 'axis', 'text-anchor': m === minutes ? 'start' : m === 0 ? 'end' : 'middle' }, label));
  }
  for (const s of series) {
    const visible = s.points.filter(([t], i) => t >= from || (s.points[i + 1]?.[0] ?? Infinity) > from);
    if (!visible.length) continue;
    let d = `M${x(visible[0][0]).toFixed(1)},${y(visible[0][1]).toFixed(1)}`;
    for (let i = 1; i < visible.length; i++) d += `H${x(visible[i][0]).toFixed(1)}V${y(visible[i][1]).toFixed(1)}`;
    if (s.current !== null) d += `H${x(now).toFixed(1)}`;
    root.append(svg('path', { d, class: 'series', stroke: s.color }));
  }
  box.replaceChildren(root);
}
