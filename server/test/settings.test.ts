import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import {
  configurationContribution,
  DEFAULT_SETTINGS,
  readSettings,
  readSettingsSection,
} from '../../core/src/settings.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  contributes: {
    configuration: unknown;
    configurationDefaults?: Record<string, Record<string, unknown>>;
    snippets?: unknown;
    commands: { command: string }[];
    menus: Record<string, { command: string }[]>;
  };
  engines: { vscode: string };
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean }; virtualWorkspaces: boolean };
};

describe('editor defaults for .kvmmu', () => {
  it('Enter starts a new line unless accepting a suggestion changes the text (typing line by line just works)', () => {
    const kvmmu = pkg.contributes.configurationDefaults?.['[kvmmu]'];
    assert.equal(kvmmu?.['editor.acceptSuggestionOnEnter'], 'smart');
    assert.equal(kvmmu?.['editor.wordBasedSuggestions'], 'off');
  });

  it('snippets come from the language server (in context), not a snippets file shown everywhere', () => {
    assert.equal(pkg.contributes.snippets, undefined);
  });
});

describe('settings, single-sourced', () => {
  it('package.json contributes.configuration is exactly core/src/settings.ts', () => {
    assert.deepEqual(pkg.contributes.configuration, configurationContribution());
  });

  it('reads typed values and falls back to defaults on junk', () => {
    assert.deepEqual(
      readSettingsSection({
        kernel: { default: 'v6.3' },
        inlayHints: { enabled: false },
        trace: { server: 'verbose' },
        testing: { profiles: 'mainline' },
      }),
      {
        kernelDefault: 'v6.3',
        inlayHintsEnabled: false,
        traceServer: 'verbose',
        testingProfiles: 'mainline',
      },
    );
    assert.deepEqual(
      readSettingsSection({ kernel: { default: 'v9.9' }, inlayHints: { enabled: 'no' } }),
      DEFAULT_SETTINGS,
    );
    assert.deepEqual(readSettingsSection(null), DEFAULT_SETTINGS);
    assert.equal(readSettings((k) => (k === 'kvmmu.kernel.default' ? 'v5.15' : undefined)).kernelDefault, 'v5.15');
  });
});

describe('extension manifest', () => {
  it('declares the commands the client registers, and stays installable in code-server 1.91+', () => {
    const ids = pkg.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(ids, [
      'kvmmu.compareWithKernel',
      'kvmmu.exportTimeline',
      'kvmmu.openRootPanel',
      'kvmmu.restartServer',
      'kvmmu.whyDiffers',
    ]);
    // The client registers exactly these (read as text: the client package is not importable from here).
    const table = readFileSync(new URL('../../client/src/command_ids.ts', import.meta.url), 'utf8');
    assert.deepEqual([...table.matchAll(/'(kvmmu\.[A-Za-z]+)'/g)].map((m) => m[1]).sort(), ids);
    assert.ok(pkg.contributes.menus['editor/title']?.some((m) => m.command === 'kvmmu.openRootPanel'));
    assert.equal(pkg.engines.vscode, '^1.91.0');
    assert.ok(pkg.activationEvents.includes('onLanguage:kvmmu'));
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, true);
    assert.equal(pkg.capabilities.virtualWorkspaces, true);
  });
});
