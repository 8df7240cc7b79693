/** `kvmmu` — the command line over the same core the editor uses. */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { main } from './cli.js';
import { lowerHelperThreads } from './threads.js';

/**
 * stdout takes blocking writes whether it is a file, /dev/null or a pipe: each chunk of a large `--json` report is
 * written before the next is encoded, so the encoder fills one buffer over and over, and a pipe costs one
 * `write(2)` per chunk instead of the stream's queue, copies and event-loop turns. `process.stdout` is not touched
 * (creating it makes a pipe non-blocking). A terminal, or a descriptor someone else made non-blocking (EAGAIN),
 * goes through the stream, which may finish a write later and so gets a copy of the chunk.
 */
const tty = isatty(1);
let stream = tty;

/**
 * A reader that goes away (`kvmmu check --json big.kvmmu | head`) ends the output: stop quietly, as command-line
 * tools do, instead of dying on EPIPE. Any other failure to write stdout is an I/O error (exit 2).
 */
function stdoutFailed(e: NodeJS.ErrnoException): never {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`kvmmu: stdout: ${e.message}\n`);
  process.exit(2);
}

function writeOut(b: Uint8Array): void {
  let done = 0;
  while (!stream && done < b.length) {
    try {
      done += writeSync(1, b, done, b.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') stdoutFailed(e as NodeJS.ErrnoException);
      stream = true;
      process.stdout.on('error', stdoutFailed);
    }
  }
  if (done < b.length) process.stdout.write(Buffer.from(b.subarray(done)));
}

lowerHelperThreads();

if (tty) process.stdout.on('error', stdoutFailed);

main(process.argv.slice(2), {
  stdout: (s) => writeOut(Buffer.from(s, 'utf8')),
  stdoutBytes: writeOut,
  stdoutBytesSync: true,
  stderr: (s) => process.stderr.write(s),
  color: tty && !process.env['NO_COLOR'],
  tty,
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
