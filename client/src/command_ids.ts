/** Command ids, shared by the command table and the manifest test (no `vscode` import here). */
export const COMMANDS = {
  openRootPanel: 'kvmmu.openRootPanel',
  compareWithKernel: 'kvmmu.compareWithKernel',
  exportTimeline: 'kvmmu.exportTimeline',
  restartServer: 'kvmmu.restartServer',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

export const LANGUAGE_ID = 'kvmmu';
