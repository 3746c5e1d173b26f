import { z } from 'zod';
import { ACCOUNT_TYPES, type AccountType } from '../../../provisioning/model';
import { PowerShellError } from './errors';
import type { PowerShell } from './runner';

/** Typed calls of the allow-listed cmdlets, their output parsed with zod (teams-apis.md §3.2). */

export interface ApplicationInstance {
  objectId: string;
  userPrincipalName: string;
  displayName: string;
  /** From ApplicationId; null for an instance of another application (not an AA/CQ account). */
  accountType: AccountType | null;
}

export interface VoiceAppRecord {
  configurationId: string;
  configurationType: AccountType;
  name: string;
  accountIds: string[];
}

const InstanceSchema = z.object({
  ObjectId: z.string(),
  UserPrincipalName: z.string(),
  DisplayName: z.string().nullish(),
  ApplicationId: z.string().nullish(),
});

const AssociationSchema = z.object({ ConfigurationId: z.string(), ConfigurationType: z.string() });

/**
 * New-/Remove-CsOnlineApplicationInstanceAssociation answer an AssociationOperationOutput; the outcome
 * for each identity is under Results (Result, StatusCode, Message), not at the top level. The pages
 * document only the type's name; the fields are those the community module TeamsFunctions reads
 * (test/fakes/fixtures/ps-association-output.json). A one-element Results may come out of ConvertTo-Json bare.
 */
const AssociationRowSchema = z.object({
  Result: z.string().nullish(),
  StatusCode: z.union([z.string(), z.number()]).nullish(),
  Message: z.string().nullish(),
  StatusMessage: z.string().nullish(),
});
const AssociationOutputSchema = z.object({
  Results: z.preprocess((v) => (v == null ? [] : Array.isArray(v) ? v : [v]), z.array(AssociationRowSchema)),
});

/** A one-element list may come out of ConvertTo-Json as a bare string. */
const stringList = z.preprocess((v) => (v == null ? [] : Array.isArray(v) ? v : [v]), z.array(z.string()));
const VoiceAppSchema = z.object({ Identity: z.string(), Name: z.string().nullish(), ApplicationInstances: stringList });

const PAGE = 100;

export function accountTypeOf(applicationId: string | null | undefined): AccountType | null {
  const id = (applicationId ?? '').toLowerCase();
  if (id === ACCOUNT_TYPES.autoAttendant.applicationId) return 'autoAttendant';
  if (id === ACCOUNT_TYPES.callQueue.applicationId) return 'callQueue';
  return null;
}

function parseAll<S extends z.ZodType>(schema: S, rows: unknown[], cmdlet: string): z.infer<S>[] {
  return rows.map((row) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw new PowerShellError(cmdlet, 'BadOutput', `unexpected output: ${parsed.error.issues[0]?.message}`, '');
    return parsed.data;
  });
}

const toInstance = (row: z.infer<typeof InstanceSchema>): ApplicationInstance => ({
  objectId: row.ObjectId.toLowerCase(),
  userPrincipalName: row.UserPrincipalName,
  displayName: row.DisplayName ?? '',
  accountType: accountTypeOf(row.ApplicationId),
});

