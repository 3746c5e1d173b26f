import { z } from 'zod';

/**
 * The only Teams PowerShell cmdlets Switchboard runs, with the parameters each may receive and the
 * properties kept from its output. Graph cannot create or edit an application instance, nor manage
 * AA/CQ associations (teams-apis.md §0.1, §5.1); everything else goes through Graph.
 *
 * Values travel as data: the runner writes them as JSON on stdin and the fixed script splats them
 * (`& $name @parameters`), so no value ever becomes part of a command string.
 */

const text = z.string().max(1024);
const identity = z.string().min(1).max(256);
const count = z.number().int().min(0).max(10_000);

const INSTANCE = ['ObjectId', 'UserPrincipalName', 'DisplayName', 'ApplicationId', 'PhoneNumber'];
/**
 * AssociationOperationOutput (the cmdlet pages name only the type): the per-identity outcome is nested
 * under Results (Result, StatusCode, Message), as the community module TeamsFunctions reads it.
 */
const ASSOCIATION_RESULT = ['Results'];
const VOICE_APP = ['Identity', 'Name', 'ApplicationInstances'];

/**
 * What running a cmdlet does to the tenant. A read may be sent again when the worker that ran it died
 * (running it twice changes nothing); a write never is: its outcome is unknown and the tenant is read
 * instead (pool.ts).
 */
export type Effect = 'read' | 'write';

export const ALLOW_LIST = {
  // §3.2: without -Identity it lists every instance (-ResultSize is documented as not working).
  'Get-CsOnlineApplicationInstance': { parameters: z.strictObject({ Identity: identity.optional() }), select: INSTANCE, effect: 'read' },
  'New-CsOnlineApplicationInstance': {
    parameters: z.strictObject({ UserPrincipalName: identity, ApplicationId: z.uuid(), DisplayName: text }),
    select: INSTANCE,
    effect: 'write',
  },
  'Set-CsOnlineApplicationInstance': {
    parameters: z.strictObject({ Identity: identity, ApplicationId: z.uuid().optional(), DisplayName: text.optional() }),
    select: INSTANCE,
    effect: 'write',
  },
  'Get-CsOnlineApplicationInstanceAssociation': {
    parameters: z.strictObject({ Identity: identity }),
    select: ['Id', 'ConfigurationId', 'ConfigurationType', 'CallPriority'],
    effect: 'read',
  },
  'New-CsOnlineApplicationInstanceAssociation': {
    parameters: z.strictObject({
      Identities: z.array(identity).min(1).max(20),
      ConfigurationId: identity,
      ConfigurationType: z.enum(['AutoAttendant', 'CallQueue']),
    }),
    select: ASSOCIATION_RESULT,
    effect: 'write',
  },
  'Remove-CsOnlineApplicationInstanceAssociation': {
    parameters: z.strictObject({ Identities: z.array(identity).min(1).max(20) }),
    select: ASSOCIATION_RESULT,
    effect: 'write',
  },
  // -ExcludeContent would drop ApplicationInstances, which is what we read; -First defaults to 100.
  'Get-CsAutoAttendant': {
    parameters: z.strictObject({ Identity: identity.optional(), First: count.optional(), Skip: count.optional() }),
    select: VOICE_APP,
    effect: 'read',
  },
  'Get-CsCallQueue': {
    parameters: z.strictObject({ Identity: identity.optional(), First: count.optional(), Skip: count.optional() }),
    select: VOICE_APP,
    effect: 'read',
  },
} as const satisfies Record<string, { parameters: z.ZodObject; select: readonly string[]; effect: Effect }>;

export type CmdletName = keyof typeof ALLOW_LIST;
export type CmdletParameters<C extends CmdletName> = z.infer<(typeof ALLOW_LIST)[C]['parameters']>;

/** Cmdlets that refuse app-only sessions with "Access Denied" (teams-apis.md §0.2, §3.1). */
export const DELEGATED_ONLY: ReadonlySet<CmdletName> = new Set([
  'Get-CsOnlineApplicationInstance',
  'New-CsOnlineApplicationInstance',
  'Set-CsOnlineApplicationInstance',
]);

export function effectOf(cmdlet: CmdletName): Effect {
  return ALLOW_LIST[cmdlet].effect;
}

export function isCmdletName(name: string): name is CmdletName {
  return Object.hasOwn(ALLOW_LIST, name);
}

/** The allow-list as the fixed script embeds it: names only, written by us, never user data. */
export function allowListForScript(): Record<string, { parameters: string[]; select: string[] }> {
  return Object.fromEntries(
    Object.entries(ALLOW_LIST).map(([name, spec]) => [name, { parameters: Object.keys(spec.parameters.shape), select: [...spec.select] }]),
  );
}
