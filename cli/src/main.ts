/** `kvmmu` — the command line over the same core the editor uses. */
import { fstatSync, writeSync } from 'node:fs';
import { main } from './cli.js';
import { lowerHelperThreads } from './threads.js';

/**
 * stdout redirected to a file (or /dev/null) takes blocking writes: each chunk of a large `--json` report is
 * written before the next is encoded, and the encoder fills one buffer over and over. A pipe or a socket goes
 * through the stream, which may finish a write later (and must keep the chunk until then).
 */
function stdoutIsFile(): boolean {
  try {
    const st = fstatSync(1);
    return st.isFile() || (st.isCharacterDevice() && process.stdout.isTTY !== true);
  } catch {
    return false;
  }
}
const toFile = stdoutIsFile();

function writeAll(b: Uint8Array): void {
  for (let done = 0; done < b.length;) done += writeSync(1, b, done, b.length - done);
}

// A reader that goes away (`kvmmu check --json big.kvmmu | head`) ends the output: stop quietly, as command-line
// tools do, instead of dying on an unhandled EPIPE. Any other failure to write stdout is an I/O error (exit 2).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`kvmmu: stdout: ${e.message}\n`);
  process.exit(2);
});

lowerHelperThreads();

main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stdoutBytes: toFile ? writeAll : (b) => process.stdout.write(b),
  stdoutBytesSync: toFile,
  stderr: (s) => process.stderr.write(s),
  color: process.stdout.isTTY === true && !process.env['NO_COLOR'],
  tty: process.stdout.isTTY === true,
  stderrTty: process.stderr.isTTY === true,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`kvmmu: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
