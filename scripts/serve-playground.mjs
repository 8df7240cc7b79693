#!/usr/bin/env node
// Serves the built playground (dist/playground) on 127.0.0.1 — what `npm run playground` runs. Any static file
// server will do as well (the site is plain files); this one is here so nothing needs installing, and the
// playground's browser test and the bench use it too.
//
//   node scripts/serve-playground.mjs [--port 8080] [--dir dist/playground]
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Starts serving `dir`; resolves with its URL, the bytes sent so far and a `close()`. */
export function servePlayground({ dir, port = 0 }) {
  const base = resolve(dir);
  const sent = { bytes: 0 };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    let size = -1;
    try {
      if (file.startsWith(base + sep)) size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch {
      size = -1;
    }
    if (req.method !== 'GET' || size < 0) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    sent.bytes += size;
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolveStart({
        url: `http://127.0.0.1:${actual}/`,
        sent,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      dir: { type: 'string', default: join(root, 'dist/playground') },
    },
  });
  const { url } = await servePlayground({ dir: values.dir, port: Number(values.port) });
  console.log(`playground: ${url} (Ctrl-C stops)`);
}
