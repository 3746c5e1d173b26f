import { promises as dns, type SrvRecord } from 'node:dns';
import type { HybridDetection } from '../../provisioning/hybrid';
import type { VerifiedDomain } from '../../provisioning/model';

export type ResolveSrv = (name: string) => Promise<SrvRecord[]>;

/**
 * Microsoft 365's own federation edge: a domain whose _sipfederationtls SRV record points here is
 * online (Microsoft's DNS guidance for Teams: `_sipfederationtls._tcp` → sipfed.online.lync.com).
 */
const MICROSOFT_EDGE = /(^|\.)online\.lync\.com\.?$|(^|\.)online\.gov\.skypeforbusiness\.us\.?$/i;

/**
 * Hybrid with Skype for Business Server is told by DNS: the seed page — "When DNS SRV records for
 * sipfederationtls resolve to Skype for Business Server 2019, then resource accounts must be created
 * on Skype for Business Server 2019". So: any verified domain (onmicrosoft.com ones never point
 * on-premises) whose record points anywhere but Microsoft's edge makes the tenant hybrid. A domain
 * without the record says nothing; a lookup that fails is reported, not guessed.
 */
export async function detectHybridByDns(domains: readonly VerifiedDomain[], resolveSrv: ResolveSrv = (name) => dns.resolveSrv(name)): Promise<HybridDetection> {
  const unresolved: string[] = [];
  for (const domain of domains) {
    if (/\.onmicrosoft\.(com|us)$/i.test(domain.name)) continue;
    const name = `_sipfederationtls._tcp.${domain.name}`;
    let records: SrvRecord[];
    try {
      records = await resolveSrv(name);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // No such name or no SRV record: the domain does not federate through anything.
      if (code === 'ENOTFOUND' || code === 'ENODATA') continue;
      unresolved.push(domain.name);
      continue;
    }
    const onPremises = records.find((r) => !MICROSOFT_EDGE.test(r.name));
    if (onPremises) return { hybrid: true, evidence: `${name} → ${onPremises.name} (not Microsoft 365)` };
  }
  if (unresolved.length > 0) {
    return { hybrid: false, evidence: `DNS did not answer for ${unresolved.join(', ')}: set SWITCHBOARD_HYBRID=on or off to decide` };
  }
  return { hybrid: false, evidence: '_sipfederationtls points to Microsoft 365 (or is absent) for every verified domain' };
}
