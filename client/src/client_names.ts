/** The language client's id and name, the same in both builds; the id `kvmmu` makes it honour `kvmmu.trace.server`. */
export const CLIENT_ID = 'kvmmu';
export const CLIENT_NAME = 'KVM MMU Language Server';
