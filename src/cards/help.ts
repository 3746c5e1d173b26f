import { format, strings, type Locale } from '../i18n';
import { renderCard, type CardJson } from './render';

export interface Roles {
  admin: boolean;
  approver: boolean;
}

export function helpCard(locale: Locale, roles: Roles, aadObjectId: string, unknownText?: string): CardJson {
  const s = strings(locale).help;
  const roleLine = roles.admin && roles.approver ? s.roleAdminApprover : roles.admin ? s.roleAdmin : roles.approver ? s.roleApprover : format(s.roleNone, { aadObjectId });
  return renderCard('help', {
    s,
    note: unknownText === undefined ? '' : format(s.unknownCommand, { text: unknownText.slice(0, 80) }),
    roleLine,
    canChange: roles.admin,
    commands: [
      { command: 'add', description: s.add },
      { command: 'list', description: s.list },
      { command: 'show <username>', description: s.show },
      { command: 'help', description: s.helpCmd },
    ],
  });
}
