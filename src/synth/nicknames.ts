// Formal given names and the nicknames people write instead (William/Bill): a request may carry
// either form while the registry holds the other.

const NICKNAMES: Readonly<Record<string, readonly string[]>> = {
  William: ['Bill', 'Will', 'Billy', 'Willie'],
  Robert: ['Bob', 'Rob', 'Bobby'],
  Richard: ['Rick', 'Dick', 'Rich'],
  James: ['Jim', 'Jimmy', 'Jamie'],
  John: ['Jack', 'Johnny'],
  Joseph: ['Joe', 'Joey'],
  Thomas: ['Tom', 'Tommy'],
  Charles: ['Charlie', 'Chuck'],
  Christopher: ['Chris'],
  Daniel: ['Dan', 'Danny'],
  Matthew: ['Matt'],
  Anthony: ['Tony'],
  Michael: ['Mike', 'Mikey'],
  David: ['Dave'],
  Steven: ['Steve'],
  Stephen: ['Steve'],
  Edward: ['Ed', 'Eddie', 'Ted'],
  Andrew: ['Andy', 'Drew'],
  Joshua: ['Josh'],
  Kenneth: ['Ken', 'Kenny'],
  Ronald: ['Ron', 'Ronnie'],
  Donald: ['Don', 'Donnie'],
  Timothy: ['Tim'],
  Gregory: ['Greg'],
  Jeffrey: ['Jeff'],
  Benjamin: ['Ben'],
  Samuel: ['Sam'],
  Alexander: ['Alex'],
  Nicholas: ['Nick'],
  Patrick: ['Pat'],
  Peter: ['Pete'],
  Raymond: ['Ray'],
  Lawrence: ['Larry'],
  Gerald: ['Jerry'],
  Douglas: ['Doug'],
  Frederick: ['Fred'],
  Eugene: ['Gene'],
  Albert: ['Al'],
  Henry: ['Hank'],
  Elizabeth: ['Liz', 'Beth', 'Betty', 'Eliza'],
  Margaret: ['Peggy', 'Maggie', 'Meg'],
  Katherine: ['Kate', 'Kathy', 'Katie'],
  Catherine: ['Cathy', 'Kate'],
  Jennifer: ['Jen', 'Jenny'],
  Patricia: ['Pat', 'Patty', 'Trish'],
  Susan: ['Sue', 'Susie'],
  Deborah: ['Debbie', 'Deb'],
  Barbara: ['Barb'],
  Jessica: ['Jess'],
  Rebecca: ['Becky'],
  Kimberly: ['Kim'],
  Christine: ['Chris', 'Tina'],
  Victoria: ['Vicky', 'Tori'],
  Dorothy: ['Dot', 'Dottie'],
  Samantha: ['Sam'],
  Abigail: ['Abby'],
  Cynthia: ['Cindy'],
  Pamela: ['Pam'],
  Alexandra: ['Alex'],
  Theresa: ['Terry', 'Tess'],
  Judith: ['Judy'],
  Frances: ['Fran'],
  Virginia: ['Ginny'],
  Ann: ['Annie'],
};

const NICKNAMES_BY_FORMAL = new Map<string, readonly string[]>(Object.entries(NICKNAMES));
const FORMAL_BY_NICKNAME = new Map<string, string[]>();
for (const [formal, nicknames] of NICKNAMES_BY_FORMAL) {
  for (const nickname of nicknames) {
    const list = FORMAL_BY_NICKNAME.get(nickname) ?? [];
    list.push(formal);
    FORMAL_BY_NICKNAME.set(nickname, list);
  }
}

/** Every formal name in the table with its nicknames. */
export function nicknameTable(): Readonly<Record<string, readonly string[]>> {
  return NICKNAMES;
}

/**
 * The other forms of a given name: nicknames of a formal name, formal names of a nickname (Pat is
 * Patrick or Patricia), or an empty list. Matching ignores case; results are in title case.
 *
 * @example alternativeNames('William'); // ['Bill', 'Will', 'Billy', 'Willie']
 */
export function alternativeNames(name: string): readonly string[] {
  const key = name.charAt(0).toUpperCase() + name.slice(1).toLowerCase();
  return NICKNAMES_BY_FORMAL.get(key) ?? FORMAL_BY_NICKNAME.get(key) ?? [];
}
