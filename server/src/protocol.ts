/** The server's side of core/src/protocol.ts: a request object registered with its types. */
import type { CancellationToken, Connection, GenericRequestHandler, ResponseError } from 'vscode-languageserver/node';
import type { RequestType } from '../../core/src/protocol.js';

export type Answer<R> = R | ResponseError<void>;

/**
 * Registers `handler` for `request.method`. The params are what the client sent: typed as the protocol says, but
 * every handler still checks them (a client may send anything).
 */
export function onRequest<P, R>(
  connection: Connection,
  request: RequestType<P, R>,
  handler: (params: P, token: CancellationToken) => Answer<R> | Promise<Answer<R>>,
): void {
  // The generic overload: the method string is the registration, the types were checked above.
  connection.onRequest(request.method, handler as GenericRequestHandler<unknown, void>);
}
