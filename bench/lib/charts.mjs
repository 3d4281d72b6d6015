// Latency-versus-rate charts as SVG (self-contained, no chart library), converted to PNG with
// rsvg-convert when it is installed (bench/run installs librsvg2-bin if it can).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const COLORS = { globemeet: '#d62728', nats: '#1f77b4', bun: '#2ca02c', ws: '#9467bd' };
const W = 760;
const H = 440;
const M = { left: 70, right: 150, top: 40, bottom: 55 };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function logTicks(min, max) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min && v <= max) ticks.push(v);
    }
  }
  return ticks;
}

function fmtRate(v) {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}

// series: [{ name, points: [{ x: deliveries/s, p50, p99 }] }]. Both axes logarithmic.
export function latencyChartSvg(title, series) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return null;
  const xs = all.map((p) => p.x).filter((v) => v > 0);
  const ys = all.flatMap((p) => [p.p50, p.p99]).filter((v) => v > 0);
  const xMin = 10 ** Math.floor(Math.log10(Math.min(...xs)));
  const xMax = 10 ** Math.ceil(Math.log10(Math.max(...xs)));
  const yMin = Math.max(0.01, 10 ** Math.floor(Math.log10(Math.min(...ys))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys, 200)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (v) => M.left + ((Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * pw;
  const sy = (v) => M.top + ph - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  for (const t of logTicks(xMin, xMax)) {
    out.push(`<line x1="${sx(t)}" y1="${M.top}" x2="${sx(t)}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${M.top + ph + 16}" text-anchor="middle">${fmtRate(t)}</text>`);
  }
  for (const t of logTicks(yMin, yMax)) {
    out.push(`<line x1="${M.left}" y1="${sy(t)}" x2="${M.left + pw}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${sy(200)}" x2="${M.left + pw}" y2="${sy(200)}" stroke="#999" stroke-dasharray="2,3"/>`);
  out.push(`<text x="${M.left + pw - 4}" y="${sy(200) - 4}" text-anchor="end" fill="#777">200 ms</text>`);
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">delivered messages per second (log)</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">latency, ms (log): p99 solid, p50 dashed</text>`);
  series.forEach((s, i) => {
    const color = COLORS[s.name] ?? '#333';
    const pts = s.points.filter((p) => p.x > 0).sort((a, b) => a.x - b.x);
    for (const [key, dash] of [['p99', ''], ['p50', ' stroke-dasharray="5,4"']]) {
      const d = pts.map((p, j) => `${j ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p[key]).toFixed(1)}`).join(' ');
      if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    }
    for (const p of pts) {
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.p99).toFixed(1)}" r="3" fill="${p.pass ? color : 'white'}" stroke="${color}"/>`);
    }
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${W - M.right + 12}" y1="${ly}" x2="${W - M.right + 36}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${W - M.right + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push(`<text x="${W - M.right + 12}" y="${M.top + 20 + series.length * 20}" font-size="10" fill="#555">open dot: step failed</text>`);
  out.push('</svg>');
  return out.join('\n');
}

export function hasRsvg() {
  try { execFileSync('rsvg-convert', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

// Writes name.svg and, when possible, name.png; returns the file to link from the report.
export function writeChart(dir, name, svg) {
  const svgPath = `${dir}/${name}.svg`;
  writeFileSync(svgPath, svg);
  if (!hasRsvg()) return `${name}.svg`;
  execFileSync('rsvg-convert', ['-o', `${dir}/${name}.png`, svgPath]);
  return `${name}.png`;
}
