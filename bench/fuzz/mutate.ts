// Seeded mutations of valid inputs: byte-level (truncation, bit flips, insertion, deletion,
// duplication), encodings (invalid UTF-8, UTF-16, BOMs, line endings), and structure-aware ones for
// JSON (huge numbers, deep nesting, wrong types, unknown keys) and CSV (extreme fields, quotes,
// headers). Each returns the new bytes and a short name of what it did, for the report.

export type Random = () => number;

export interface Mutation {
  bytes: Uint8Array;
  did: string;
}

const int = (random: Random, n: number): number => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)];
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

const SPECIAL_BYTES = [0x00, 0x22, 0x2c, 0x0a, 0x0d, 0x09, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0xff, 0xfe, 0xc3, 0xe2, 0xf0, 0x80, 0xef];
const INVALID_UTF8 = [[0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** Byte-level damage, for any file. */
export function mutateBytes(bytes: Uint8Array, random: Random): Mutation {
  const at = bytes.length === 0 ? 0 : int(random, bytes.length);
  switch (int(random, 8)) {
    case 0: {
      const keep = int(random, bytes.length + 1);
      return { bytes: bytes.slice(0, keep), did: `truncate to ${keep}` };
    }
    case 1: {
      const out = bytes.slice();
      const flips = 1 + int(random, 8);
      for (let i = 0; i < flips && out.length > 0; i++) out[int(random, out.length)] ^= 1 << int(random, 8);
      return { bytes: out, did: `flip ${flips} bits` };
    }
    case 2: {
      const out = bytes.slice();
      if (out.length > 0) out[at] ^= 1 << int(random, 8);
      return { bytes: out, did: `flip a bit at ${at}` };
    }
    case 3: {
      const insert = Uint8Array.from({ length: 1 + int(random, 4) }, () => (random() < 0.6 ? pick(random, SPECIAL_BYTES) : int(random, 256)));
      return { bytes: splice(bytes, at, 0, insert), did: `insert ${insert.length} bytes at ${at}` };
    }
    case 4: {
      const remove = Math.min(bytes.length - at, 1 + int(random, 16));
      return { bytes: splice(bytes, at, remove, new Uint8Array(0)), did: `delete ${remove} bytes at ${at}` };
    }
    case 5: {
      const length = Math.min(bytes.length - at, 1 + int(random, 64));
      return { bytes: splice(bytes, at, 0, bytes.slice(at, at + length)), did: `duplicate ${length} bytes at ${at}` };
    }
    case 6: {
      const out = bytes.slice();
      const start = int(random, Math.max(1, out.length));
      const length = Math.min(out.length - start, 1 + int(random, 32));
      out.fill(pick(random, [0x00, 0xff, 0x41]), start, start + length);
      return { bytes: out, did: `overwrite ${length} bytes at ${start}` };
    }
    default: {
      const cut = int(random, bytes.length + 1);
      return { bytes: bytes.slice(cut), did: `drop the first ${cut} bytes` };
    }
  }
}

/** Encoding damage, for text files. */
export function mutateEncoding(text: string, random: Random): Mutation {
  const bytes = utf8(text);
  switch (int(random, 7)) {
    case 0: {
      const at = int(random, bytes.length + 1);
      const bad = Uint8Array.from(pick(random, INVALID_UTF8));
      return { bytes: splice(bytes, at, 0, bad), did: `invalid UTF-8 at ${at}` };
    }
    case 1: {
      const le = random() < 0.5;
      const out = new Uint8Array(2 + text.length * 2);
      out.set(le ? [0xff, 0xfe] : [0xfe, 0xff]);
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        out[2 + 2 * i + (le ? 0 : 1)] = code & 0xff;
        out[2 + 2 * i + (le ? 1 : 0)] = code >> 8;
      }
      return { bytes: out, did: `UTF-16${le ? 'LE' : 'BE'} with BOM` };
    }
    case 2:
      return { bytes: splice(bytes, 0, 0, Uint8Array.of(0xef, 0xbb, 0xbf)), did: 'UTF-8 BOM' };
    case 3:
      return { bytes: utf8(text.replace(/\r?\n/g, '\r')), did: 'CR-only line endings' };
    case 4:
      return { bytes: utf8(text.replace(/\n/g, '\r\n')), did: 'CRLF line endings' };
    case 5:
      return { bytes: utf8(text.replace(/[a-z]/g, (c) => (random() < 0.05 ? '\u0000' : c))), did: 'NUL characters' };
    default: {
      const at = int(random, text.length + 1);
      return { bytes: utf8(`${text.slice(0, at)}\uD800${text.slice(at)}`.replace(/\uD800/, '\uFFFD\u200B\u202E')), did: `odd code points at ${at}` };
    }
  }
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const EXTREME_VALUES: ReadonlyArray<() => JsonValue> = [
  () => 1e308,
  () => -1e308,
  () => 2 ** 53 + 1,
  () => -0,
  () => 0,
  () => -1,
  () => 1.5,
  () => 65536,
  () => 4294967296,
  () => '',
  () => 'x'.repeat(100_000),
  () => '\u0000',
  () => null,
  () => true,
  () => [],
  () => ({}),
  () => ({ unexpected: 1 }),
  () => '(a+)+$',
  () => '(a)\\1',
  () => '%Y%Q',
];

/** Replaces, removes or adds one node of a JSON document; text-level tricks for what JSON.parse cannot build. */
export function mutateJson(text: string, random: Random): Mutation {
  let document: JsonValue;
  try {
    document = JSON.parse(text) as JsonValue;
  } catch {
    return mutateBytes(utf8(text), random);
  }
  const nodes: Array<{ parent: JsonValue[] | { [key: string]: JsonValue }; key: string | number; path: string }> = [];
  const walk = (value: JsonValue, path: string): void => {
    if (Array.isArray(value)) value.forEach((child, i) => (nodes.push({ parent: value, key: i, path: `${path}[${i}]` }), walk(child, `${path}[${i}]`)));
    else if (value !== null && typeof value === 'object') for (const [key, child] of Object.entries(value)) (nodes.push({ parent: value, key, path: `${path}.${key}` }), walk(child, `${path}.${key}`));
  };
  walk(document, '$');
  if (nodes.length === 0) return mutateBytes(utf8(text), random);
  const node = pick(random, nodes);
  const set = (value: JsonValue): void => {
    (node.parent as Record<string | number, JsonValue>)[node.key] = value;
  };
  switch (int(random, 6)) {
    case 0:
      set(pick(random, EXTREME_VALUES)());
      return { bytes: utf8(JSON.stringify(document)), did: `${node.path} = extreme value` };
    case 1:
      if (Array.isArray(node.parent)) node.parent.splice(node.key as number, 1);
      else delete node.parent[node.key as string];
      return { bytes: utf8(JSON.stringify(document)), did: `delete ${node.path}` };
    case 2: {
      // Written as text: JSON.stringify itself overflows the stack on thousands of levels.
      const depth = 50 + int(random, 5000);
      set('\u0000NEST\u0000');
      const nested = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
      return { bytes: utf8(JSON.stringify(document).replace('"\\u0000NEST\\u0000"', nested)), did: `${node.path} = ${depth} levels deep` };
    }
    case 3:
      if (!Array.isArray(node.parent)) node.parent[`${String(node.key)}_unknown`] = 1;
      return { bytes: utf8(JSON.stringify(document)), did: `unknown key beside ${node.path}` };
    case 4: {
      // Numbers JSON.stringify cannot write: 1e400 (Infinity once parsed), huge integers.
      const json = JSON.stringify(document);
      const out = json.replace(/\d+/, pick(random, ['1e400', '123456789012345678901234567890', '-0.0e-400', '1' + '0'.repeat(400)]));
      return { bytes: utf8(out), did: 'a number beyond doubles' };
    }
    default: {
      const json = JSON.stringify(document);
      const at = int(random, json.length);
      return { bytes: utf8(`${json.slice(0, at)}${pick(random, ['\\ud800', '"', ',', '}', ']', '\\u0000', '\u2028'])}${json.slice(at)}`), did: `escape trick at ${at}` };
    }
  }
}

/** Structure-aware CSV damage: extreme fields, quotes in odd places, broken headers. */
export function mutateCsv(text: string, random: Random): Mutation {
  const lines = text.split('\n');
  const row = 1 + int(random, Math.max(1, lines.length - 2));
  const cells = (lines[row] ?? '').split(',');
  const cell = int(random, Math.max(1, cells.length));
  switch (int(random, 9)) {
    case 0:
      cells[cell] = 'x'.repeat(pick(random, [100_000, 1_100_000]));
      lines[row] = cells.join(',');
      return { bytes: utf8(lines.join('\n')), did: `line ${row + 1}: a huge field` };
    case 1:
      cells[cell] = `${cells[cell]}"`;
      lines[row] = cells.join(',');
      return { bytes: utf8(lines.join('\n')), did: `line ${row + 1}: a stray quote` };
    case 2:
      cells[cell] = `"${cells[cell]}`;
      lines[row] = cells.join(',');
      return { bytes: utf8(lines.join('\n')), did: `line ${row + 1}: an unclosed quote` };
    case 3:
      lines[row] = cells.concat(cells).join(',');
      return { bytes: utf8(lines.join('\n')), did: `line ${row + 1}: twice the fields` };
    case 4:
      lines[row] = '';
      return { bytes: utf8(lines.join('\n')), did: `line ${row + 1}: emptied` };
    case 5:
      return { bytes: utf8(lines.slice(1).join('\n')), did: 'no header row' };
    case 6: {
      const header = lines[0].split(',');
      header.push(pick(random, header));
      lines[0] = header.join(',');
      return { bytes: utf8(lines.join('\n')), did: 'a header name repeated' };
    }
    case 7:
      return { bytes: utf8(lines.slice(0, 1).join('\n')), did: 'header only' };
    default:
      cells[cell] = pick(random, ['1e400', '-0', '99999999999999999999', '\u00e9\u0301', 'NaN', '13/45/1990', '00000']);
      lines[row] = cells.join(',');
      return { bytes: utf8(lines.join('\n')), did: `line ${row + 1}: an odd value` };
  }
}
