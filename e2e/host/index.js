// Extension-host test entry (extensionTestsPath): VS Code calls run() inside the extension host, where
// `require('vscode')` is the real API. Results go to the console, which the harness receives through
// the workbench's codeAutomationLog hook, and the exit code through codeAutomationExit.
'use strict';
const { readdirSync } = require('node:fs');
const { join } = require('node:path');
const Mocha = require('mocha');

const RESULT_TAG = 'E2E-API-RESULT';
// Lines the harness prints; the rest of the workbench console goes to its log file only.
const out = (text) => console.log(`[e2e] ${text}`);

/** A reporter that prints through console.log (the extension host has no useful stdout). */
class ConsoleReporter extends Mocha.reporters.Base {
  constructor(runner, options) {
    super(runner, options);
    const failures = [];
    runner.on('suite', (suite) => suite.title && out(`  ${suite.fullTitle()}`));
    runner.on('pass', (test) => out(`    ✓ ${test.title} (${test.duration} ms)`));
    runner.on('fail', (test, err) => {
      failures.push({ title: test.fullTitle(), message: String(err && (err.stack || err.message || err)) });
      out(`    ✗ ${test.title}`);
    });
    runner.once('end', () => {
      for (const [i, f] of failures.entries()) out(`  ${i + 1}) ${f.title}\n${f.message}\n`);
      const { passes = 0, failures: failed = 0, pending = 0 } = runner.stats || {};
      console.log(`${RESULT_TAG} ${JSON.stringify({ passed: passes, failed, pending })}`);
    });
  }
}

exports.run = async function run() {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: ConsoleReporter });
  if (process.env.KVMMU_E2E_GREP) mocha.grep(process.env.KVMMU_E2E_GREP);
  const suiteDir = join(__dirname, 'suite');
  for (const f of readdirSync(suiteDir)
    .filter((f) => f.endsWith('.test.js'))
    .sort())
    mocha.addFile(join(suiteDir, f));
  const failures = await new Promise((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
};
