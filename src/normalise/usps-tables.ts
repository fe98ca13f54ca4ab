// Word tables for address normalisation, after USPS Publication 28 (street suffixes, directionals,
// secondary unit designators), keyed by folded lower-case word and giving the canonical form.

type Groups = ReadonlyArray<readonly [canonical: string, variants: readonly string[]]>;

/** Builds a word map; throws at load time if a word is listed twice, which would be ambiguous. */
function wordMap(groups: Groups): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (const [canonical, variants] of groups) {
    for (const word of [canonical, ...variants]) {
      const existing = map.get(word);
      if (existing !== undefined && existing !== canonical) {
        throw new Error(`usps-tables: "${word}" maps to both ${existing} and ${canonical}`);
      }
      map.set(word, canonical);
    }
  }
  return map;
}

// Omitted on purpose: suffixes whose abbreviation is an everyday English word that appears
// inside street names (ISLAND "is", VIADUCT "via"), which would corrupt more than they fix.
export const STREET_SUFFIXES = wordMap([
  ['aly', ['alley', 'allee', 'ally']],
  ['anx', ['annex', 'anex', 'annx']],
  ['arc', ['arcade']],
  ['ave', ['avenue', 'av', 'aven', 'avenu', 'avn', 'avnue']],
  ['bch', ['beach']],
  ['bnd', ['bend']],
  ['blf', ['bluff', 'bluf']],
  ['blvd', ['boulevard', 'boul', 'boulv']],
  ['br', ['branch', 'brnch']],
  ['brg', ['bridge', 'brdge']],
  ['brk', ['brook']],
  ['byp', ['bypass', 'bypa', 'bypas', 'byps']],
  ['cswy', ['causeway', 'causwa']],
  ['ctr', ['center', 'centre', 'cent', 'centr', 'cntr', 'cnter']],
  ['cir', ['circle', 'circ', 'circl', 'crcl', 'crcle']],
  ['clf', ['cliff']],
  ['cmn', ['common']],
  ['cor', ['corner']],
  ['ct', ['court']],
  ['cts', ['courts']],
  ['cv', ['cove']],
  ['crk', ['creek']],
  ['cres', ['crescent', 'crsent', 'crsnt']],
  ['xing', ['crossing', 'crssng']],
  ['cyn', ['canyon', 'canyn', 'cnyn']],
  ['dl', ['dale']],
  ['dr', ['drive', 'driv', 'drv']],
  ['est', ['estate']],
  ['ests', ['estates']],
  ['expy', ['expressway', 'exp', 'expr', 'express', 'expw']],
  ['ext', ['extension', 'extn', 'extnsn']],
  ['fls', ['falls']],
  ['fry', ['ferry', 'frry']],
  ['fld', ['field']],
  ['flds', ['fields']],
  ['frst', ['forest', 'forests']],
  ['frk', ['fork']],
  ['ft', ['fort', 'frt']],
  ['fwy', ['freeway', 'freewy', 'frway', 'frwy']],
  ['gdn', ['garden', 'gardn', 'grden', 'grdn']],
  ['gdns', ['gardens', 'grdns']],
  ['gtwy', ['gateway', 'gatewy', 'gatway', 'gtway']],
  ['gln', ['glen']],
  ['grn', ['green']],
  ['grv', ['grove', 'grov']],
  ['hbr', ['harbor', 'harbour', 'harb', 'harbr', 'hrbor']],
  ['hvn', ['haven']],
  ['hts', ['heights', 'ht']],
  ['hwy', ['highway', 'highwy', 'hiway', 'hiwy', 'hway']],
  ['hl', ['hill']],
  ['hls', ['hills']],
  ['holw', ['hollow', 'hllw', 'hollows', 'holws']],
  ['jct', ['junction', 'jction', 'jctn', 'junctn', 'juncton']],
  ['knl', ['knoll', 'knol']],
  ['lk', ['lake']],
  ['lndg', ['landing', 'lndng']],
  ['ln', ['lane']],
  ['loop', ['loops']],
  ['mall', []],
  ['mnr', ['manor']],
  ['mdws', ['meadows', 'mdw', 'medows']],
  ['ml', ['mill']],
  ['mt', ['mount', 'mnt']],
  ['mtn', ['mountain', 'mntain', 'mntn', 'mountin', 'mtin']],
  ['orch', ['orchard', 'orchrd']],
  ['oval', ['ovl']],
  ['park', ['parks', 'prk']],
  ['pkwy', ['parkway', 'parkwy', 'pkway', 'pky', 'parkways', 'pkwys']],
  ['pass', []],
  ['path', ['paths']],
  ['pike', ['pikes']],
  ['pnes', ['pines']],
  ['pl', ['place']],
  ['pln', ['plain']],
  ['plns', ['plains']],
  ['plz', ['plaza', 'plza']],
  ['pt', ['point']],
  ['prt', ['port']],
  ['radl', ['radial', 'rad', 'radiel']],
  ['rnch', ['ranch', 'ranches', 'rnchs']],
  ['rdg', ['ridge', 'rdge']],
  ['riv', ['river', 'rvr', 'rivr']],
  ['rd', ['road']],
  ['rte', ['route']],
  ['row', []],
  ['run', []],
  ['shr', ['shore', 'shoar']],
  ['spg', ['spring', 'spng', 'sprng']],
  ['sq', ['square', 'sqr', 'sqre', 'squ']],
  ['sta', ['station', 'statn', 'stn']],
  ['st', ['street', 'str', 'strt']],
  ['smt', ['summit', 'sumit', 'sumitt']],
  ['ter', ['terrace', 'terr']],
  ['trce', ['trace', 'traces']],
  ['trak', ['track', 'tracks', 'trk', 'trks']],
  ['trl', ['trail', 'trails', 'trls']],
  ['tpke', ['turnpike', 'trnpk', 'turnpk']],
  ['tunl', ['tunnel', 'tunel', 'tunls', 'tunnels', 'tunnl']],
  ['vly', ['valley', 'vally', 'vlly']],
  ['vw', ['view']],
  ['vlg', ['village', 'vill', 'villag', 'villg', 'villiage']],
  ['vis', ['vista', 'vist', 'vst', 'vsta']],
  ['walk', ['walks']],
  ['way', ['wy']],
]);

