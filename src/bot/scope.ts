import type { Locale } from '../i18n';
import type { Logger } from '../log/logger';
import type { Actor } from '../provisioning/model';
import type { ProvisioningService } from '../provisioning/service';
import type { ApprovalService } from '../approvals/service';
import type { ExportLinks } from '../audit/exports';
import type { ImportService } from '../provisioning/import';
import type { DownloadPolicy } from './importFile';
import type { AuditStore } from '../store/audit';
import type { CardJson } from '../cards/render';
import type { Views } from './planView';
import type { z } from 'zod';

export type Role = 'admin' | 'approver';
export type Requirement = 'anyone' | 'reader' | 'admin' | 'approver';

/** What a turn logs through: the levels its handlers use. */
export type TurnLog = Pick<Logger, 'info' | 'warn' | 'error'>;

/** What every command and card-action handler gets: identity from the activity, never from card data. */
export interface TurnScope {
  actor: Actor;
  /** The Teams user id (29:…) of the caller, which Universal Actions refresh lists need. */
  userId: string;
  roles: { admin: boolean; approver: boolean };
  locale: Locale;
  correlationId: string;
  log: TurnLog;
  services: Services;
}

export interface Services {
  provisioning: ProvisioningService;
  approvals: ApprovalService;
  views: Views;
  delivery: DeliveryPort;
  audit: AuditStore;
  exports: ExportLinks;
  /** Bulk import (issue 12): checks CSV rows and proposes batches. */
  imports: ImportService;
  /** How files sent in the chat are fetched (size, time, where from). */
  downloads: DownloadPolicy;
}

/** What handlers need from the outbox worker (src/bot/delivery.ts). */
export interface DeliveryPort {
  /** Sends what is due for this plan now and waits up to `budgetMs` for it (a click shows who got the request). */
  settle(planId: string, budgetMs: number): Promise<void>;
}

/**
 * A card that shows a plan or its approval request, with the version it shows: the bot keeps track of
 * where such cards live (card copies) so that later changes update them in place.
 */
export class PlanReply {
  constructor(
    readonly card: CardJson,
    readonly planId: string,
    readonly version: number,
    readonly view: 'plan' | 'approval',
    /** The plan is done or cancelled: the card will never change again, so it needs no tracking. */
    readonly final = false,
  ) {}
}

export type Reply = CardJson | PlanReply;

/** One handler per card verb (TeamsFx workflow-bot style), in a file named after the verb. */
export interface CardAction<T> {
  verb: string;
  requires: Requirement;
  /** Parses the card's data plus the user's inputs; bounded sizes, unknown keys dropped. */
  data: z.ZodType<T>;
  handle(scope: TurnScope, data: T): Promise<Reply>;
}

/** One handler per text command, in a file named after the command. */
export interface Command {
  name: string;
  requires: Requirement;
  handle(scope: TurnScope, args: string): Promise<Reply>;
}

export function allowed(requirement: Requirement, roles: TurnScope['roles']): boolean {
  switch (requirement) {
    case 'anyone':
      return true;
    case 'reader':
      return roles.admin || roles.approver;
    case 'admin':
      return roles.admin;
    case 'approver':
      return roles.approver;
  }
}

/** A registered action with its data type erased: parse first, then run. */
export interface RegisteredAction {
  verb: string;
  requires: Requirement;
  bind(raw: unknown): { ok: true; run(scope: TurnScope): Promise<Reply> } | { ok: false; detail: string };
}

export function register<T>(action: CardAction<T>): RegisteredAction {
  return {
    verb: action.verb,
    requires: action.requires,
    bind(raw) {
      const parsed = action.data.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? issue.path.join('.') : 'data';
        return { ok: false, detail: `${where}: ${issue?.message ?? 'invalid'}`.slice(0, 200) };
      }
      return { ok: true, run: (scope) => action.handle(scope, parsed.data) };
    },
  };
}
