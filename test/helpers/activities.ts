import type { Activity } from 'botbuilder';
import { ADMIN, TENANT } from './identities';

export interface Who {
  id: string;
  aadObjectId?: string;
  name: string;
}

interface Envelope {
  from?: Who;
  tenantId?: string;
  locale?: string;
  serviceUrl?: string;
  channelId?: string;
}

let sequence = 0;

/** The envelope Teams puts on every activity in a personal chat (teams-platform.md §1.3). */
function envelope(options: Envelope): Partial<Activity> {
  const tenantId = options.tenantId ?? TENANT;
  const from = options.from ?? ADMIN;
  sequence += 1;
  return {
    id: `act-${sequence}`,
    channelId: options.channelId ?? 'msteams',
    serviceUrl: options.serviceUrl ?? 'http://127.0.0.1:1/',
    from,
    recipient: { id: '28:switchboard', name: 'Switchboard' },
    // Each user has their own personal chat with the bot.
    conversation: { id: from === ADMIN ? 'a:personal-chat' : `a:personal-${from.id}`, conversationType: 'personal', tenantId, isGroup: false, name: '' },
    channelData: { tenant: { id: tenantId } },
    locale: options.locale ?? 'en-US',
  };
}

export function message(text: string, options: Envelope = {}): Partial<Activity> {
  return { ...envelope(options), type: 'message', text };
}

/** An Action.Execute click: Teams merges the inputs into the action's data (universal-action-model). */
export function execute(verb: string, data: Record<string, unknown> = {}, options: Envelope = {}): Partial<Activity> {
  return {
    ...envelope(options),
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', id: `btn-${verb}`, verb, data }, trigger: 'manual' },
  };
}

/** The Action.Submit fallback: a message with no text whose value is the data plus the inputs. */
export function submit(verb: string, data: Record<string, unknown> = {}, options: Envelope = {}): Partial<Activity> {
  return { ...envelope(options), type: 'message', replyToId: 'card-1', value: { ...data, verb } };
}

/** Installing the app in a personal chat: Teams sends conversationUpdate with the user added, often without a name. */
export function installed(options: Envelope = {}): Partial<Activity> {
  const base = envelope(options);
  return { ...base, type: 'conversationUpdate', membersAdded: [{ id: base.from!.id, name: '' }, { id: '28:switchboard', name: 'Switchboard' }] };
}
