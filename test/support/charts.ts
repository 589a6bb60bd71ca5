import { gzipSync } from 'node:zlib';

const BLOCK = 512;

/**
 * A .tar.gz of `files` (path → contents), written as Helm writes chart archives: ustar headers, and a PAX `path`
 * record before an entry whose path is over 100 characters. Written from the format, not with the reader under test.
 */
export function tarGz(files: Record<string, string | Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  const entry = (path: string, type: string, data: Uint8Array) => {
    blocks.push(header(path.slice(0, 100), type, data.length), padded(data));
  };
  for (const [path, contents] of Object.entries(files)) {
    const data = typeof contents === 'string' ? Buffer.from(contents) : contents;
    if (Buffer.byteLength(path) > 100) entry('PaxHeader', 'x', Buffer.from(paxRecord('path', path)));
    entry(path, '0', data);
  }
  blocks.push(new Uint8Array(2 * BLOCK));
  return gzipSync(Buffer.concat(blocks));
}

/** A Helm chart archive: `<name>/Chart.yaml`, `<name>/values.yaml`, and `files` under `<name>/`. */
export function chartArchive(name: string, files: Record<string, string>, version = '1.0.0'): Uint8Array {
  return tarGz({
    [`${name}/Chart.yaml`]: `apiVersion: v2\nname: ${name}\nversion: ${version}\n`,
    [`${name}/values.yaml`]: 'replicaCount: 1\n',
    ...Object.fromEntries(Object.entries(files).map(([path, contents]) => [`${name}/${path}`, contents])),
  });
}

function header(name: string, type: string, size: number): Uint8Array {
  const block = Buffer.alloc(BLOCK);
  const put = (at: number, length: number, value: string) => block.write(value, at, length, 'utf8');
  const num = (at: number, length: number, value: number) => put(at, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  put(0, 100, name);
  num(100, 8, 0o644);
  num(108, 8, 0);
  num(116, 8, 0);
  num(124, 12, size);
  num(136, 12, 0);
  put(156, 1, type);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  // the checksum is the sum of the header's bytes with its own field as spaces
  put(148, 8, '        ');
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  out.set(data);
  return out;
}

/** "<length> <key>=<value>\n", the length counting itself */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}
