import { parseListArgs } from '../../src/bot/commands/list';
import { describeRefusal } from '../../src/cards/describe';
import { plainText } from '../../src/cards/text';
import { refuse } from '../../src/provisioning/result';
import { isCopyableSearch } from '../../src/provisioning/service';
import { seeded } from '../helpers/random';

/*
 * An unknown username's refusal offers 'list "<words>"' to see every close match. Review of that change:
 * "aa_" was shown as "aa＿" (the card's Markdown guard), "--aa" with an invisible word joiner, so the
 * admin who typed what they read got "No resource accounts match". The suggestion is offered only for
 * words that the card shows as typed and that the list, quoted, searches as they are.
 */
describe('the list search offered with close matches', () => {
  const ALPHABET = ['a', 'Z', 'é', '東', '7', '0', '.', "'", '-', '!', '^', '~', '_', ' ', '*', '[', ']', '(', ')', '<', '&', '{', '\\', '#', '>', '`', '"', '“', '\u200b', '\u202e', '\t'];

  it.each([
    ['aa-', true],
    ['cq', true],
    ['main line', true],
    ['aa_main', true],
    ['aa_', false],
    ['--aa', false],
    ['1. aa', false],
    ['# aa', false],
    ['aa*', false],
    ['main  line', false],
    ['"aa"', false],
  ])('%j is offered: %s', (words, expected) => {
    expect(isCopyableSearch(words)).toBe(expected);
  });

  it('is offered only for words the card shows unchanged and a quoted list searches whole (seed 1309, 20,000 words)', () => {
    const random = seeded(1309);
    let offered = 0;
    for (let i = 0; i < 20_000; i++) {
      const length = 1 + Math.floor(random() * 8);
      let words = '';
      // Mostly letters, so that many pass and the rest are near misses.
      for (let j = 0; j < length; j++) words += random() < 0.6 ? 'ab'[Math.floor(random() * 2)] : ALPHABET[Math.floor(random() * ALPHABET.length)];
      if (!isCopyableSearch(words)) continue;
      offered++;
      expect({ words, shown: plainText(words) }).toEqual({ words, shown: words });
      expect({ words, searched: parseListArgs(`"${words}"`).text }).toEqual({ words, searched: words });
    }
    expect(offered).toBeGreaterThan(2_000);
  });

  it('counts the matches left out with digit grouping, as the list card does', () => {
    const refusal = refuse('ACCOUNT_NOT_FOUND_SIMILAR_MORE', { username: 'aa', candidates: 'aa-1@contoso.com, aa-2@contoso.com, aa-3@contoso.com', more: 1234, words: 'aa' });
    expect(describeRefusal(refusal, 'en')).toBe('No resource account aa in this tenant. Close matches: aa-1@contoso.com, aa-2@contoso.com, aa-3@contoso.com and 1,234 more; list "aa" shows them all.');
    expect(describeRefusal(refusal, 'fr')).toContain('et 1\u202f234 autres');
  });
});
