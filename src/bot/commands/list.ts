import { NO_FILTERS, SEARCH_MAX, type ListFilters } from '../../cards/accountList';
import { listAccounts } from '../actions/listAccounts';
import type { Command } from '../scope';

/** Filter keywords of "list" (documented in the help card); any other word is searched for. */
const KEYWORDS: ReadonlyMap<string, Partial<ListFilters>> = new Map<string, Partial<ListFilters>>([
  ['aa', { accountType: 'autoAttendant' }],
  ['cq', { accountType: 'callQueue' }],
  ['licensed', { license: 'licensed' }],
  ['unlicensed', { license: 'unlicensed' }],
  ['number', { number: 'with' }],
  ['no-number', { number: 'without' }],
]);

/**
 * "list", "list sales", "list cq unlicensed", "list aa main line": keywords become filters (a later
 * one wins), the other words are the search text. Quoted words ("…" or Teams' “…”) are always text,
 * so that one can still search for "number".
 */
export function parseListArgs(args: string): ListFilters {
  const filters: ListFilters = { ...NO_FILTERS };
  const words: string[] = [];
  for (const match of args.matchAll(/["“”]([^"“”]*)["“”]?|(\S+)/g)) {
    const [, quoted, word] = match;
    const keyword = word === undefined ? undefined : KEYWORDS.get(word.toLowerCase());
    if (keyword) Object.assign(filters, keyword);
    else words.push((quoted ?? word ?? '').trim());
  }
  return { ...filters, text: words.filter(Boolean).join(' ').slice(0, SEARCH_MAX) };
}

/** The same page the list card's buttons show, with the filters already set in its inputs. */
export const list: Command = {
  name: 'list',
  requires: 'reader',
  async handle(scope, args) {
    return listAccounts.handle(scope, { offset: 0, ...parseListArgs(args) });
  },
};
