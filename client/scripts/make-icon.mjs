#!/usr/bin/env node
// Writes images/icon.png (128×128): a root-table glyph — a dark tile with a tree of page-table nodes.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
const N = 128;
const px = Buffer.alloc(N * N * 4);
const set = (x, y, [r, g, b, a = 255]) => {
  if (x < 0 || y < 0 || x >= N || y >= N) return;
  const i = (y * N + x) * 4;
  px[i] = r;
  px[i + 1] = g;
  px[i + 2] = b;
  px[i + 3] = a;
};
const bg = [27, 39, 51],
  node = [86, 182, 194],
  root = [240, 180, 60],
  line = [140, 160, 180];
for (let y = 0; y < N; y++)
  for (let x = 0; x < N; x++) {
    const r = 20,
      dx = Math.max(0, Math.abs(x - 63.5) - (63.5 - r)),
      dy = Math.max(0, Math.abs(y - 63.5) - (63.5 - r));
    if (dx * dx + dy * dy <= r * r) set(x, y, bg);
  }
const rect = (x0, y0, w, h, c) => {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) set(x, y, c);
};
const lineTo = (x0, y0, x1, y1, c) => {
  const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0));
  for (let i = 0; i <= n; i++)
    rect(Math.round(x0 + ((x1 - x0) * i) / n) - 1, Math.round(y0 + ((y1 - y0) * i) / n) - 1, 3, 3, c);
};
const kids = [28, 64, 100];
for (const x of kids) lineTo(64, 40, x, 78, line);
for (const x of [28, 100]) {
  lineTo(x, 88, x - 12, 104, line);
  lineTo(x, 88, x + 12, 104, line);
}
rect(48, 22, 32, 22, root);
for (const x of kids) rect(x - 12, 74, 24, 16, node);
for (const x of [16, 40, 88, 112]) rect(x - 6, 100, 12, 10, node);
const raw = Buffer.alloc(N * (N * 4 + 1));
for (let y = 0; y < N; y++) {
  raw[y * (N * 4 + 1)] = 0;
  px.copy(raw, y * (N * 4 + 1) + 1, y * N * 4, (y + 1) * N * 4);
}
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(N, 0);
ihdr.writeUInt32BE(N, 4);
ihdr[8] = 8;
ihdr[9] = 6;
ihdr[10] = 0;
ihdr[11] = 0;
ihdr[12] = 0;
const png = Buffer.concat([
  Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(process.argv[2] ?? 'images/icon.png', png);
console.log(`icon: ${png.length} bytes`);
