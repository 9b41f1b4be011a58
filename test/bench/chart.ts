import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  cellText,
  LIB_LABELS,
  markdownPeerTable,
  PEER_LEGEND,
  type Lib,
  type TableRow,
} from './peer-table.js';
import type { PeerResults } from './peers.js';

/**
 * Renders a `--peers` results file as a Markdown table and an SVG chart, next to it or in
 * `--out <dir>`:
 *
 *     npm run bench:chart -- bench-results/peers-<timestamp>.json [--out <dir>] [--png]
 *
 * The chart has one group of bars per figure, each bar the library's median as a share of the
 * largest of the three, labelled with the value itself.
 */

/** One line saying where the figures come from: versions, rounds, scale, load. */
export function provenance(results: PeerResults): string {
  const versions = results.libs
    .map((lib) => {
      const run = results.runs.find((r) => r.lib === lib && r.results)?.results;
      return `${LIB_LABELS[lib]} ${run?.lib_version ?? '?'} (${String(run?.['runtime'] ?? '?')})`;
    })
    .join(', ');
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  return (
    `${versions}. ${results.rounds} round${results.rounds === 1 ? '' : 's'}, scale ` +
    `${results.scale}, ${results.started_utc.slice(0, 16).replace('T', ' ')} UTC on ` +
    `${results.host.cpus} CPUs (${results.host.cpu_model}); load average ` +
    `${load(results.host.loadavg_start)} at start, ${load(results.host.loadavg_end)} at end.`
  );
}

export function renderMarkdown(results: PeerResults): string {
  return [
    markdownPeerTable(results.table, results.libs),
    '',
    PEER_LEGEND,
    '',
    provenance(results),
    '',
  ].join('\n');
}

const COLORS: Record<Lib, string> = { zkit: '#2f6fbb', curator: '#d9822b', kazoo: '#3a9d5d' };

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderSvg(results: PeerResults): string {
  const rows: TableRow[] = results.table.rows;
  const libs = results.libs;
  const width = 960;
  const labelWidth = 330;
  const barArea = 470;
  const bar = 8;
  const gap = 2;
  const rowHeight = libs.length * (bar + gap) + 14;
  const top = 70;
  const height = top + rows.length * rowHeight + 40;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(
      `${libs.map((lib) => LIB_LABELS[lib]).join(', ')} on the same ZooKeeper recipe scenarios`,
    )}</text>`,
    `<text x="10" y="38" fill="#555">${escapeXml(
      'Medians over the rounds; each bar is a share of the largest of the row. "lower"/"higher": which is better.',
    )}</text>`,
  );
  libs.forEach((lib, i) => {
    const x = 10 + i * 110;
    out.push(
      `<rect x="${x}" y="48" width="12" height="10" fill="${COLORS[lib]}"/>`,
      `<text x="${x + 16}" y="57">${escapeXml(LIB_LABELS[lib])}</text>`,
    );
  });
  let scenario = '';
  rows.forEach((row, r) => {
    const y = top + r * rowHeight;
    if (row.scenario !== scenario) {
      scenario = row.scenario;
      out.push(`<line x1="10" x2="${width - 10}" y1="${y - 2}" y2="${y - 2}" stroke="#ddd"/>`);
    }
    const label = `${row.scenario} · ${row.figure} (${row.unit}, ${row.better})`;
    out.push(`<text x="10" y="${y + 14}">${escapeXml(label)}</text>`);
    const max = Math.max(0, ...libs.map((lib) => row.values[lib].median ?? 0));
    libs.forEach((lib, i) => {
      const cell = row.values[lib];
      const by = y + 4 + i * (bar + gap);
      const w = cell.median !== null && max > 0 ? Math.max(1, (cell.median / max) * barArea) : 0;
      if (w > 0) {
        out.push(
          `<rect x="${labelWidth}" y="${by}" width="${w.toFixed(1)}" height="${bar}" fill="${COLORS[lib]}"/>`,
        );
      }
      out.push(
        `<text x="${labelWidth + w + 4}" y="${by + bar - 1}" font-size="9" fill="#333">${escapeXml(
          cellText(cell, row.digits),
        )}</text>`,
      );
    });
  });
  // The provenance line, split after the versions so it fits the width.
  const [versions, ...rest] = provenance(results).split('. ');
  out.push(
    `<text x="10" y="${height - 22}" font-size="9" fill="#555">${escapeXml(`${versions}.`)}</text>`,
    `<text x="10" y="${height - 9}" font-size="9" fill="#555">${escapeXml(rest.join('. '))}</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

/** The first headless-capable Chromium or Chrome on PATH, or null. */
function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return name;
  }
  return null;
}

/** Screenshots the SVG into a PNG of the same size with headless Chromium. */
export function svgToPng(svgFile: string, pngFile: string): void {
  const chromium = findChromium();
  if (chromium === null) throw new Error('--png needs chromium (or Chrome) on PATH');
  const svg = readFileSync(svgFile, 'utf8');
  const size = /width="(\d+)" height="(\d+)"/.exec(svg);
  const args = [
    '--headless',
    '--disable-gpu',
    '--hide-scrollbars',
    // Chromium refuses to run as root inside its sandbox.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    `--window-size=${size?.[1] ?? 960},${size?.[2] ?? 1200}`,
    `--screenshot=${pngFile}`,
    pathToFileURL(svgFile).href,
  ];
  const r = spawnSync(chromium, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${chromium} failed: ${r.stderr}`);
}

/** Writes `<name>.md`, `<name>.svg` and, with `png`, `<name>.png`; returns their paths. */
export function renderFiles(
  file: string,
  outDir = dirname(file),
  png = false,
): { markdown: string; svg: string; png?: string } {
  const results = JSON.parse(readFileSync(file, 'utf8')) as PeerResults;
  if (results.kind !== 'peers') throw new Error(`${file} is not the results of a --peers run`);
  const name = basename(file).replace(/\.json$/, '');
  const markdown = join(outDir, `${name}.md`);
  const svg = join(outDir, `${name}.svg`);
  writeFileSync(markdown, renderMarkdown(results));
  writeFileSync(svg, renderSvg(results));
  if (!png) return { markdown, svg };
  const pngFile = join(outDir, `${name}.png`);
  svgToPng(svg, pngFile);
  return { markdown, svg, png: pngFile };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const png = process.argv.includes('--png');
  const args = process.argv.slice(2).filter((a) => a !== '--png');
  const outIndex = args.indexOf('--out');
  const cwd = process.env['INIT_CWD'] ?? process.cwd();
  const outDir = outIndex >= 0 ? args[outIndex + 1] : undefined;
  const files = outIndex < 0 ? args : args.filter((_, i) => i !== outIndex && i !== outIndex + 1);
  if (files.length === 0 || (outIndex >= 0 && outDir === undefined)) {
    process.stderr.write('usage: bench:chart <peers-results.json>… [--out <dir>] [--png]\n');
    process.exit(2);
  }
  for (const f of files) {
    const written = renderFiles(
      resolve(cwd, f),
      outDir === undefined ? undefined : resolve(cwd, outDir),
      png,
    );
    for (const path of [written.markdown, written.svg, written.png]) {
      if (path !== undefined) process.stdout.write(`${path}\n`);
    }
  }
}
