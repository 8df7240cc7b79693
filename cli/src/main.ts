/** `kvmmu` — the command line over the same core the editor uses. */
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  color: process.stdout.isTTY === true && !process.env['NO_COLOR'],
});
