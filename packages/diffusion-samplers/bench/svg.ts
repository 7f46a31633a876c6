// A dependency-free log-log line plot as SVG.

/** One line of a plot: (x, y) points, both > 0. */
export interface Series {
  name: string;
  points: [number, number][];
}

const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** Renders `panels` side by side, each a log-log plot of its series. */
export function logLogSvg(
  panels: { title: string; series: Series[] }[],
  xLabel: string,
  yLabel: string,
): string {
  const W = 460;
  const H = 360;
  const m = { l: 64, r: 12, t: 28, b: 44 };
  const all = panels
    .flatMap((p) => p.series.flatMap((s) => s.points))
    .filter(([x, y]) => x > 0 && y > 0);
  const lx = all.map(([x]) => Math.log10(x));
  const ly = all.map(([, y]) => Math.log10(y));
  const x0 = Math.floor(Math.min(...lx) * 10) / 10;
  const x1 = Math.ceil(Math.max(...lx) * 10) / 10;
  const y0 = Math.floor(Math.min(...ly));
  const y1 = Math.ceil(Math.max(...ly));
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const legendH = 18 * Math.ceil(names.length / 4) + 10;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H + legendH}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  );
  panels.forEach((panel, pi) => {
    const ox = pi * W;
    const px = (x: number) => ox + m.l + ((Math.log10(x) - x0) / (x1 - x0)) * (W - m.l - m.r);
    const py = (y: number) => m.t + ((y1 - Math.log10(y)) / (y1 - y0)) * (H - m.t - m.b);
    parts.push(
      `<text x="${ox + W / 2}" y="16" text-anchor="middle" font-size="13">${panel.title}</text>`,
    );
    for (let e = y0; e <= y1; e++) {
      const y = py(10 ** e);
      parts.push(
        `<line x1="${ox + m.l}" x2="${ox + W - m.r}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
        `<text x="${ox + m.l - 6}" y="${y + 4}" text-anchor="end">1e${e}</text>`,
      );
    }
    for (const t of [2, 5, 10, 20, 50, 100, 200, 500, 1000])
      if (Math.log10(t) >= x0 && Math.log10(t) <= x1) {
        const x = px(t);
        parts.push(
          `<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`,
          `<text x="${x}" y="${H - m.b + 14}" text-anchor="middle">${t}</text>`,
        );
      }
    parts.push(
      `<rect x="${ox + m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`,
      `<text x="${ox + W / 2}" y="${H - 8}" text-anchor="middle">${xLabel}</text>`,
      `<text transform="translate(${ox + 14},${H / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>`,
    );
    for (const s of panel.series) {
      const color = COLORS[names.indexOf(s.name) % COLORS.length]!;
      const pts = s.points.filter(([x, y]) => x > 0 && y > 0);
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const [x, y] of pts)
        parts.push(
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.2" fill="${color}"/>`,
        );
    }
  });
  names.forEach((name, i) => {
    const x = 20 + (i % 4) * 220;
    const y = H + 14 + Math.floor(i / 4) * 18;
    parts.push(
      `<line x1="${x}" x2="${x + 22}" y1="${y - 4}" y2="${y - 4}" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`,
      `<text x="${x + 28}" y="${y}">${name}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
