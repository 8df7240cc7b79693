/**
 * Settings per document. `kvmmu.kernel.default` and `kvmmu.inlayHints.enabled` are resource-scoped: a folder's or
 * a file's own value applies to the documents in it, so the server asks `workspace/configuration` with each
 * document's `scopeUri` and keeps the answer per document until the configuration changes. Clients that cannot be
 * asked push one object in `workspace/didChangeConfiguration`, which then applies to every document.
 */
import type { Connection } from 'vscode-languageserver/node';
import type { Settings } from '../../core/src/settings.js';
import { DEFAULT_SETTINGS, SETTINGS, SETTINGS_SECTION, readSettingsSection } from '../../core/src/settings.js';

export class SettingsHolder {
  /** Without a scope: the window's settings (or what a client pushed). */
  private global: Settings = { ...DEFAULT_SETTINGS };
  /** Per document URI, as the client answered for that scope. */
  private readonly perDocument = new Map<string, Settings>();
  /** Bumped when the configuration changes: an answer asked for before that is dropped. */
  private generation = 0;
  /** Set from the client's capabilities at initialize. */
  canPull = false;

  constructor(private readonly connection: Connection) {}

  /** The settings that apply to `uri` as far as known now (the window's until the document's were asked). */
  get(uri?: string): Settings {
    return (uri !== undefined ? this.perDocument.get(uri) : undefined) ?? this.global;
  }

  /** Whether the client answered for this document since the configuration last changed. */
  known(uri: string): boolean {
    return !this.canPull || this.perDocument.has(uri);
  }

  forget(uri: string): void {
    this.perDocument.delete(uri);
  }

  /**
   * Asks the client for the window's settings and each of `uris`' (one `workspace/configuration` request), and
   * returns the URIs whose settings differ from what `get` answered before. `pushed` is didChangeConfiguration's
   * payload, for clients that cannot be asked: it replaces the settings of every document.
   */
  async refresh(uris: readonly string[], pushed?: unknown): Promise<string[]> {
    const generation = ++this.generation;
    const before = new Map(uris.map((u) => [u, this.get(u)]));
    if (!this.canPull) {
      if (pushed && typeof pushed === 'object' && SETTINGS_SECTION in pushed)
        this.global = readSettingsSection((pushed as Record<string, unknown>)[SETTINGS_SECTION]);
      this.perDocument.clear();
      return uris.filter((u) => !sameSettings(before.get(u)!, this.get(u)));
    }
    const answers = await this.ask([undefined, ...uris]);
    // A newer refresh started meanwhile: its answer wins.
    if (generation !== this.generation) return [];
    this.perDocument.clear();
    if (answers) this.global = answers[0]!;
    // A failed answer leaves the window's settings in force (and the documents known: they are analysed).
    uris.forEach((u, i) => this.perDocument.set(u, answers?.[i + 1] ?? this.global));
    return uris.filter((u) => !sameSettings(before.get(u)!, this.get(u)));
  }

  /**
   * Asks for one document's settings (opened since the last refresh); true when they differ from `get`'s before.
   * Resolves only once they are known, so a caller may analyse the document then.
   */
  async load(uri: string): Promise<boolean> {
    if (this.known(uri)) return false;
    const generation = this.generation;
    const before = this.get(uri);
    const answers = await this.ask([uri]);
    // A refresh started meanwhile (it asks for every open document, this one included): its answer wins, so ask
    // again unless it has already come, and resolve only once this document's settings are known.
    if (generation !== this.generation) return this.load(uri);
    const settings = answers?.[0] ?? this.global;
    this.perDocument.set(uri, settings);
    return !sameSettings(before, settings);
  }

  /** The settings for any URI, open or not: asked for when not known (and not kept: the document may never open). */
  async resolve(uri: string): Promise<Settings> {
    if (this.known(uri)) return this.get(uri);
    return (await this.ask([uri]))?.[0] ?? this.global;
  }

  /** The settings for each scope (undefined: the window), or undefined when the client failed to answer. */
  private async ask(scopes: (string | undefined)[]): Promise<Settings[] | undefined> {
    try {
      const items = scopes.map((scopeUri) =>
        scopeUri === undefined ? { section: SETTINGS_SECTION } : { scopeUri, section: SETTINGS_SECTION },
      );
      const answer: unknown = await this.connection.workspace.getConfiguration(items);
      // Asked with an array, vscode-languageserver answers with one (empty when the client's answer was not one).
      const list: unknown[] = Array.isArray(answer) ? answer : [];
      if (list.length !== scopes.length) return undefined;
      return list.map(readSettingsSection);
    } catch {
      // A client that advertised the capability but fails: keep what we have.
      return undefined;
    }
  }
}

function sameSettings(a: Settings, b: Settings): boolean {
  return SETTINGS.every((d) => a[d.field] === b[d.field]);
}
