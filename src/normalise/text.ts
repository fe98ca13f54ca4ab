// Folds free text to one canonical spelling (no accents, lower case, punctuation as single spaces)
// so that custodians who typed the same value differently still produce identical Bloom-filter tokens.

// Per-code-point actions. ASCII uses a lookup table; other code points are classified once by
// Unicode property and memoised, because a regex test per character is far slower than a Map hit.
const SPACE = 0; // separator: becomes (at most) one space between words
const KEEP = 1; // letter or digit
const DROP = 2; // vanishes without splitting the word (apostrophes, invisible format characters)
const MARK = 3; // combining mark: removed; see the spacing-accent note in foldSlow

const ASCII_ACTION = new Uint8Array(128); // zero-filled, i.e. SPACE
for (let c = 0x30; c <= 0x39; c++) ASCII_ACTION[c] = KEEP;
for (let c = 0x41; c <= 0x5a; c++) ASCII_ACTION[c] = KEEP;
for (let c = 0x61; c <= 0x7a; c++) ASCII_ACTION[c] = KEEP;
ASCII_ACTION[0x27] = DROP; // '  O'Connor and OConnor must match
ASCII_ACTION[0x60] = DROP; // `  a common apostrophe substitute on US keyboards

const HASH = 0x23;

// Letters that NFKD leaves whole but that have a conventional ASCII spelling. Upper-case forms
// never reach this table because the string is lower-cased first. Final sigma is folded to
// sigma as full Unicode case folding does, so word position does not change a Greek token.
const LETTER_SUBSTITUTES: ReadonlyMap<number, string> = new Map([
  [0x00df, 'ss'], // ß
  [0x00e6, 'ae'], // æ
  [0x0153, 'oe'], // œ
  [0x00f8, 'o'], // ø
  [0x0142, 'l'], // ł
  [0x0111, 'd'], // đ
  [0x00f0, 'd'], // ð
  [0x00fe, 'th'], // þ
  [0x0131, 'i'], // dotless ı
  [0x0127, 'h'], // ħ
  [0x0167, 't'], // ŧ
  [0x0259, 'e'], // ə
  [0x03c2, 'σ'], // final ς
]);

// Apostrophe look-alikes (curly quotes, modifier letters, primes) that people type inside names.
// Several are Unicode letters (Lm), so without this list they would be kept as part of the word.
const APOSTROPHES = [0x2018, 0x2019, 0x201b, 0x2032, 0x02b9, 0x02bb, 0x02bc, 0x02bd];

const IS_MARK = /^\p{M}$/u;
const IS_WORD = /^[\p{L}\p{N}]$/u;
const IS_FORMAT = /^\p{Cf}$/u; // soft hyphen, zero-width joiners, BOM: invisible, so not a word break

const MAX_CACHED = 1 << 16; // bounds memory if fed adversarial input covering all of Unicode
const actionCache = new Map<number, number>(APOSTROPHES.map((cp) => [cp, DROP]));

function classify(cp: number): number {
  const cached = actionCache.get(cp);
  if (cached !== undefined) return cached;
  const ch = String.fromCodePoint(cp);
  const action = IS_MARK.test(ch) ? MARK : IS_WORD.test(ch) ? KEEP : IS_FORMAT.test(ch) ? DROP : SPACE;
  if (actionCache.size < MAX_CACHED) actionCache.set(cp, action);
  return action;
}

const FOLDED = 0;
const ASCII = 1;
const NON_ASCII = 2;

/** Scans once: is the value already folded, plain ASCII needing work, or non-ASCII? */
function scan(value: string): number {
  let folded = true;
  let afterSpace = true; // rejects a leading space and doubled spaces
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) return NON_ASCII;
    if (!folded) continue;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) afterSpace = false;
    else if (c === 0x20 && !afterSpace) afterSpace = true;
    else folded = false;
  }
  return folded && !(afterSpace && value.length > 0) ? FOLDED : ASCII;
}

function foldSlow(value: string, nonAscii: boolean, keepHash: boolean): string {
  // Lower-casing after NFKD keeps decomposed forms decomposed (İ becomes i + combining dot).
  const s = (nonAscii ? value.normalize('NFKD') : value).toLowerCase();
  let out = '';
  let pendingSpace = false;
  // NFKD writes spacing accents (´ ¨ ˜) as a space plus a combining mark. "O´Brien" uses ´ as an
  // apostrophe, so a mark straight after a space cancels that space instead of splitting the word.
  let pendingBeforeSpace = false;
  let lastWasSpace = false;

  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      const action = ASCII_ACTION[c];
      if (action === KEEP) {
        if (pendingSpace && out.length > 0) out += ' ';
        pendingSpace = false;
        out += s[i];
      } else if (action === SPACE) {
        if (keepHash && c === HASH) {
          if (out.length > 0) out += ' ';
          out += '#';
        }
        if (c === 0x20) pendingBeforeSpace = pendingSpace;
        pendingSpace = true;
      }
      lastWasSpace = c === 0x20;
      continue;
    }

    let cp = c;
    let end = i + 1;
    if (c >= 0xd800 && c <= 0xdbff && end < s.length) {
      const low = s.charCodeAt(end);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        end++;
      }
    }

    const substitute = LETTER_SUBSTITUTES.get(cp);
    const action = substitute === undefined ? classify(cp) : KEEP;
    if (action === KEEP) {
      if (pendingSpace && out.length > 0) out += ' ';
      pendingSpace = false;
      out += substitute ?? s.slice(i, end);
    } else if (action === SPACE) {
      pendingSpace = true;
    } else if (action === MARK && lastWasSpace) {
      pendingSpace = pendingBeforeSpace;
    }
    lastWasSpace = false;
    i = end - 1;
  }
  return out;
}

/**
 * Canonical form of free text: NFKD, combining marks removed, ß/æ/ø/ł/... spelled out, lower
 * case, apostrophes deleted, every other punctuation or symbol run (hyphens included) and all
 * whitespace collapsed to one space, trimmed. Digits and non-Latin letters are kept.
 */
export function foldText(value: string): string {
  const kind = scan(value);
  return kind === FOLDED ? value : foldSlow(value, kind === NON_ASCII, false);
}

/**
 * foldText, except that each `#` survives as a word of its own. Addresses need it because
 * "#4" means "apartment 4".
 */
export function foldTextKeepingHash(value: string): string {
  const kind = scan(value);
  return kind === FOLDED ? value : foldSlow(value, kind === NON_ASCII, true);
}
