// Field normalisation against messy real-world values: spelling variants of one value must fold
// to the same string, impossible dates must be rejected, and normalising twice changes nothing.
import { describe, expect, it } from 'vitest';
import {
  digitsOnly,
  foldText,
  formatDate,
  makeNormaliser,
  normaliseAddress,
  normaliseDate,
  normaliseName,
  parseDate,
  type DateOrder,
} from '../src/normalise/index.js';
import {
  DIRECTIONALS,
  LEADING_EXPANSIONS,
  ORDINAL_WORDS,
  STREET_SUFFIXES,
  UNIT_DESIGNATORS,
} from '../src/normalise/usps-tables.js';

const TEXT_CASES: ReadonlyArray<readonly [input: string, expected: string]> = [
  ['José', 'jose'],
  ['Zoë', 'zoe'],
  ['Ångström', 'angstrom'],
  ['Nguyễn', 'nguyen'],
  ['Müller', 'muller'],
  ['Mueller', 'mueller'],
  ['Łukasz', 'lukasz'],
  ["O'Brien", 'obrien'],
  ['O’Brien', 'obrien'],
  ['O`Brien', 'obrien'],
  ['O´Brien', 'obrien'],
  ['O Brien', 'o brien'],
  ["José  O'Connor", 'jose oconnor'],
  ['JOSE OCONNOR', 'jose oconnor'],
  ['  Mary\tAnn  ', 'mary ann'],
  ['Mary\u00a0Ann', 'mary ann'],
  ['Mary-Ann', 'mary ann'],
  ['Mary–Ann', 'mary ann'], // en dash
  ['Mary - Ann', 'mary ann'],
  ['ＪＯＨＮ　ＳＭＩＴＨ', 'john smith'], // full-width letters and ideographic space
  ['Ｒｏｏｍ １２', 'room 12'],
  ['Straße', 'strasse'],
  ['STRASSE', 'strasse'],
  ['Ærøskøbing', 'aeroskobing'],
  ['Œuvre', 'oeuvre'],
  ['Đorđević', 'dordevic'],
  ['Þór', 'thor'],
  ['Işık', 'isik'],
  ['İstanbul', 'istanbul'],
  ['Ñúñez', 'nunez'],
  ['François', 'francois'],
  ['Søren Kierkegaard', 'soren kierkegaard'],
  ['Jose\u0301', 'jose'], // already decomposed
  ['Dvořák', 'dvorak'],
  ['Hawaiʻi', 'hawaii'],
  ['Mül\u00adler', 'muller'], // soft hyphen
  ['\ufeffSmith', 'smith'], // byte-order mark
  ['ﬁnn', 'finn'],
  ['Smith, Jr.', 'smith jr'],
  ['Route 66!', 'route 66'],
  ['ИВАНОВ Пётр', 'иванов петр'],
  ['李小龍', '李小龍'],
  ['', ''],
  ['   ', ''],
  ['apt 4b', 'apt 4b'],
];

describe('foldText', () => {
  it.each(TEXT_CASES)('%j -> %j', (input, expected) => {
    expect(foldText(input)).toBe(expected);
  });

  it('keeps Müller and Mueller distinct', () => {
    expect(foldText('Müller')).not.toBe(foldText('Mueller'));
  });

  it('folds Greek final sigma like sigma', () => {
    expect(foldText('ΣΟΦΟΚΛΗΣ')).toBe(foldText('Σοφοκλής'));
  });

  it('returns already-folded input as the same string', () => {
    const value = 'mary ann 42';
    expect(foldText(value)).toBe(value);
  });
});

const NAME_CASES: ReadonlyArray<readonly [input: string, expected: string]> = [
  ['Mr. John Smith', 'john smith'],
  ['Dr John Smith Jr.', 'john smith'],
  ['John Smith III', 'john smith'],
  ['Martin Luther King, Jr.', 'martin luther king'],
  ['MRS. IVY SRINIVASAN', 'ivy srinivasan'],
  ['Drew Barrymore', 'drew barrymore'],
  ['John Dr Smith', 'john dr smith'],
  ['Ms', 'ms'],
  ["Seán O'Connor-Walsh", 'sean oconnor walsh'],
  ['Louis IV', 'louis'],
  ['Ivan', 'ivan'],
];

describe('normaliseName', () => {
  it.each(NAME_CASES)('%j -> %j', (input, expected) => {
    expect(normaliseName(input)).toBe(expected);
  });
});

