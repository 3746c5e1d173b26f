import { z } from 'zod';
import { PlanSchema, type Plan } from '../provisioning/plans';
import type { PlanRepository } from '../provisioning/runner';
import { JsonFileStore } from './jsonFile';

const PlansDocumentSchema = z.object({ plans: z.record(z.string(), PlanSchema) });
type PlansDocument = z.infer<typeof PlansDocumentSchema>;

/** Plans in their own lowdb file (one aggregate, one file); every change is a compare-and-set. */
export class LowdbPlanRepository implements PlanRepository {
  private constructor(private readonly store: JsonFileStore<PlansDocument>) {}

  static async open(file: string): Promise<LowdbPlanRepository> {
    const store = await JsonFileStore.open<PlansDocument>(file, () => ({ plans: {} }));
    const parsed = PlansDocumentSchema.safeParse(store.data);
    if (!parsed.success) {
      await store.close();
      throw new Error(`plan store: ${file} is not valid; fix or delete it\n${z.prettifyError(parsed.error)}`);
    }
    return new LowdbPlanRepository(store);
  }

  get(id: string): Plan | undefined {
    const plan = Object.hasOwn(this.store.data.plans, id) ? this.store.data.plans[id] : undefined;
    return plan ? structuredClone(plan) : undefined;
  }

  all(): Plan[] {
    return Object.values(this.store.data.plans).map((p) => structuredClone(p));
  }

  async insert(plan: Plan): Promise<void> {
    await this.store.update((doc) => {
      if (Object.hasOwn(doc.plans, plan.id)) throw new Error(`plan ${plan.id} exists`);
      doc.plans[plan.id] = structuredClone(plan);
    });
  }

  async mutate(id: string, change: (plan: Plan) => Plan | null, now: string): Promise<Plan | null> {
    return this.store.update((doc) => {
      const current = Object.hasOwn(doc.plans, id) ? doc.plans[id] : undefined;
      if (!current) return null;
      const next = change(structuredClone(current));
      if (!next) return null;
      const stored = { ...next, version: current.version + 1, updatedAt: now };
      doc.plans[id] = stored;
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
