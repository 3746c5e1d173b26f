import { numberDirectRoutingCard } from '../../src/cards/numberDirectRouting';
import { resourceAccount } from '../helpers/accounts';
import { findInput } from '../helpers/conversation';

/*
 * The Direct Routing card showed a French number as its example to every tenant: the number must be of
 * the usage location's country (DOMAIN.md F4), so the example is one of that country.
 */
describe('the example number of the Direct Routing card', () => {
  const account = resourceAccount({ id: 'a0000000-0000-4000-8000-0000000000aa', userPrincipalName: 'aa-x@contoso.com', displayName: 'X' });
  const placeholder = (usageLocation: string | null, locale: 'en' | 'fr' = 'en') =>
    findInput(numberDirectRoutingCard({ ...account, usageLocation }, [], locale), 'telephoneNumber')?.placeholder;

  it.each([
    ['US', '+12015550123 or +12015550123;ext=12'],
    ['FR', '+33612345678 or +33612345678;ext=12'],
    ['JE', '+447797712345 or +447797712345;ext=12'],
    // Lower case as some tenants hold it.
    ['de', '+4915123456789 or +4915123456789;ext=12'],
    // Antarctica has no numbering plan of its own: the form alone, not another country's number.
    ['AQ', '+… or +…;ext=12'],
    // No usage location (a number is refused until one is set): Microsoft's own example.
    [null, '+14255550100 or +14255550100;ext=12'],
  ])('for a usage location %s is %s', (usageLocation, expected) => {
    expect(placeholder(usageLocation)).toBe(expected);
  });

  it('reads in French too', () => {
    expect(placeholder('FR', 'fr')).toBe('+33612345678 ou +33612345678;ext=12');
  });
});
