import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);
const BLOCK = 512;

/**
 * The regular files of a .tar.gz held in memory, by path. Reads what Helm's archives (Go's archive/tar) and
 * common tools write: ustar (with its name prefix), PAX `path` records and GNU long names. Unpacking stops at
 * `maxBytes`, so a small archive cannot expand into all of memory. Throws an Error saying what is wrong.
 */
export async function readTarGz(archive: Uint8Array, maxBytes: number): Promise<Map<string, Uint8Array>> {
  let tar: Buffer;
  try {
    tar = await gunzipAsync(archive, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === 'ERR_BUFFER_TOO_LARGE' ? `it unpacks to more than ${maxBytes} bytes` : `not gzip: ${e.message}`);
  }
  const files = new Map<string, Uint8Array>();
  // a PAX or GNU long name, for the entry after it
  let longName: string | undefined;
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return files;
    if (checksum(header) !== octal(header, 148, 8)) throw new Error(`not a tar archive (bad header checksum at byte ${offset})`);
    const size = octal(header, 124, 12);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw new Error('the tar archive is cut short');
    const data = tar.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;

    const type = String.fromCharCode(header[156]);
    if (type === 'x') longName = paxPath(data) ?? longName;
    else if (type === 'L') longName = text(data, 0, data.length);
    else {
      const name = longName ?? headerName(header);
      longName = undefined;
      if (type === '0' || type === '\0') files.set(name.replace(/^\.\//, ''), data);
    }
  }
  // some writers leave out the closing zero blocks; a part of a header is a cut
  if (offset < tar.length) throw new Error('the tar archive is cut short');
  return files;
}

const text = (block: Uint8Array, at: number, length: number) => {
  const field = block.subarray(at, at + length);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
};

function octal(block: Uint8Array, at: number, length: number): number {
  const digits = text(block, at, length).trim();
  if (!/^[0-7]*$/.test(digits)) throw new Error('not a tar archive (bad number in a header)');
  return digits ? parseInt(digits, 8) : 0;
}

/** the sum of the header's bytes, the checksum field counted as spaces */
function checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum;
}

/** ustar splits a long name into a prefix (POSIX ustar only; GNU keeps other fields there) and a name */
function headerName(header: Uint8Array): string {
  const name = text(header, 0, 100);
  const posix = text(header, 257, 6) === 'ustar';
  const prefix = posix ? text(header, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** the `path` of PAX records, each "<length> <key>=<value>\n" */
function paxPath(data: Uint8Array): string | undefined {
  const records = Buffer.from(data);
  let path: string | undefined;
  for (let at = 0; at < records.length; ) {
    const space = records.indexOf(0x20, at);
    const length = Number(records.subarray(at, space).toString());
    if (space < 0 || !Number.isInteger(length) || length <= 0) throw new Error('not a tar archive (bad PAX record)');
    const record = records.subarray(space + 1, at + length - 1).toString('utf8');
    if (record.startsWith('path=')) path = record.slice('path='.length);
    at += length;
  }
  return path;
}
