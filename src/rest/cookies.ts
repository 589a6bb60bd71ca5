import type { FastifyReply } from 'fastify';

/**
 * Sets a cookie that scripts cannot read (HttpOnly), sent back on same-site requests and top-level navigations (Lax),
 * and marked Secure when the request came over https. `maxAge` 0 deletes it; left out, it lasts the browser's session.
 */
export function setCookie(reply: FastifyReply, name: string, value: string, options: { path?: string; maxAge?: number } = {}): void {
  const secure = reply.request.protocol === 'https' ? '; Secure' : '';
  const maxAge = options.maxAge === undefined ? '' : `; Max-Age=${options.maxAge}`;
  reply.header('set-cookie', `${name}=${encodeURIComponent(value)}; Path=${options.path ?? '/'}${maxAge}; HttpOnly; SameSite=Lax${secure}`);
}
