import type { Activity } from 'botbuilder';
import type { Actor } from '../provisioning/model';

export interface GateSettings {
  tenantId: string;
  /** In production only Teams may talk to the bot; local mode (loopback only) accepts test channels. */
  requireTeamsChannel: boolean;
  adminIds: readonly string[];
  approverIds: readonly string[];
}

export type GateOutcome =
  | { ok: true; actor: Actor; roles: { admin: boolean; approver: boolean } }
  | { ok: false; why: 'channel' | 'tenant' };

/**
 * Tenant gate first, then identity → role (ARCHITECTURE.md "Security baseline"). The bot token does not
 * carry the user's tenant: tenant and user come from the activity, trusted only after the JWT check
 * (teams-platform.md §1.1). Both tenant fields, when present, must name our tenant.
 */
export function gate(activity: Partial<Activity>, settings: GateSettings): GateOutcome {
  if (settings.requireTeamsChannel && activity.channelId !== 'msteams') return { ok: false, why: 'channel' };
  const channelTenant = (activity.channelData as { tenant?: { id?: unknown } } | undefined)?.tenant?.id;
  const conversationTenant = activity.conversation?.tenantId;
  const tenants = [channelTenant, conversationTenant].filter((t) => t !== undefined && t !== null);
  const wanted = settings.tenantId.toLowerCase();
  if (tenants.length === 0 || tenants.some((t) => typeof t !== 'string' || t.toLowerCase() !== wanted)) {
    return { ok: false, why: 'tenant' };
  }
  // Anonymous meeting users have no aadObjectId (teams-platform.md §1.3): they get no role.
  const aadObjectId = typeof activity.from?.aadObjectId === 'string' ? activity.from.aadObjectId.toLowerCase() : '';
  const actor: Actor = { aadObjectId, name: (activity.from?.name ?? '').slice(0, 200) };
  const has = (ids: readonly string[]) => aadObjectId !== '' && ids.some((id) => id.toLowerCase() === aadObjectId);
  return { ok: true, actor, roles: { admin: has(settings.adminIds), approver: has(settings.approverIds) } };
}
