// A small hand-written SVG line chart: recall@10 (x) against queries per
// second (y, log scale), one series per library, as ann-benchmarks draws it.

/** One curve. */
export interface Series {
  readonly name: string;
  readonly colour: string;
  readonly points: readonly { recall: number; qps: number; ef: number }[];
}

/** Render the chart as an SVG document. */
export function recallQpsSvg(title: string, series: readonly Series[]): string {
  const W = 720;
  const H = 460;
  const left = 80;
  const right = 170;
  const top = 50;
  const bottom = 60;
  const all = series.flatMap((s) => s.points);
  const minR = Math.min(0.5, ...all.map((p) => p.recall));
  const qs = all.map((p) => p.qps);
  const lo = Math.floor(Math.log10(Math.min(...qs)));
  const hi = Math.ceil(Math.log10(Math.max(...qs)));
  const x = (r: number): number => left + ((r - minR) / (1 - minR)) * (W - left - right);
  const y = (q: number): number =>
    H - bottom - ((Math.log10(q) - lo) / (hi - lo || 1)) * (H - top - bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - 60}" y="24" font-size="15" text-anchor="middle">${title}</text>`,
  ];
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e);
    out.push(`<line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(
      `<text x="${left - 8}" y="${yy + 4}" text-anchor="end">${(10 ** e).toLocaleString('en-US')}</text>`,
    );
  }
  for (let t = Math.ceil(minR * 10) / 10; t <= 1.0001; t += 0.1) {
    const xx = x(t);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${top}" y2="${H - bottom}" stroke="#eee"/>`);
    out.push(`<text x="${xx}" y="${H - bottom + 18}" text-anchor="middle">${t.toFixed(1)}</text>`);
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${W - left - right}" height="${H - top - bottom}" fill="none" stroke="#333"/>`,
    `<text x="${(left + W - right) / 2}" y="${H - 18}" text-anchor="middle">recall@10</text>`,
    `<text transform="translate(22 ${(top + H - bottom) / 2}) rotate(-90)" text-anchor="middle">queries per second (1 thread, log)</text>`,
  );
  series.forEach((s, i) => {
    const path = s.points.map((p) => `${x(p.recall).toFixed(1)},${y(p.qps).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    for (const p of s.points) {
      out.push(
        `<circle cx="${x(p.recall).toFixed(1)}" cy="${y(p.qps).toFixed(1)}" r="3.5" fill="${s.colour}"><title>ef=${p.ef} recall=${p.recall.toFixed(3)} qps=${Math.round(p.qps)}</title></circle>`,
      );
    }
    const ly = top + 20 + i * 22;
    out.push(
      `<line x1="${W - right + 15}" x2="${W - right + 40}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="3"/>`,
    );
    out.push(`<text x="${W - right + 46}" y="${ly + 4}">${s.name}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
