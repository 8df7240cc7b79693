/** The server's one settings object, refreshed from `workspace/configuration` on change. */
import type { Connection } from 'vscode-languageserver/node';
import type { Settings } from '../../core/src/settings.js';
import { DEFAULT_SETTINGS, SETTINGS_SECTION, readSettingsSection } from '../../core/src/settings.js';

export class SettingsHolder {
  private current: Settings = { ...DEFAULT_SETTINGS };
  /** Set from the client's capabilities at initialize. */
  canPull = false;

  get(): Settings {
    return this.current;
  }

  /** Pulls settings from the client; `pushed` is didChangeConfiguration's payload for clients that cannot be asked. */
  async refresh(connection: Connection, pushed?: unknown): Promise<Settings> {
    if (this.canPull) {
      try {
        const section: unknown = await connection.workspace.getConfiguration({ section: SETTINGS_SECTION });
        this.current = readSettingsSection(section);
        return this.current;
      } catch {
        // A client that advertised the capability but fails: keep what we have.
        return this.current;
      }
    }
    if (pushed && typeof pushed === 'object' && SETTINGS_SECTION in pushed) {
      this.current = readSettingsSection((pushed as Record<string, unknown>)[SETTINGS_SECTION]);
    }
    return this.current;
  }
}