// Each group lists spellings of one address and the single form they must all produce.
const ADDRESS_GROUPS: ReadonlyArray<readonly [expected: string, variants: readonly string[]]> = [
  [
    '123 n main st apt 4',
    [
      '123 North Main Street Apt 4',
      '123 N. MAIN ST. #4',
      '123 n main st apt 4',
      '123 N Main St, Apartment 4',
      '123 N MAIN ST APT #4',
      '123 Ｎ Ｍａｉｎ Ｓｔ ＃４',
    ],
  ],
  ['12 saint charles ave', ['12 St Charles Ave', '12 Saint Charles Avenue', '12 ST. CHARLES AV']],
  ['500 1st ave', ['500 First Avenue', '500 1st Ave', '500 FIRST AVE.']],
  ['350 5th ave', ['350 Fifth Avenue', '350 5th Ave']],
  ['77 20th st sw', ['77 Twentieth Street SW', '77 20th St Southwest']],
  ['9 ct st', ['9 Court Street', '9 Ct St']],
  ['45 mount vernon pl', ['45 Mt Vernon Pl', '45 Mount Vernon Place', '45 Mt. Vernon Pl.']],
  ['1600 pennsylvania ave nw', ['1600 Pennsylvania Avenue Northwest', '1600 Pennsylvania Ave NW']],
  ['8 n st', ['8 North St', '8 North Street', '8 N St']],
  ['200 park blvd ste 300', ['200 Park Boulevard Suite 300', '200 Park Blvd Ste 300', '200 PARK BLVD STE. #300']],
  ['1 ocean pkwy bldg 2 fl 3', ['1 Ocean Pkwy Bldg 2 Floor 3', '1 Ocean Parkway Building 2 FL 3']],
  ['42 hwy 9', ['42 Highway 9', '42 Hwy 9']],
  // A suffix word inside the name is abbreviated too; harmless, since every variant agrees.
  ['6 old ml rd e', ['6 Old Mill Road East', '6 Old Mill Rd E', '6 Old Ml Rd E']],
  ['100 main st apt 12', ['100 Main St #12', '100 Main Street, # 12']],
  ['55 elm ter', ['55 Elm Terrace', '55 Elm Ter.']],
  ['3 maple ln', ['3 Maple Lane', '3 Maple Ln']],
  ['10 oak cir unit 7', ['10 Oak Circle Unit #7', '10 Oak Cir Unit 7']],
  ['45 court house rd', ['45 Court House Road']],
  ['1 avenue of the americas', ['1 Avenue of the Americas']],
  ['apt 4 12 saint charles ave', ['Apt 4, 12 St Charles Ave']],
  ['221b baker st', ['221B Baker Street']],
  ['14 rue de la paix', ['14 Rue de la Paix']],
  ['', ['', ' , ']],
];

describe('normaliseAddress', () => {
  for (const [expected, variants] of ADDRESS_GROUPS) {
    it.each(variants)(`%j -> ${JSON.stringify(expected)}`, (input) => {
      expect(normaliseAddress(input)).toBe(expected);
    });
  }

  it('keeps each table word in exactly one table', () => {
    const tables = [STREET_SUFFIXES, DIRECTIONALS, UNIT_DESIGNATORS, ORDINAL_WORDS];
    const seen = new Set<string>();
    for (const table of tables) {
      for (const word of table.keys()) {
        expect(seen.has(word), word).toBe(false);
        seen.add(word);
      }
    }
    expect(ORDINAL_WORDS.size).toBe(40);
    expect(STREET_SUFFIXES.get('street')).toBe('st');
    expect(LEADING_EXPANSIONS.get('st')).toBe('saint');
  });
});

const JAN_5_1980 = [
  '19800105',
  '1980-01-05',
  '1980/01/05',
  '1980.01.05',
  '1980-1-5',
  '01/05/1980',
  '1/5/1980',
  '01-05-1980',
  '1.5.1980',
  '01/05/80',
  'Jan 5, 1980',
  'January 5, 1980',
  'jan 5 1980',
  '5 January 1980',
  '05-JAN-1980',
  '05-Jan-80',
  'JAN-05-1980',
  'January 5th 1980',
  '5th of January, 1980',
  'Saturday, January 5, 1980',
  '1980 Jan 5',
  '1980-01-05T00:00:00Z',
  '1980-01-05T13:45:10.123+02:00',
  '1980-01-05 08:30:00',
  '  1980-01-05\t',
  '１９８０－０１－０５', // full-width digits and hyphens
  'Jan\u00a05,\u00a01980',
];