const isNotFound = (e: unknown) =>
  e instanceof PowerShellError && !e.accessDenied && (e.kind === 'NotFound' || /not found|does not exist|couldn't find/i.test(e.psMessage));

export class TeamsCmdlets {
  constructor(private readonly ps: PowerShell) {}

  async listInstances(): Promise<ApplicationInstance[]> {
    const rows = await this.ps.run('Get-CsOnlineApplicationInstance', {});
    return parseAll(InstanceSchema, rows, 'Get-CsOnlineApplicationInstance').map(toInstance);
  }

  async getInstance(identity: string): Promise<ApplicationInstance | null> {
    try {
      const rows = await this.ps.run('Get-CsOnlineApplicationInstance', { Identity: identity });
      const [first] = parseAll(InstanceSchema, rows, 'Get-CsOnlineApplicationInstance');
      return first ? toInstance(first) : null;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** New-CsOnlineApplicationInstance binds the type through ApplicationId at creation (§3.2). */
  async newInstance(userPrincipalName: string, displayName: string, accountType: AccountType): Promise<ApplicationInstance> {
    const rows = await this.ps.run('New-CsOnlineApplicationInstance', {
      UserPrincipalName: userPrincipalName,
      ApplicationId: ACCOUNT_TYPES[accountType].applicationId,
      DisplayName: displayName,
    });
    const [created] = parseAll(InstanceSchema, rows, 'New-CsOnlineApplicationInstance');
    if (!created) throw new PowerShellError('New-CsOnlineApplicationInstance', 'NoOutput', 'no instance returned', '');
    return toInstance(created);
  }

  async setInstance(identity: string, change: { displayName?: string; accountType?: AccountType }): Promise<void> {
    await this.ps.run('Set-CsOnlineApplicationInstance', {
      Identity: identity,
      ...(change.displayName === undefined ? {} : { DisplayName: change.displayName }),
      ...(change.accountType === undefined ? {} : { ApplicationId: ACCOUNT_TYPES[change.accountType].applicationId }),
    });
  }

  async associationsOf(identity: string): Promise<{ configurationId: string; configurationType: string }[]> {
    try {
      const rows = await this.ps.run('Get-CsOnlineApplicationInstanceAssociation', { Identity: identity });
      return parseAll(AssociationSchema, rows, 'Get-CsOnlineApplicationInstanceAssociation').map((a) => ({
        configurationId: a.ConfigurationId.toLowerCase(),
        configurationType: a.ConfigurationType,
      }));
    } catch (e) {
      // No association is reported as "not found" by some module versions.
      if (isNotFound(e)) return [];
      throw e;
    }
  }

  async associate(identity: string, configurationId: string, type: AccountType): Promise<void> {
    const rows = await this.ps.run('New-CsOnlineApplicationInstanceAssociation', {
      Identities: [identity],
      ConfigurationId: configurationId,
      ConfigurationType: type === 'autoAttendant' ? 'AutoAttendant' : 'CallQueue',
    });
    this.refuseFailedRows('New-CsOnlineApplicationInstanceAssociation', rows);
  }

  async dissociate(identity: string): Promise<void> {
    const rows = await this.ps.run('Remove-CsOnlineApplicationInstanceAssociation', { Identities: [identity] });
    this.refuseFailedRows('Remove-CsOnlineApplicationInstanceAssociation', rows);
  }

  /** Every AA and CQ with the instances associated with it, page by page (-First defaults to 100). */
  async voiceApps(): Promise<VoiceAppRecord[]> {
    const [attendants, queues] = await Promise.all([this.allPages('Get-CsAutoAttendant'), this.allPages('Get-CsCallQueue')]);
    const toRecord = (type: AccountType) => (row: z.infer<typeof VoiceAppSchema>): VoiceAppRecord => ({
      configurationId: row.Identity.toLowerCase(),
      configurationType: type,
      name: row.Name ?? row.Identity,
      accountIds: row.ApplicationInstances.map((id) => id.toLowerCase()),
    });
    return [...attendants.map(toRecord('autoAttendant')), ...queues.map(toRecord('callQueue'))];
  }

  private async allPages(cmdlet: 'Get-CsAutoAttendant' | 'Get-CsCallQueue'): Promise<z.infer<typeof VoiceAppSchema>[]> {
    const all: z.infer<typeof VoiceAppSchema>[] = [];
    for (let skip = 0; skip < 10_000; skip += PAGE) {
      const page = parseAll(VoiceAppSchema, await this.ps.run(cmdlet, { First: PAGE, Skip: skip }), cmdlet);
      all.push(...page);
      if (page.length < PAGE) break;
    }
    return all;
  }

  /** A row whose Result is anything but "Success" is a failure: an unknown outcome is not taken as done. */
  private refuseFailedRows(cmdlet: string, outputs: unknown[]): void {
    for (const output of parseAll(AssociationOutputSchema, outputs, cmdlet)) {
      for (const row of output.Results) {
        if ((row.Result ?? '').toLowerCase() !== 'success') {
          const message = row.Message || row.StatusMessage || `the tenant answered ${row.Result ?? 'no result'}`;
          throw new PowerShellError(cmdlet, String(row.StatusCode ?? 'Failed'), message, '');
        }
      }
    }
  }
}
