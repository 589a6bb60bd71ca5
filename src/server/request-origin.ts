import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The id a request goes by: the caller's `x-request-id` when it is a sane one (a proxy's trace), else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const asked = req.headers['x-request-id'];
  return typeof asked === 'string' && REQUEST_ID.test(asked) ? asked : randomUUID();
}

/**
 * The address a request came from: the socket's peer, or, behind a trusted reverse proxy, the last address of
 * X-Forwarded-For, the one that proxy added (those before it are whatever the client sent). IPv4 peers of a dual-stack
 * socket lose their `::ffff:` prefix.
 */
export function clientAddressOf(request: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? request.headers['x-forwarded-for'] : undefined;
  const address = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').at(-1)?.trim() || request.socket?.remoteAddress || 'unknown';
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}
