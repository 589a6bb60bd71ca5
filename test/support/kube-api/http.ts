import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from './status.js';

export function send(res: ServerResponse, code: number, body: object): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJson<T>(req: IncomingMessage): Promise<T> {
  return parseBody(await readBody(req), JSON.parse);
}

/** A body that does not parse is a 400, as from the real server. */
export function parseBody<T>(text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    throw badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

/** A path segment, decoded; undefined when it is not valid percent-encoding. */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
