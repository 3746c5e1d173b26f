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
    // Every registered command (src/bot/commands/index.ts), reading first, then changes to one account;
    // each reader sees only the commands their roles allow (the bot refuses the others).
    commands: (
      [
        { command: `add ${s.argAdd}`, description: s.add, who: 'admin' },
        { command: 'import', description: s.importCmd, who: 'admin' },
        { command: s.listSyntax, description: s.listCmd, who: 'reader' },
        { command: `show ${s.argUsername}`, description: s.show, who: 'reader' },
        { command: `edit ${s.argUsername}`, description: s.editCmd, who: 'admin' },
        { command: `associate ${s.argUsername}`, description: s.associateCmd, who: 'admin' },
        { command: `license ${s.argUsername}`, description: s.licenseCmd, who: 'admin' },
        { command: `number ${s.argUsername}`, description: s.numberCmd, who: 'admin' },
        { command: `unassign ${s.argUsername}`, description: s.unassignCmd, who: 'admin' },
        { command: `switch ${s.argUsername}`, description: s.switchCmd, who: 'admin' },
        { command: `dissociate ${s.argUsername}`, description: s.dissociateCmd, who: 'admin' },
        { command: `delete ${s.argUsername}`, description: s.deleteCmd, who: 'admin' },
        { command: `history ${s.argOptionalUsername}`, description: s.historyCmd, who: 'reader' },
        { command: `export history ${s.argOptionalUsername}`, description: s.exportCmd, who: 'reader' },
        { command: 'export accounts', description: s.exportAccountsCmd, who: 'reader' },
        { command: 'doctor', description: s.doctorCmd, who: 'reader' },
        { command: 'help', description: s.helpCmd, who: 'anyone' },
      ] as const
    )
      .filter(({ who }) => who === 'anyone' || roles.admin || (who === 'reader' && roles.approver))
      .map(({ command, description }) => ({ command, description })),
  });
}