export const DIRECTIONALS = wordMap([
  ['n', ['north']],
  ['s', ['south']],
  ['e', ['east']],
  ['w', ['west']],
  ['ne', ['northeast']],
  ['nw', ['northwest']],
  ['se', ['southeast']],
  ['sw', ['southwest']],
]);

// Only designators that are not also ordinary street-name words (FRONT, REAR, LOWER, LOT, ...).
export const UNIT_DESIGNATORS = wordMap([
  ['apt', ['apartment', 'apartmt', 'appt']],
  ['ste', ['suite']],
  ['unit', []],
  ['fl', ['floor', 'flr']],
  ['bldg', ['building', 'bldng']],
  ['rm', ['room']],
  ['dept', ['department']],
  ['ofc', ['office']],
  ['ph', ['penthouse']],
  ['bsmt', ['basement']],
  ['trlr', ['trailer']],
]);

export const ORDINAL_WORDS = wordMap([
  ['1st', ['first']],
  ['2nd', ['second']],
  ['3rd', ['third']],
  ['4th', ['fourth']],
  ['5th', ['fifth']],
  ['6th', ['sixth']],
  ['7th', ['seventh']],
  ['8th', ['eighth']],
  ['9th', ['ninth']],
  ['10th', ['tenth']],
  ['11th', ['eleventh']],
  ['12th', ['twelfth']],
  ['13th', ['thirteenth']],
  ['14th', ['fourteenth']],
  ['15th', ['fifteenth']],
  ['16th', ['sixteenth']],
  ['17th', ['seventeenth']],
  ['18th', ['eighteenth']],
  ['19th', ['nineteenth']],
  ['20th', ['twentieth']],
]);

/**
 * Abbreviations that mean a title, not a suffix, when they open a street name ("St Charles",
 * "Mt Vernon"). Expanded so the abbreviated and spelled-out forms agree.
 */
export const LEADING_EXPANSIONS = wordMap([
  ['saint', ['st']],
  ['mount', ['mt']],
  ['fort', ['ft']],
  ['point', ['pt']],
]);
