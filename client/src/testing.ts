/**
 * The Testing view: each `.kvmmu` file in the workspace is a test, each kernel it runs under a child (the setting
 * `kvmmu.testing.profiles`: the file's own kernel by default), each `expect` line a leaf. Discovery reads the text
 * only (which lines are `expect`s, which kernel line); running asks the language server (`kvmmu/expectations`),
 * which runs the scenario off the editor's analysis. A failure shows the expectation's message on its line.
 */
import * as vscode from 'vscode';
import { PROFILES } from '../../core/src/kernel/behaviours.js';
import type { ExpectationsParams, ExpectationsResult } from '../../core/src/protocol.js';
import { ExpectationsRequest, LANGUAGE_ID } from '../../core/src/protocol.js';
import type { TestingProfiles } from '../../core/src/settings.js';
import type { Ctx } from './ctx.js';

/** The file's own kernel, as `kvmmu/expectations` spells it. */
const OWN = '';

/** Which kernels to run a file under: '' is its own kernel line. */
export function kernelsFor(setting: TestingProfiles): string[] {
  switch (setting) {
    case 'file':
      return [OWN];
    case 'mainline':
      return PROFILES.filter((p) => !p.stable && p.name !== 'latest').map((p) => p.name);
    case 'all':
      return PROFILES.map((p) => p.name);
  }
}

/** 0-based lines of the `expect` statements and their text (a text scan: no analysis needed to list them). */
export function expectLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(?:vcpu\s+\d+\s*:\s*)?(expect\b[^#]*)/.exec(lines[i]!);
    if (m) out.push({ line: i, text: m[1]!.trim() });
  }
  return out;
}

