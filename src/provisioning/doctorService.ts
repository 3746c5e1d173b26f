import { reasonDetail, type AuditStore } from '../store/audit';
import type { TenantDirectory, TenantScan } from './directory';
import { diagnose, type Diagnosis } from './doctor';
import { buildFix, EXISTING_REQUEST } from './doctorFixes';
import type { Actor, TenantFacts } from './model';
import type { Plan } from './plans';
import { refuse, type Result } from './result';
import type { ProvisioningService } from './service';

export interface Examination {
  scan: TenantScan;
  facts: TenantFacts;
  diagnosis: Diagnosis;
}

/**
 * `doctor`: scans the tenant (a read; nothing changes) and proposes the fix of one finding. A fix is
 * planned from a fresh scan when it is asked for, never from what a card shows: the card carries only
 * the finding's code and subject id (ARCHITECTURE.md, Security baseline), and the tenant may have moved
 * since. The plan then runs like any other: confirmation, approval by policy, audit, resume.
 */
export class TenantDoctor {
  constructor(
    private readonly directory: TenantDirectory,
    private readonly service: ProvisioningService,
    private readonly audit: AuditStore,
  ) {}

  async examine(): Promise<Examination> {
    const [scan, facts] = await Promise.all([this.directory.scanTenant(), this.directory.getTenantFacts()]);
    return { scan, facts, diagnosis: diagnose(scan, facts) };
  }

  async proposeFix(actor: Actor, code: string, subjectId: string): Promise<Result<Plan>> {
    const result = await this.planFix(actor, code, subjectId);
    if (!result.ok) {
      // A refusal changes nothing: when the audit log cannot take it right now, the refusal still stands.
      await this.audit
        .append({ actor, action: 'doctor.fix', target: subjectId.slice(0, 200), outcome: 'refused', reason: result.reason, detail: { finding: code.slice(0, 64), ...reasonDetail(result.params) } })
        .catch(() => undefined);
    }
    return result;
  }

  private async planFix(actor: Actor, code: string, subjectId: string): Promise<Result<Plan>> {
    const { scan, facts, diagnosis } = await this.examine();
    const wanted = subjectId.toLowerCase();
    const finding = diagnosis.findings.find((f) => f.code === code && f.subjectId.toLowerCase() === wanted);
    if (!finding) return refuse('DOCTOR_FINDING_GONE');
    switch (EXISTING_REQUEST[finding.code]) {
      case 'switch':
        return this.service.planSwitchLicense(actor, finding.subjectId);
      case 'unassign':
        return this.service.planUnassignNumber(actor, finding.subjectId);
      case 'delete':
        return this.service.planDelete(actor, finding.subjectId);
      case undefined: {
        const plan = buildFix(finding, { scan, facts, actor });
        return plan.ok ? this.service.plans.propose(plan.value) : plan;
      }
    }
  }
}
