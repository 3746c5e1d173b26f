import { z } from 'zod';
import { ChangeRequestSchema, type ChangeRequest } from '../approvals/requests';
import { JsonFileStore } from './jsonFile';

const DocumentSchema = z.object({ requests: z.record(z.string(), ChangeRequestSchema) });
type RequestsDocument = z.infer<typeof DocumentSchema>;

/** Change requests in their own lowdb file; `mutate` is the compare-and-set every decision goes through. */
export class RequestRepository {
  private constructor(private readonly store: JsonFileStore<RequestsDocument>) {}

  static async open(file: string): Promise<RequestRepository> {
    const store = await JsonFileStore.open<RequestsDocument>(file, () => ({ requests: {} }));
    const parsed = DocumentSchema.safeParse(store.data);
    if (!parsed.success) {
      await store.close();
      throw new Error(`request store: ${file} is not valid; fix or delete it\n${z.prettifyError(parsed.error)}`);
    }
    return new RequestRepository(store);
  }

  get(id: string): ChangeRequest | undefined {
    const found = Object.hasOwn(this.store.data.requests, id) ? this.store.data.requests[id] : undefined;
    return found ? structuredClone(found) : undefined;
  }

  all(): ChangeRequest[] {
    return Object.values(this.store.data.requests).map((r) => structuredClone(r));
  }

  /** Inserts unless a request with this id exists; returns the stored one either way. */
  async insertOnce(request: ChangeRequest): Promise<{ created: boolean; request: ChangeRequest }> {
    return this.store.update((doc) => {
      const existing = Object.hasOwn(doc.requests, request.id) ? doc.requests[request.id] : undefined;
      if (existing) return { created: false, request: structuredClone(existing) };
      doc.requests[request.id] = structuredClone(request);
      return { created: true, request: structuredClone(request) };
    });
  }

  /** Applies `change` to the stored request if it accepts it (returns null to decline); bumps the version. */
  async mutate(id: string, change: (request: ChangeRequest) => ChangeRequest | null): Promise<ChangeRequest | null> {
    return this.store.update((doc) => {
      const current = Object.hasOwn(doc.requests, id) ? doc.requests[id] : undefined;
      if (!current) return null;
      const next = change(structuredClone(current));
      if (!next) return null;
      const stored = { ...next, version: current.version + 1 };
      doc.requests[id] = stored;
      return structuredClone(stored);
    });
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
