// The first load: what index.html pulls in before the app can draw (its scripts, module
// preloads and stylesheets), gzipped, plus the service worker registration chunk main.js
// imports right after. Goal: ≤ 250 KB.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const refs = [...html.matchAll(/(?:src|href)="\/m\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let raw = 0;
let gz = 0;
const rows = [];
for (const ref of new Set(refs)) {
  const buf = readFileSync(join(dist, ref));
  const z = gzipSync(buf, { level: 9 }).length;
  raw += buf.length;
  gz += z;
  rows.push([ref, buf.length, z]);
}
for (const [ref, r, z] of rows) console.log(`${ref.padEnd(48)} ${String(r).padStart(8)} B  gzip ${String(z).padStart(7)} B`);
console.log(`first load (JS+CSS): ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzipped (goal ≤ 250 KB)`);
