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
    // Every registered command (src/bot/commands/index.ts), reading first, then changes to one account.
    commands: [
      { command: 'add', description: s.add },
      { command: s.listSyntax, description: s.listCmd },
      { command: 'show <username>', description: s.show },
      { command: 'edit <username>', description: s.editCmd },
      { command: 'associate <username>', description: s.associateCmd },
      { command: 'number <username>', description: s.numberCmd },
      { command: 'unassign <username>', description: s.unassignCmd },
      { command: 'switch <username>', description: s.switchCmd },
      { command: 'dissociate <username>', description: s.dissociateCmd },
      { command: 'delete <username>', description: s.deleteCmd },
      { command: 'history [username]', description: s.historyCmd },
      { command: 'export history [username]', description: s.exportCmd },
      { command: 'help', description: s.helpCmd },
    ],
  });
}