/** The file's `kernel` line ("v6.4 +x"), if any. */
export function kernelLine(text: string): string | undefined {
  const m = /^[ \t]*kernel[ \t]+([^#\r\n]+)/m.exec(text);
  return m?.[1]?.trim();
}

export class KvmmuTests implements vscode.Disposable {
  private readonly controller = vscode.tests.createTestController(LANGUAGE_ID, 'KVM MMU scenarios');
  private readonly disposables: vscode.Disposable[] = [this.controller];

  constructor(private readonly ctx: Ctx) {
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discoverAll();
      else await this.refreshFile(item.uri!);
    };
    this.controller.refreshHandler = () => this.discoverAll();
    this.controller.createRunProfile(
      'Run',
      vscode.TestRunProfileKind.Run,
      (request, token) => this.run(request, token),
      true,
    );
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.kvmmu');
    this.disposables.push(
      watcher,
      watcher.onDidCreate((uri) => void this.refreshFile(uri)),
      watcher.onDidChange((uri) => void this.refreshFile(uri)),
      watcher.onDidDelete((uri) => this.controller.items.delete(uri.toString())),
      vscode.workspace.onDidOpenTextDocument((d) => this.onDocument(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.onDocument(e.document)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('kvmmu.testing.profiles')) void this.discoverAll();
      }),
    );
    for (const d of vscode.workspace.textDocuments) this.onDocument(d);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private onDocument(d: vscode.TextDocument): void {
    if (d.languageId !== LANGUAGE_ID || d.uri.scheme === 'git') return;
    this.fill(d.uri, d.getText());
  }

  private async discoverAll(): Promise<void> {
    const files = await vscode.workspace.findFiles('**/*.kvmmu', '**/node_modules/**', 2000);
    await Promise.all(files.map((uri) => this.refreshFile(uri)));
  }

  private async refreshFile(uri: vscode.Uri): Promise<void> {
    const text = await this.textOf(uri);
    if (text !== undefined) this.fill(uri, text);
  }

  private async textOf(uri: vscode.Uri): Promise<string | undefined> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return open.getText();
    try {
      return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      return undefined;
    }
  }

  /** The file's item with one child per kernel and one leaf per `expect` (ids: uri, uri#kernel, uri#kernel#line). */
  private fill(uri: vscode.Uri, text: string): void {
    const id = uri.toString();
    const file = this.controller.items.get(id) ?? this.controller.createTestItem(id, uri.path.split('/').pop()!, uri);
    const own = kernelLine(text) ?? this.ctx.settings(uri).kernelDefault;
    const expects = expectLines(text);
    const kernels = kernelsFor(this.ctx.settings(uri).testingProfiles).map((k) => {
      const kid = `${id}#${k}`;
      const label = k === OWN ? `${own} (the file's kernel)` : k;
      const item = file.children.get(kid) ?? this.controller.createTestItem(kid, label, uri);
      item.label = label;
      item.children.replace(
        expects.map((e) => {
          const leaf = this.controller.createTestItem(`${kid}#${e.line}`, `${e.line + 1}: ${e.text}`, uri);
          leaf.range = new vscode.Range(e.line, 0, e.line, 0);
          return leaf;
        }),
      );
      return item;
    });
    file.children.replace(kernels);
    this.controller.items.add(file);
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request);
    // Queue what was asked for, grouped by file: the file, one kernel of it, or single expectations.
    const byFile = new Map<string, { file: vscode.TestItem; kernels: Set<string> }>();
    const add = (item: vscode.TestItem): void => {
      const [fileId, kernel] = item.id.split('#') as [string, string | undefined];
      const file = this.controller.items.get(fileId);
      if (!file) return;
      const entry = byFile.get(fileId) ?? { file, kernels: new Set<string>() };
      byFile.set(fileId, entry);
      if (kernel === undefined) file.children.forEach((k) => entry.kernels.add(k.id.split('#')[1]!));
      else entry.kernels.add(kernel);
    };
    if (request.include) request.include.forEach(add);
    else this.controller.items.forEach(add);

    for (const { file, kernels } of byFile.values()) {
      if (token.isCancellationRequested) break;
      const uri = file.uri!;
      const text = await this.textOf(uri);
      const items = [...kernels].map((k) => file.children.get(`${file.id}#${k}`)).filter((x) => x !== undefined);
      for (const k of items) {
        run.started(k);
        k.children.forEach((leaf) => run.started(leaf));
      }
      const params: ExpectationsParams = { uri: uri.toString(), kernels: [...kernels] };
      if (text !== undefined) params.text = text;
      let result: ExpectationsResult;
      try {
        result = await this.ctx.request(ExpectationsRequest, params);
      } catch (e) {
        for (const k of items) run.errored(k, new vscode.TestMessage(e instanceof Error ? e.message : String(e)));
        continue;
      }
      for (const r of result.runs) {
        const item = file.children.get(`${file.id}#${r.kernel}`);
        if (!item) continue;
        const byLine = new Map(r.results.map((x) => [x.line, x]));
        let failed = 0;
        item.children.forEach((leaf) => {
          const line = Number(leaf.id.split('#')[2]);
          const res = byLine.get(line);
          if (!res) {
            run.skipped(leaf);
            return;
          }
          if (res.ok) run.passed(leaf);
          else {
            failed++;
            const msg = new vscode.TestMessage(`${res.message} (${r.label})`);
            msg.location = new vscode.Location(uri, new vscode.Range(line, 0, line, 0));
            if (res.actual !== null) msg.actualOutput = String(res.actual);
            const expected = /==\s*(\S+)/.exec(leaf.label)?.[1];
            if (expected !== undefined) msg.expectedOutput = expected;
            run.failed(leaf, msg);
          }
        });
        if (r.errors.length > 0) {
          const msgs = r.errors.slice(0, 5).map((e) => {
            const m = new vscode.TestMessage(`${r.label}: ${e.message}`);
            m.location = new vscode.Location(uri, new vscode.Range(e.line, 0, e.line, 0));
            return m;
          });
          run.errored(item, msgs);
        } else if (failed > 0)
          run.failed(item, new vscode.TestMessage(`${failed} expectation(s) failed on ${r.label}`));
        else run.passed(item);
      }
    }
    run.end();
  }
}
