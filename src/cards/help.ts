import { format, strings, type Locale } from '../i18n';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

export interface Roles {
  admin: boolean;
  approver: boolean;
}

export function helpCard(locale: Locale, roles: Roles, aadObjectId: string, unknownText?: string): CardJson {
  const s = strings(locale).help;
  const roleLine = roles.admin && roles.approver ? s.roleAdminApprover : roles.admin ? s.roleAdmin : roles.approver ? s.roleApprover : format(s.roleNone, { aadObjectId: plainText(aadObjectId) });
  return renderCard('help', {
    s,
    note: unknownText === undefined ? '' : format(s.unknownCommand, { text: plainText(unknownText.slice(0, 80)) }),
    roleLine,
    canChange: roles.admin,
    // Every registered command (src/bot/commands/index.ts), reading first, then changes to one account.
    commands: [
      { command: 'add', description: s.add },
      { command: 'import', description: s.importCmd },
      { command: s.listSyntax, description: s.listCmd },
      { command: `show ${s.argUsername}`, description: s.show },
      { command: `edit ${s.argUsername}`, description: s.editCmd },
      { command: `associate ${s.argUsername}`, description: s.associateCmd },
      { command: `number ${s.argUsername}`, description: s.numberCmd },
      { command: `unassign ${s.argUsername}`, description: s.unassignCmd },
      { command: `switch ${s.argUsername}`, description: s.switchCmd },
      { command: `dissociate ${s.argUsername}`, description: s.dissociateCmd },
      { command: `delete ${s.argUsername}`, description: s.deleteCmd },
      { command: `history ${s.argOptionalUsername}`, description: s.historyCmd },
      { command: `export history ${s.argOptionalUsername}`, description: s.exportCmd },
      { command: 'export accounts', description: s.exportAccountsCmd },
      { command: 'help', description: s.helpCmd },
    ],
  });
}
