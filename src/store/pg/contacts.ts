import type { ConversationRef } from '../../approvals/copies';
import type { ExportGrant, ExportKind, ExportTokenStore } from '../../audit/exports';

const EXPORT_KINDS: readonly ExportKind[] = ['history', 'accounts', 'importTemplate', 'importRows'];
import { ChannelSchema, ContactSchema, type Channel, type Contact, type ContactStore } from '../conversations';
import type { Database } from './database';

/**
 * Conversation references in PostgreSQL: an approver who talked to instance A is reached by instance
 * B. Rows are parsed when read; a bad one is treated as unknown (the next activity of that user saves
 * a good one).
 */
export class PgContacts implements ContactStore {
  constructor(private readonly db: Database) {}

  async contact(aadObjectId: string): Promise<Contact | undefined> {
    const row = (await this.db.query<{ doc: unknown }>('SELECT doc FROM contacts WHERE aad_object_id = $1', [aadObjectId.toLowerCase()])).rows[0];
    const parsed = row ? ContactSchema.safeParse(row.doc) : undefined;
    return parsed?.success ? parsed.data : undefined;
  }

  async channel(channelId: string): Promise<Channel | undefined> {
    const row = (await this.db.query<{ doc: unknown }>('SELECT doc FROM channels WHERE channel_id = $1', [channelId])).rows[0];
    const parsed = row ? ChannelSchema.safeParse(row.doc) : undefined;
    return parsed?.success ? parsed.data : undefined;
  }

  /** One statement: written only when something changed (most messages change nothing). */
  async saveContact(update: Contact): Promise<boolean> {
    const key = update.aadObjectId.toLowerCase();
    const current = await this.contact(key);
    // Install and conversation updates often carry no name: keep the one a message gave.
    const contact: Contact = { ...update, aadObjectId: key, name: update.name || current?.name || '' };
    const same =
      current !== undefined &&
      current.name === contact.name &&
      current.userId === contact.userId &&
      current.locale === contact.locale &&
      JSON.stringify(current.conversation) === JSON.stringify(contact.conversation);
    if (same) return false;
    await this.db.query('INSERT INTO contacts (aad_object_id, doc) VALUES ($1, $2) ON CONFLICT (aad_object_id) DO UPDATE SET doc = EXCLUDED.doc', [key, JSON.stringify(contact)]);
    return true;
  }

  /** One statement, so that a name a message saved meanwhile is never covered. */
  async nameContact(aadObjectId: string, name: string): Promise<boolean> {
    if (!name) return false;
    const result = await this.db.query(
      "UPDATE contacts SET doc = jsonb_set(doc, '{name}', to_jsonb($2::text)) WHERE aad_object_id = $1 AND coalesce(doc->>'name', '') = ''",
      [aadObjectId.toLowerCase(), name],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async saveChannel(channelId: string, conversation: ConversationRef, at: string): Promise<void> {
    if (JSON.stringify((await this.channel(channelId))?.conversation) === JSON.stringify(conversation)) return;
    await this.db.query('INSERT INTO channels (channel_id, doc) VALUES ($1, $2) ON CONFLICT (channel_id) DO UPDATE SET doc = EXCLUDED.doc', [
      channelId,
      JSON.stringify({ conversation, updatedAt: at }),
    ]);
  }

  async flush(): Promise<void> {
    // Each save is committed before it resolves.
  }

  async close(): Promise<void> {
    // The database belongs to the app.
  }
}

/** Export links in PostgreSQL: made on instance A, downloaded through instance B; taken once (DELETE … RETURNING). */
export class PgExportTokens implements ExportTokenStore {
  constructor(private readonly db: Database) {}

  async put(tokenHash: string, grant: ExportGrant, expiresAt: Date): Promise<void> {
    await this.db.query('DELETE FROM export_tokens WHERE expires_at <= now()');
    await this.db.query('INSERT INTO export_tokens (token_hash, username, file_name, expires_at, kind, subject, locale) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      tokenHash,
      grant.username,
      grant.fileName,
      expiresAt.toISOString(),
      grant.kind ?? 'history',
      grant.subject ?? '',
      grant.locale ?? 'en',
    ]);
  }

  async has(tokenHash: string, at: Date): Promise<boolean> {
    const rows = (await this.db.query('SELECT 1 FROM export_tokens WHERE token_hash = $1 AND expires_at > $2', [tokenHash, at.toISOString()])).rows;
    return rows.length > 0;
  }

  async take(tokenHash: string, at: Date): Promise<ExportGrant | undefined> {
    const row = (
      await this.db.query<{ username: string; file_name: string; kind: string; subject: string; locale: string }>(
        'DELETE FROM export_tokens WHERE token_hash = $1 AND expires_at > $2 RETURNING username, file_name, kind, subject, locale',
        [tokenHash, at.toISOString()],
      )
    ).rows[0];
    if (!row) return undefined;
    const kind = EXPORT_KINDS.find((k) => k === row.kind) ?? 'history';
    return { username: row.username, fileName: row.file_name, kind, subject: row.subject, locale: row.locale === 'fr' ? 'fr' : 'en' };
  }
}
