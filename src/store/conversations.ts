import { z } from 'zod';
import { JsonFileStore } from './jsonFile';

/**
 * Where each user can be reached proactively: the conversation reference of their personal chat with
 * the bot, saved from authenticated activities only (teams-platform.md must-have 9), and their Teams
 * user id (29:…) that Universal Actions `refresh.userIds` needs.
 */
export const ContactSchema = z.object({
  aadObjectId: z.string(),
  userId: z.string(),
  name: z.string(),
  conversation: z.record(z.string(), z.unknown()),
  locale: z.enum(['en', 'fr']),
  updatedAt: z.string(),
});
export type Contact = z.infer<typeof ContactSchema>;

const DocumentSchema = z.object({
  contacts: z.record(z.string(), ContactSchema),
  /** Team channels where the bot is installed, by channel id, for the approvals channel. */
  channels: z.record(z.string(), z.object({ conversation: z.record(z.string(), z.unknown()), updatedAt: z.string() })).default({}),
});
type ConversationsDocument = z.infer<typeof DocumentSchema>;

export class ConversationDirectory {
  /** What was last saved per contact, so that the common case (nothing changed) costs no work. */
  private readonly saved = new Map<string, string>();

  private constructor(private readonly store: JsonFileStore<ConversationsDocument>) {}

  static async open(file: string): Promise<ConversationDirectory> {
    const store = await JsonFileStore.open<ConversationsDocument>(file, () => ({ contacts: {}, channels: {} }));
    const parsed = DocumentSchema.safeParse(store.data);
    if (!parsed.success) {
      await store.close();
      throw new Error(`conversation store: ${file} is not valid; fix or delete it\n${z.prettifyError(parsed.error)}`);
    }
    return new ConversationDirectory(store);
  }

  contact(aadObjectId: string): Contact | undefined {
    const key = aadObjectId.toLowerCase();
    const found = Object.hasOwn(this.store.data.contacts, key) ? this.store.data.contacts[key] : undefined;
    return found ? structuredClone(found) : undefined;
  }

  channel(channelId: string): ConversationsDocument['channels'][string] | undefined {
    const found = Object.hasOwn(this.store.data.channels, channelId) ? this.store.data.channels[channelId] : undefined;
    return found ? structuredClone(found) : undefined;
  }

  /** Saves a contact; skips the write when nothing changed (most messages). */
  async saveContact(update: Contact): Promise<void> {
    const key = update.aadObjectId.toLowerCase();
    // The reference's activityId changes every turn and is not needed to reach the user: left out,
    // so that an unchanged contact costs no write.
    const { activityId: _activityId, ...conversation } = update.conversation;
    const fingerprint = JSON.stringify([update.name, update.userId, update.locale, conversation]);
    if (this.saved.get(key) === fingerprint) return;
    const current = this.contact(key);
    // Install and conversation updates often carry no name: keep the one a message gave.
    const contact = { ...update, conversation, name: update.name || current?.name || '' };
    const unchanged =
      current !== undefined &&
      current.name === contact.name &&
      current.userId === contact.userId &&
      current.locale === contact.locale &&
      JSON.stringify(current.conversation) === JSON.stringify(contact.conversation);
    if (!unchanged) {
      await this.store.update((doc) => {
        doc.contacts[key] = { ...contact, aadObjectId: key };
      });
    }
    this.saved.set(key, fingerprint);
  }

  async saveChannel(channelId: string, conversation: Record<string, unknown>, at: string): Promise<void> {
    if (JSON.stringify(this.channel(channelId)?.conversation) === JSON.stringify(conversation)) return;
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
