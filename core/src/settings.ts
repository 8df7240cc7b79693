/**
 * The extension's settings, defined once. The client reads them through `readSettings`, the server
 * through the same function over `workspace/configuration`, and a test checks package.json's
 * `contributes.configuration` against `configurationContribution()`.
 */
import { PROFILES, profileEras } from './kernel/behaviours.js';
import { eraSummary } from './kernel/eras.js';

export type TraceLevel = 'off' | 'messages' | 'verbose';

export interface Settings {
  kernelDefault: string;
  inlayHintsEnabled: boolean;
  traceServer: TraceLevel;
  /** Testing view: which kernels each scenario's expectations run under. */
  testingProfiles: TestingProfiles;
}

/** 'file': the file's own kernel line; 'mainline': every mainline profile; 'all': every profile, stable too. */
export type TestingProfiles = 'file' | 'mainline' | 'all';

interface Definition<K extends keyof Settings> {
  /** Full key, e.g. `kvmmu.kernel.default`. */
  key: string;
  field: K;
  type: 'string' | 'boolean';
  default: Settings[K];
  description: string;
  enum?: readonly string[];
  enumDescriptions?: readonly string[];
  scope: 'resource' | 'window';
}

export const SETTINGS_SECTION = 'kvmmu';

export const SETTINGS: readonly [
  Definition<'kernelDefault'>,
  Definition<'inlayHintsEnabled'>,
  Definition<'traceServer'>,
  Definition<'testingProfiles'>,
] = [
  {
    key: 'kvmmu.kernel.default',
    field: 'kernelDefault',
    type: 'string',
    default: 'latest',
    description: 'Kernel profile for scenarios without a `kernel` line.',
    enum: PROFILES.map((p) => p.name),
    enumDescriptions: PROFILES.map((p) => `${p.release} — ${eraSummary(profileEras(p))}`),
    scope: 'resource',
  },
  {
    key: 'kvmmu.inlayHints.enabled',
    field: 'inlayHintsEnabled',
    type: 'boolean',
    default: true,
    description: 'Show what KVM did at the end of every statement (e.g. `→ alloc #2 4-level SMM`).',
    scope: 'resource',
  },
  {
    key: 'kvmmu.trace.server',
    field: 'traceServer',
    type: 'string',
    default: 'off',
    description: 'Trace the communication between VS Code and the kvmmu language server.',
    enum: ['off', 'messages', 'verbose'],
    scope: 'window',
  },
  {
    key: 'kvmmu.testing.profiles',
    field: 'testingProfiles',
    type: 'string',
    default: 'file',
    description:
      "Which kernels the Testing view runs each scenario's `expect` lines under: the file's own `kernel` line, every mainline profile, or every profile (stable lines too).",
    enum: ['file', 'mainline', 'all'],
    enumDescriptions: [
      "the file's own kernel line (or the default profile)",
      'every mainline profile (v5.15 … v6.18)',
      'every profile, mainline and stable (as `kvmmu matrix`)',
    ],
    scope: 'resource',
  },
];

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  kernelDefault: SETTINGS[0].default,
  inlayHintsEnabled: SETTINGS[1].default,
  traceServer: SETTINGS[2].default,
  testingProfiles: SETTINGS[3].default,
};

/**
 * Typed settings from any source: `get(key)` returns the raw value for a full key (`kvmmu.kernel.default`).
 * Values of the wrong type or outside the enum fall back to the default.
 */
export function readSettings(get: (key: string) => unknown): Settings {
  const out: Settings = { ...DEFAULT_SETTINGS };
  for (const def of SETTINGS) {
    const v = get(def.key);
    if (typeof v !== def.type) continue;
    if (def.enum && !def.enum.includes(v as string)) continue;
    (out as unknown as Record<string, unknown>)[def.field] = v;
  }
  return out;
}

/** Reads from the nested object `workspace/configuration` returns for the `kvmmu` section. */
export function readSettingsSection(section: unknown): Settings {
  return readSettings((key) => {
    let node: unknown = section;
    for (const part of key.split('.').slice(1)) {
      if (typeof node !== 'object' || node === null) return undefined;
      // VS Code returns both nested objects and, for dotted keys, flat ones; accept either.
      const rec = node as Record<string, unknown>;
      node = rec[part];
    }
    return node;
  });
}

/** The `contributes.configuration` object package.json must contain. */
export function configurationContribution(): { title: string; properties: Record<string, Record<string, unknown>> } {
  const properties: Record<string, Record<string, unknown>> = {};
  for (const def of SETTINGS) {
    properties[def.key] = {
      type: def.type,
      default: def.default,
      ...(def.enum ? { enum: [...def.enum] } : {}),
      ...(def.enumDescriptions ? { enumDescriptions: [...def.enumDescriptions] } : {}),
      markdownDescription: def.description,
      scope: def.scope,
    };
  }
  return { title: 'KVM MMU', properties };
}
