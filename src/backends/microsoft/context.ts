import type { TenantFacts } from '../../provisioning/model';
import type { GraphClient } from './graph/http';
import type { Meter } from './meter';
import type { GraphUser, NumberAssignmentRecord } from './graph/schemas';
import type { TeamsCmdlets, ApplicationInstance, VoiceAppRecord } from './powershell/cmdlets';

/** A value read from the tenant, kept for a short while; writes by this process invalidate it. */
export class Cached<T> {
  private value: { at: number; data: Promise<T> } | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => Date,
  ) {}

  get(): Promise<T> {
    const t = this.now().getTime();
    if (!this.value || t - this.value.at >= this.ttlMs) {
      const data = this.load();
      this.value = { at: t, data };
      // A failed load is not cached.
      data.catch(() => {
        if (this.value?.data === data) this.value = undefined;
      });
    }
    return this.value.data;
  }

  invalidate(): void {
    this.value = undefined;
  }

  /**
   * Applies our own write to the cached value instead of reloading it: with Teams PowerShell a reload
   * costs a pwsh start and a full listing. Nothing happens when nothing is cached.
   */
  update(change: (data: T) => void): void {
    if (!this.value) return;
    const data = this.value.data.then((current) => {
      change(current);
      return current;
    });
    data.catch(() => undefined);
    this.value = { ...this.value, data };
  }
}

/** Accounts this process created, by object id: "not found" then means "not visible yet" (DOMAIN.md F13). */
export class RecentlyCreated {
  private readonly created = new Map<string, { at: number; instance: ApplicationInstance }>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => Date,
  ) {}

  add(instance: ApplicationInstance): void {
    this.created.set(instance.objectId, { at: this.now().getTime(), instance });
  }

  get(id: string): { at: number; instance: ApplicationInstance } | undefined {
    const entry = this.created.get(id.toLowerCase());
    if (entry && this.now().getTime() - entry.at > this.windowMs) {
      this.created.delete(id.toLowerCase());
      return undefined;
    }
    return entry;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  forget(id: string): void {
    this.created.delete(id.toLowerCase());
  }
}

export interface OperationLogLimits {
  /** At most this many entries; the oldest go first. */
  maxEntries: number;
  /** A running operation is forgotten after this long (a plan that still polls it reads the number from resourceLocation). */
  maxAgeMs: number;
  /** A finished operation is kept this long, for the plan's last read, then forgotten. */
  finishedAgeMs: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLogLimits = { maxEntries: 1_000, maxAgeMs: 24 * 60 * 60_000, finishedAgeMs: 10 * 60_000 };

/**
 * Operation id → telephone number for the number operations this process started. Only a hint: the
 * operation's own resourceLocation names the number too (telephony.ts), so forgetting an entry loses
 * nothing but a lookup. Bounded in size and age so that a bot running for months does not grow.
 */
export class OperationLog {
  private readonly entries = new Map<string, { telephoneNumber: string; at: number; finishedAt?: number }>();

  constructor(
    private readonly now: () => Date,
    private readonly limits: OperationLogLimits = DEFAULT_OPERATION_LIMITS,
  ) {}

  get size(): number {
    this.prune();
    return this.entries.size;
  }

  set(id: string, telephoneNumber: string): void {
    this.entries.delete(id);
    this.entries.set(id, { telephoneNumber, at: this.now().getTime() });
    this.prune();
  }

  get(id: string): string | undefined {
    this.prune();
    return this.entries.get(id)?.telephoneNumber;
  }

  /** The operation succeeded or failed: kept a short while longer, then dropped. */
  finish(id: string): void {
    const entry = this.entries.get(id);
    if (entry && entry.finishedAt === undefined) entry.finishedAt = this.now().getTime();
  }

  private prune(): void {
    const t = this.now().getTime();
    for (const [id, entry] of this.entries) {
      const expired = entry.finishedAt !== undefined ? t - entry.finishedAt > this.limits.finishedAgeMs : t - entry.at > this.limits.maxAgeMs;
      if (expired) this.entries.delete(id);
    }
    // Insertion order is age order: drop the oldest beyond the bound.
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.limits.maxEntries) break;
      this.entries.delete(id);
    }
  }
}

/** Everything the backend's modules share. */
export interface Tenant {
  graph: GraphClient;
  teams: TeamsCmdlets;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  facts: Cached<TenantFacts & { allSkuIds: string[] }>;
  instances: Cached<Map<string, ApplicationInstance>>;
  voiceApps: Cached<VoiceAppRecord[]>;
  /**
   * The Graph half of a listing (resource-account users, numbers assigned to voice apps): paging
   * through a list reads it once. Dropped by every write of ours (directory.ts), short-lived otherwise.
   */
  listing: Cached<{ users: GraphUser[]; numbers: NumberAssignmentRecord[] }>;
  recent: RecentlyCreated;
  /** Operation id → telephone number, for operations started by this process (bounded, pruned). */
  operations: OperationLog;
  /** How long assignNumber/unassignNumber wait for the operation before returning it running. */
  operationWaitMs: number;
  /** Round trips to Microsoft, per command and in total (meter.ts). */
  meter: Meter;
}

/** Entra object ids are GUIDs; anything else is no account of ours (and never reaches a URL or filter). */
export const isObjectId = (id: string): boolean => /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(id);

/** An OData string literal: quotes doubled (OData ABNF), the whole thing then URL-encoded by URLSearchParams. */
export const odataString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

export const path = (...segments: string[]): string => segments.map((s) => `/${encodeURIComponent(s)}`).join('');
