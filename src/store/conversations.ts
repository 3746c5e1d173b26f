import { z } from 'zod';
import { StoredInstant } from './instant';
import { ConversationRefSchema, type ConversationRef } from '../approvals/copies';
import { JsonFileStore } from './jsonFile';
import { Quarantine, type QuarantineListener } from './quarantine';
import { refusalFor, SnapshotInvalid, type StoreSubject } from './storeFiles';

const CONVERSATIONS_FILE: StoreSubject = {
  label: 'conversation store',
  noun: 'Switchboard conversation file',
  loses: 'where every admin, approver and channel is reached (approval cards would wait until each of them writes to the bot again)',
  startsOver: 'with none (each person is reached again once they write to the bot)',
};

/**
 * Where each user can be reached proactively: the conversation reference of their personal chat with
 * the bot, saved from authenticated activities only (teams-platform.md must-have 9), and their Teams
 * user id (29:…) that Universal Actions `refresh.userIds` needs.
 */
export const ContactSchema = z.object({
  aadObjectId: z.string().max(64),
  userId: z.string().max(512),
  name: z.string().max(256),
  conversation: ConversationRefSchema,
  locale: z.enum(['en', 'fr']),
  updatedAt: StoredInstant,
});
export type Contact = z.infer<typeof ContactSchema>;

export const ChannelSchema = z.object({ conversation: ConversationRefSchema, updatedAt: StoredInstant });
export type Channel = z.infer<typeof ChannelSchema>;

/**
 * Where users and channels can be reached (the conversation references the bot saw). lowdb file by
 * default, a table when several instances share PostgreSQL (an approver who talked to instance A is
 * reached by instance B).
 */
export interface ContactStore {
  contact(aadObjectId: string): Promise<Contact | undefined>;
  channel(channelId: string): Promise<Channel | undefined>;
  /** Saves a contact; returns whether it changed (an approver reached for the first time, say). */
  saveContact(update: Contact): Promise<boolean>;
  /**
   * Gives a name to a contact on record that has none (a name Teams gave for the member later); a
   * name already there, or no contact, leaves the store as it is. Returns whether it was written.
   */
  nameContact(aadObjectId: string, name: string): Promise<boolean>;
  saveChannel(channelId: string, conversation: ConversationRef, at: string): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface ConversationsDocument {
  contacts: Record<string, Contact>;
  /** Team channels where the bot is installed, by channel id, for the approvals channel. */
  channels: Record<string, Channel>;
}

const DocumentShape = z.object({
  contacts: z.record(z.string(), z.unknown()).default({}),
  channels: z.record(z.string(), z.unknown()).default({}),
});

export class ConversationDirectory implements ContactStore {
  /** What was last saved per contact, so that the common case (nothing changed) costs no work. */
  private readonly saved = new Map<string, string>();

  private constructor(private readonly store: JsonFileStore<ConversationsDocument>) {
    // A failed write put the document back: what was "saved" may not be any more.
    store.onRevert(() => this.saved.clear());
  }

  /**
   * Each record is parsed on open; a bad one is quarantined and start-up goes on (issue 9 item 11). A
   * file that cannot be read, or is empty once the folder was used (`usedBefore`), stops start-up.
   */
  static async open(file: string, onQuarantine?: QuarantineListener, usedBefore?: string): Promise<ConversationDirectory> {
    const store = await JsonFileStore.open<ConversationsDocument>(file, () => ({ contacts: {}, channels: {} }), usedBefore ? { usedBefore } : {}).catch((error: unknown) => {
      throw refusalFor(error, CONVERSATIONS_FILE);
    });
    const shape = DocumentShape.safeParse(store.data);
    if (!shape.success) {
      await store.close();
      throw refusalFor(new SnapshotInvalid(file, shape.error.issues[0]?.message ?? 'not an object'), CONVERSATIONS_FILE);
    }
    const quarantine = new Quarantine(file, onQuarantine);
    const contacts = await quarantine.sift('contacts', shape.data.contacts, ContactSchema, (c) => c.aadObjectId.toLowerCase());
    const channels = await quarantine.sift('channels', shape.data.channels, ChannelSchema);
    await store.update((data) => Object.assign(data, { contacts, channels }));
    return new ConversationDirectory(store);
  }

  async contact(aadObjectId: string): Promise<Contact | undefined> {
    return this.contactNow(aadObjectId);
  }

  private contactNow(aadObjectId: string): Contact | undefined {
    const key = aadObjectId.toLowerCase();
    const found = Object.hasOwn(this.store.data.contacts, key) ? this.store.data.contacts[key] : undefined;
    return found ? structuredClone(found) : undefined;
  }

  async channel(channelId: string): Promise<Channel | undefined> {
    return this.channelNow(channelId);
  }

  private channelNow(channelId: string): Channel | undefined {
    const found = Object.hasOwn(this.store.data.channels, channelId) ? this.store.data.channels[channelId] : undefined;
    return found ? structuredClone(found) : undefined;
  }

  /** Saves a contact; skips the write when nothing changed (most messages). Returns whether it changed. */
  async saveContact(update: Contact): Promise<boolean> {
    const key = update.aadObjectId.toLowerCase();
    const fingerprint = JSON.stringify([update.name, update.userId, update.locale, update.conversation]);
    if (this.saved.get(key) === fingerprint) return false;
    const current = this.contactNow(key);
    // Install and conversation updates often carry no name: keep the one a message gave.
    const contact: Contact = { ...update, aadObjectId: key, name: update.name || current?.name || '' };
    const unchanged =
      current !== undefined &&
      current.name === contact.name &&
      current.userId === contact.userId &&
      current.locale === contact.locale &&
      JSON.stringify(current.conversation) === JSON.stringify(contact.conversation);
    if (!unchanged) {
      await this.store.update((doc) => {
        doc.contacts[key] = contact;
      });
    }
    this.saved.set(key, fingerprint);
    return !unchanged;
  }

  async nameContact(aadObjectId: string, name: string): Promise<boolean> {
    const key = aadObjectId.toLowerCase();
    const current = this.contactNow(key);
    if (!current || current.name || !name) return false;
    await this.store.update((doc) => {
      const contact = doc.contacts[key];
      if (contact && !contact.name) contact.name = name;
    });
    return true;
  }

  async saveChannel(channelId: string, conversation: ConversationRef, at: string): Promise<void> {
    if (JSON.stringify(this.channelNow(channelId)?.conversation) === JSON.stringify(conversation)) return;
    await this.store.update((doc) => {
      doc.channels[channelId] = { conversation, updatedAt: at };
    });
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
