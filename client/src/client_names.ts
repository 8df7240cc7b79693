import { SETTINGS_SECTION } from '../../core/src/settings.js';

/** The language client's id and name, the same in both builds; the id is the settings section, so that the client honours `kvmmu.trace.server`. */
export const CLIENT_ID = SETTINGS_SECTION;
export const CLIENT_NAME = 'KVM MMU Language Server';
