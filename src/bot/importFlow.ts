import type { Activity } from 'botbuilder';
import { when } from '../cards/approvalRequest';
import { describeImportProblem, importFormCard, type ImportProblemText } from '../cards/importForm';
import { messageCard } from '../cards/message';
import { format, strings } from '../i18n';
import type { ImportSource } from '../provisioning/import';
import { downloadFile, fileAttachments, isCsvFile } from './importFile';
import type { Reply, TurnScope } from './scope';

/**
 * The bot's side of bulk import (issue 12): CSV from the import card or from a file sent in the chat
 * becomes a previewed batch (a plan card that later shows the progress), or the import card again
 * with the reason nothing was imported.
 */

/** Checks the rows and answers with the preview, or with the form and why nothing was imported. */
export async function previewImport(scope: TurnScope, text: string, source: ImportSource): Promise<Reply> {
  const { imports, views } = scope.services;
  const previewed = await imports.preview(scope.actor, text, source);
  if (!previewed.ok) {
    scope.log.info({ problem: previewed.problem.problem, source: source.kind }, 'import refused as a whole');
    return problemReply(scope, previewed.problem, source.kind === 'paste' ? text : '');
  }
  const batch = previewed.plan.batch!;
  scope.log.info({ planId: previewed.plan.id, rows: batch.total, ready: batch.rows.length, refused: batch.refused.length, source: source.kind }, 'import checked');
  return views.plan(previewed.plan, scope.locale);
}

function problemReply(scope: TurnScope, problem: ImportProblemText, csv = ''): Reply {
  return importFormCard(scope.locale, { problem: describeImportProblem(problem, scope.locale), csv });
}

/** Whether a message carries a file for the bot (Teams' file download info attachment). */
export function hasFile(activity: Partial<Activity>): boolean {
  return fileAttachments(activity).length > 0;
}

/**
 * A CSV file sent in the personal chat: fetched from Teams' short-lived download link within the
 * limits (src/bot/importFile.ts), then previewed like pasted text.
 */
export async function importFromFile(scope: TurnScope, activity: Partial<Activity>): Promise<Reply> {
  const files = fileAttachments(activity);
  if (activity.conversation?.conversationType !== 'personal') return problemReply(scope, { problem: 'fileNotPersonal' });
  if (files.length !== 1) return problemReply(scope, { problem: 'fileOne' });
  const file = files[0]!;
  const name = (file.name ?? '').slice(0, 200);
  if (!isCsvFile(file)) return problemReply(scope, { problem: 'fileType', name: name || '—' });
  const downloaded = await downloadFile(file.content.downloadUrl, scope.services.downloads);
  if (!downloaded.ok) {
    scope.log.warn({ why: downloaded.why, detail: downloaded.detail }, 'import file not downloaded');
    return problemReply(scope, downloaded.why === 'tooBig' ? { problem: 'fileTooBig' } : { problem: 'fileUnreachable', detail: downloaded.detail });
  }
  return previewImport(scope, downloaded.text, { kind: 'file', ...(name ? { fileName: name } : {}) });
}

/** A one-time link to a CSV of an import kind, shown on the card that asked for it. */
export async function importLink(scope: TurnScope, fileName: string, more: { kind: 'importTemplate' | 'accounts' | 'importRows'; subject?: string }): Promise<{ url: string; expires: string } | undefined> {
  const link = await scope.services.exports.create('', fileName, { ...more, locale: scope.locale });
  if (!link.url.startsWith('http')) return undefined;
  return { url: link.url, expires: when(link.expiresAt.toISOString()) };
}

export function noUrlCard(scope: TurnScope): Reply {
  const s = strings(scope.locale).import;
  return messageCard(s.title, s.noUrl, 'attention');
}

/** "export accounts": every resource account as CSV, in the import format, behind a one-time link. */
export async function exportAccounts(scope: TurnScope): Promise<Reply> {
  const s = strings(scope.locale);
  const { total } = await scope.services.provisioning.listAccounts({ offset: 0, limit: 1 });
  const link = await importLink(scope, `switchboard-accounts-${new Date().toISOString().slice(0, 10)}.csv`, { kind: 'accounts' });
  if (!link) return noUrlCard(scope);
  const card = messageCard(s.import.exportTitle, format(s.import.exportText, { count: total, expires: link.expires }), 'good');
  card.actions = [{ type: 'Action.OpenUrl', title: s.history.download, url: link.url }];
  return card;
}
