/** SVG plot of bench/long-range.ts: test accuracy against depth, one panel per task. */

interface PlotRow {
  readonly task: 'ring' | 'tree';
  readonly depth: number;
  readonly model: string;
  readonly chance: number;
  readonly testAcc: readonly number[];
  readonly meanTestAcc: number;
}

const COLORS: Record<string, string> = {
  gcn: '#1f77b4',
  gin: '#ff7f0e',
  gat: '#2ca02c',
  drew: '#d62728',
  tide: '#9467bd',
  cognn: '#8c564b',
};
const DASHED = new Set(['gcn', 'gin', 'gat']);

/** Two panels (RingTransfer, Tree-NeighborsMatch), mean test accuracy with per-seed dots. */
export function renderSvg(rows: readonly PlotRow[], models: readonly string[]): string {
  const panelW = 380;
  const panelH = 260;
  const margin = { left: 55, right: 15, top: 40, bottom: 45 };
  const width = 2 * (panelW + margin.left + margin.right) + 130;
  const height = panelH + margin.top + margin.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  const titles = { ring: 'RingTransfer', tree: 'Tree-NeighborsMatch' } as const;
  (['ring', 'tree'] as const).forEach((task, p) => {
    const ox = margin.left + p * (panelW + margin.left + margin.right);
    const oy = margin.top;
    const mine = rows.filter((r) => r.task === task);
    const depths = [...new Set(mine.map((r) => r.depth))].sort((a, b) => a - b);
    if (depths.length === 0) return;
    const lo = depths[0]!;
    const hi = depths.at(-1)!;
    const r1 = (v: number): number => Math.round(v * 10) / 10;
    const x = (d: number): number =>
      r1(ox + (hi === lo ? panelW / 2 : ((d - lo) / (hi - lo)) * panelW));
    const y = (a: number): number => r1(oy + (1 - a) * panelH);
    parts.push(
      `<text x="${ox + panelW / 2}" y="${oy - 18}" text-anchor="middle" font-size="14" font-weight="bold">${titles[task]}</text>`,
      `<rect x="${ox}" y="${oy}" width="${panelW}" height="${panelH}" fill="none" stroke="#333"/>`,
    );
    for (let t = 0; t <= 5; t++) {
      const a = t / 5;
      parts.push(
        `<line x1="${ox}" x2="${ox + panelW}" y1="${y(a)}" y2="${y(a)}" stroke="#ddd"/>`,
        `<text x="${ox - 6}" y="${y(a) + 4}" text-anchor="end">${a.toFixed(1)}</text>`,
      );
    }
    for (const d of depths) {
      parts.push(`<text x="${x(d)}" y="${oy + panelH + 16}" text-anchor="middle">${d}</text>`);
    }
    parts.push(
      `<text x="${ox + panelW / 2}" y="${oy + panelH + 36}" text-anchor="middle">problem depth (hops)</text>`,
      `<text transform="translate(${ox - 40},${oy + panelH / 2}) rotate(-90)" text-anchor="middle">test accuracy</text>`,
    );
    // Chance level per depth (tree classes grow with depth).
    const chance = depths.map((d) => mine.find((r) => r.depth === d)!.chance);
    parts.push(
      `<polyline fill="none" stroke="#888" stroke-dasharray="2,3" points="${depths.map((d, i) => `${x(d)},${y(chance[i]!)}`).join(' ')}"/>`,
    );
    models.forEach((model, mi) => {
      // Equal accuracies would hide lines under each other: offset each model by a pixel or two.
      const off = (mi - (models.length - 1) / 2) * 1.5;
      const yo = (a: number): number => r1(y(a) + off);
      const pts = depths
        .map((d) => mine.find((r) => r.depth === d && r.model === model))
        .filter((r): r is PlotRow => r !== undefined);
      const color = COLORS[model] ?? '#000';
      const dash = DASHED.has(model) ? ' stroke-dasharray="6,3"' : '';
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((r) => `${x(r.depth)},${yo(r.meanTestAcc)}`).join(' ')}"/>`,
      );
      for (const r of pts) {
        parts.push(
          `<circle cx="${x(r.depth)}" cy="${yo(r.meanTestAcc)}" r="3.5" fill="${color}"/>`,
        );
        for (const a of r.testAcc)
          parts.push(
            `<circle cx="${x(r.depth)}" cy="${yo(a)}" r="1.8" fill="none" stroke="${color}"/>`,
          );
      }
    });
  });
  const lx = width - 120;
  models.forEach((m, i) => {
    const ly = margin.top + 10 + i * 20;
    const dash = DASHED.has(m) ? ' stroke-dasharray="6,3"' : '';
    parts.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${COLORS[m] ?? '#000'}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 32}" y="${ly + 4}">${m === 'cognn' ? 'Co-GNN' : m === 'drew' ? 'DRew' : m.toUpperCase()}</text>`,
    );
  });
  const ly = margin.top + 10 + models.length * 20;
  parts.push(
    `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="#888" stroke-dasharray="2,3"/>`,
    `<text x="${lx + 32}" y="${ly + 4}">chance</text>`,
    `<text x="${lx}" y="${ly + 30}" font-size="10">hollow dots: seeds</text>`,
    `<text x="${lx}" y="${ly + 44}" font-size="10">lines offset ±4 px</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
