/** Command ids, shared by the command table and the manifest test (no `vscode` import here). */
export const COMMANDS = {
  openRootPanel: 'kvmmu.openRootPanel',
  compareWithKernel: 'kvmmu.compareWithKernel',
  /** The CodeLens "differs on … · why?" (not in the palette: it takes the lens's line and kernel). */
  whyDiffers: 'kvmmu.whyDiffers',
  exportTimeline: 'kvmmu.exportTimeline',
  restartServer: 'kvmmu.restartServer',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];
