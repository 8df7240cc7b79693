/** `kvmmu --version`. The same as the extension's package.json version (a test holds them equal). */
export const VERSION = '0.1.0';