describe('parseDate / normaliseDate', () => {
  it.each(JAN_5_1980)('%j -> 19800105', (input) => {
    expect(normaliseDate(input)).toBe('19800105');
  });

  const ORDERED: ReadonlyArray<readonly [input: string, order: DateOrder, expected: string]> = [
    ['03/04/1990', 'MDY', '19900304'],
    ['03/04/1990', 'DMY', '19900403'],
    ['05/01/1980', 'DMY', '19800105'],
    ['5.1.1980', 'DMY', '19800105'],
    ['25/12/1999', 'DMY', '19991225'],
    ['80/01/05', 'YMD', '19800105'],
    ['80-Jan-05', 'YMD', '19800105'],
    ['1980-01-05', 'DMY', '19800105'], // a leading four-digit year is unambiguous
    ['12/25/1999', 'YMD', '19991225'], // year last under YMD falls back to US order
    ['2000-02-29', 'MDY', '20000229'],
    ['02/29/2000', 'MDY', '20000229'],
    ['29 Feb 2024', 'MDY', '20240229'],
  ];
  it.each(ORDERED)('%j as %s -> %s', (input, order, expected) => {
    expect(normaliseDate(input, order)).toBe(expected);
  });

  it('pivots two-digit years', () => {
    expect(normaliseDate('01/05/30')).toBe('20300105');
    expect(normaliseDate('01/05/31')).toBe('19310105');
    expect(normaliseDate('01/05/00')).toBe('20000105');
    expect(normaliseDate('01/05/15', 'MDY', 10)).toBe('19150105');
    expect(normaliseDate('01/05/15', 'MDY', 20)).toBe('20150105');
    expect(() => parseDate('01/05/15', 'MDY', 100)).toThrow(RangeError);
  });

  const INVALID: ReadonlyArray<readonly [input: string, order: DateOrder]> = [
    ['1900-02-29', 'MDY'],
    ['29/02/1900', 'DMY'],
    ['Feb 29 2001', 'MDY'],
    ['1985-13-01', 'MDY'],
    ['19450493', 'MDY'],
    ['31/04/1990', 'DMY'],
    ['02/30/1990', 'MDY'],
    ['13/13/1990', 'MDY'],
    ['0/12/1990', 'MDY'],
    ['1990-00-10', 'MDY'],
    ['1990-01-00', 'MDY'],
    ['Jan 32 1980', 'MDY'],
    ['0999-01-01', 'MDY'],
    ['12345678', 'MDY'],
    ['1980-01/05', 'MDY'],
    ['1980-01-05T25', 'MDY'],
    ['01/05/1980T00:00', 'MDY'],
    ['Foo 5 1980', 'MDY'],
    ['5 Jan', 'MDY'],
    ['Jan Feb 5 1980', 'MDY'],
    ['January 1980th 5', 'MDY'],
    ['1/5/198', 'MDY'],
    ['not a date', 'MDY'],
    ['', 'MDY'],
  ];
  it.each(INVALID)('%j as %s -> null', (input, order) => {
    expect(parseDate(input, order)).toBeNull();
  });

  it('formats zero-padded YYYYMMDD', () => {
    expect(formatDate({ year: 1066, month: 10, day: 4 })).toBe('10661004');
    expect(parseDate('1066-10-14')).toEqual({ year: 1066, month: 10, day: 14 });
  });
});

describe('digitsOnly', () => {
  const CASES: ReadonlyArray<readonly [input: string, keep: number | undefined, expected: string]> = [
    ['02139-4307', 5, '02139'],
    ['02139-4307', undefined, '021394307'],
    ['02139', 5, '02139'],
    ['2139', 5, '2139'],
    ['(617) 555-0100', undefined, '6175550100'],
    ['+1 617.555.0100', undefined, '16175550100'],
    ['０２１３９', undefined, '02139'],
    ['123-45-6789', undefined, '123456789'],
    ['n/a', undefined, ''],
  ];
  it.each(CASES)('%j keep %s -> %j', (input, keep, expected) => {
    expect(digitsOnly(input, keep)).toBe(expected);
  });
});

describe('makeNormaliser', () => {
  it('dispatches by name', () => {
    expect(makeNormaliser('none', {})('  José ')).toBe('  José ');
    expect(makeNormaliser('text', {})('Mr. José')).toBe('mr jose');
    expect(makeNormaliser('name', {})('Mr. José')).toBe('jose');
    expect(makeNormaliser('address', {})('1 Main Street')).toBe('1 main st');
    expect(makeNormaliser('digits', { digits: 5 })('02139-4307')).toBe('02139');
    expect(makeNormaliser('digits', {})('02139-4307')).toBe('021394307');
  });

  it('applies date options and returns null for impossible dates', () => {
    const dmy = makeNormaliser('date', { dateOrder: 'DMY', pivotYear: 10 });
    expect(dmy('03/04/15')).toBe('19150403');
    expect(dmy('31/04/1990')).toBeNull();
    expect(makeNormaliser('date', {})('03/04/1990')).toBe('19900304');
  });

  it('rejects bad options when the normaliser is made', () => {
    expect(() => makeNormaliser('date', { pivotYear: 1.5 })).toThrow(RangeError);
    expect(() => makeNormaliser('digits', { digits: -1 })).toThrow(RangeError);
  });
});

describe('idempotence', () => {
  const textInputs = [...TEXT_CASES.map(([input]) => input), ...NAME_CASES.map(([input]) => input)];
  const addressInputs = ADDRESS_GROUPS.flatMap(([, variants]) => variants);
  const cases: ReadonlyArray<readonly [string, (value: string) => string, readonly string[]]> = [
    ['text', foldText, textInputs],
    ['name', normaliseName, textInputs],
    ['address', normaliseAddress, [...addressInputs, ...textInputs]],
  ];
  it.each(cases)('%s: normalising twice equals normalising once', (_label, normalise, inputs) => {
    for (const input of inputs) {
      const once = normalise(input);
      expect(normalise(once), input).toBe(once);
    }
  });
});
