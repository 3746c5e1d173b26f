import { format, strings, type Locale } from '../i18n';
import { equivalentOf, powerShellString } from '../provisioning/equivalents';
import { onPremisesCommands } from '../provisioning/hybrid';
import type { LicenseSku, ResourceAccount, TenantFacts } from '../provisioning/model';
import type { Plan, Step, StepState } from '../provisioning/plans';
import { accountView, countryText, describeRefusal } from './describe';
import type { Tone } from './message';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

const ICON: Record<StepState['status'], string> = { pending: '○', waiting: '⏳', done: '✓', failed: '✗' };
const STEP_TONE: Record<StepState['status'], Tone> = { pending: 'default', waiting: 'warning', done: 'good', failed: 'attention' };

export function stepText(step: Step, plan: Plan, locale: Locale): string {
  const s = strings(locale);
  const t = s.plan.step;
  switch (step.kind) {
    case 'awaitOnPremisesAccount':
      return format(t.awaitOnPremisesAccount, { upn: plainText(step.userPrincipalName), type: s.accountType[step.accountType], displayName: plainText(step.displayName) });
    case 'createAccount':
      return format(t.createAccount, { upn: plainText(step.userPrincipalName), type: s.accountType[step.accountType], displayName: plainText(step.displayName) });
    case 'setUsageLocation':
      return format(t.setUsageLocation, { country: countryText(step.usageLocation, locale) });
    case 'assignLicense':
      return format(t.assignLicense, { license: s.license[step.license] });
    case 'assignNumber':
      return format(t[step.kind], { number: plainText(step.telephoneNumber), numberType: s.numberType[step.numberType] });
    // A step on another account (replacing a broken one) names that account.
    case 'unassignNumber':
      return format(step.of ? t.unassignNumberOf : t.unassignNumber, {
        number: plainText(step.telephoneNumber),
        numberType: s.numberType[step.numberType],
        upn: plainText(step.of?.userPrincipalName ?? ''),
      });
    case 'associate':
      return format(t[step.kind], { name: plainText(step.name) });
    case 'dissociate':
      return format(step.of ? t.dissociateOf : t.dissociate, { name: plainText(step.name), upn: plainText(step.of?.userPrincipalName ?? '') });
    case 'deleteAccount':
      return step.of ? format(t.deleteAccountOf, { upn: plainText(step.of.userPrincipalName) }) : t.deleteAccount;
    case 'updateAccount':
      return [
        step.displayName !== undefined ? format(t.updateDisplayName, { displayName: plainText(step.displayName) }) : '',
        step.accountType !== undefined ? format(t.updateType, { type: s.accountType[step.accountType] }) : '',
      ]
        .filter(Boolean)
        .join('; ');
    default:
      return format(t[step.kind], { upn: plainText(plan.account.userPrincipalName) });
  }
}

function statusLine(plan: Plan, locale: Locale): { text: string; tone: Tone } {
  const s = strings(locale).plan.status;
  const index = plan.steps.findIndex((x) => x.state.status === 'failed' || x.state.status === 'waiting');
  const note = index >= 0 ? plan.steps[index]!.state.note : undefined;
  const noteText = note ? describeRefusal({ ok: false, reason: note.reason, params: note.params }, locale) : '';
  switch (plan.status) {
    case 'failed':
      return { text: format(s.failed, { step: index + 1, note: noteText }), tone: 'attention' };
    case 'waiting':
      return { text: format(s.waiting, { note: noteText }), tone: 'warning' };
    case 'done':
      return { text: s.done, tone: 'good' };
    case 'cancelled':
      return { text: s.cancelled, tone: 'default' };
    case 'running':
      return { text: s.running, tone: 'default' };
    case 'awaitingConfirmation':
      return plan.held ? { text: format(s.held, { note: heldText(plan, locale) }), tone: 'attention' } : { text: s.awaitingConfirmation, tone: 'warning' };
  }
}

/** Why the runner held the plan back (no approval on record), in words; '' when it was not held. */
function heldText(plan: Plan, locale: Locale): string {
  return plan.held ? describeRefusal({ ok: false, reason: plan.held.reason, params: plan.held.params }, locale) : '';
}

/**
 * A plan as the admin sees it: what will happen (or happened) step by step, where it stands, and
 * the same steps as PowerShell/Graph calls. Buttons carry the plan id only.
 */
export interface ApprovalState {
  /** What the approval stands at, in words (approvalStatusLine). */
  line: string;
  tone: Tone;
  pending: boolean;
  /** Rejected, expired or withdrawn: the request's decision is what ended the plan, and the card says whose and why. */
  endedPlan: boolean;
  requestId: string;
  /** Who was asked, and who could not be reached (told to the requester). */
  note: string;
  /** The request was approved and its plan is done: the card says by whom ("Approved by … Done."). */
  done?: boolean;
}

/** The on-premises commands of a hybrid add, until its account has arrived. */
function onPremisesLines(plan: Plan): string[] {
  const slot = plan.steps.find((x) => x.step.kind === 'awaitOnPremisesAccount');
  if (!slot || slot.step.kind !== 'awaitOnPremisesAccount' || slot.state.status === 'done' || plan.status === 'cancelled') return [];
  return onPremisesCommands(slot.step, slot.step.ou, powerShellString);
}

/**
 * What callers will notice, said before the change is confirmed or approved: an auto attendant or call
 * queue that loses its number, or this resource account (seen missing in a Playground walk: "unassign
 * aa-main" showed "Used by Main line" and nothing about Main line's callers).
 */
export function impactOf(plan: Plan, account: ResourceAccount | null, locale: Locale): string {
  if (plan.status !== 'awaitingConfirmation') return '';
  const t = strings(locale).plan.impact;
  // What the steps themselves will do (the number and the AA/CQ they name), not what the account holds
  // now: it may have changed since the plan was made.
  const own = plan.steps.map((x) => x.step);
  const unassigned = own.flatMap((step) => (step.kind === 'unassignNumber' && !step.of ? [step.telephoneNumber] : []))[0] ?? '';
  const dissociated = own.flatMap((step) => (step.kind === 'dissociate' && !step.of ? [step.name] : []));
  switch (plan.kind) {
    case 'unassignNumber': {
      // Who is reached through the number: the account's AA/CQ today.
      const names = (account?.associations ?? []).map((a) => plainText(a.name)).join(', ');
      return unassigned && names ? format(t.number, { number: plainText(unassigned), names }) : '';
    }
    case 'deleteAccount':
    case 'dissociate': {
      if (dissociated.length === 0) return '';
      const names = dissociated.map(plainText).join(', ');
      // A delete unassigns the number; a dissociation leaves it on the account, no longer reaching the AA/CQ.
      const number = unassigned || (plan.kind === 'dissociate' ? (account?.phoneNumber ?? '') : '');
      return format(number ? t.numberAndAccount : t.account, { number: plainText(number), names });
    }
    default:
      return '';
  }
}

export function planCard(plan: Plan, facts: TenantFacts, locale: Locale, account: ResourceAccount | null = null, approval?: ApprovalState, notice = ''): CardJson {
  const s = strings(locale);
  // While a request waits for an approver, the plan card says so instead of offering Confirm.
  // A plan its request ended before any step ran says who ended it and why ("Rejected by Megan Bowen…:
  // reason. Nothing was changed."), not only "Cancelled".
  // A step that started, or whose change may have landed, counts as touched.
  const endedUntouched =
    plan.status === 'cancelled' && approval?.endedPlan === true && plan.steps.every((x) => x.state.status !== 'done' && !x.state.startedAt && !x.state.mayHaveActed);
  const line =
    approval && (plan.status === 'awaitingConfirmation' || endedUntouched)
      ? { text: approval.line, tone: approval.tone }
      : approval?.done && plan.status === 'done'
        ? { text: approval.line, tone: 'good' as const }
        : statusLine(plan, locale);
  const awaitingApproval = approval !== undefined && plan.status === 'awaitingConfirmation';
  const view = account ? accountView(account, facts.skus as LicenseSku[], locale) : null;
  const accountFacts = view
    ? [
        { title: s.account.upn, value: view.userPrincipalName },
        { title: s.account.type, value: view.type },
        { title: s.account.license, value: view.license },
        { title: s.account.number, value: view.number },
        { title: s.account.associations, value: view.associations },
        { title: s.plan.requestedBy, value: plainText(plan.requestedBy.name || plan.requestedBy.aadObjectId) },
      ]
    : [{ title: s.plan.requestedBy, value: plainText(plan.requestedBy.name || plan.requestedBy.aadObjectId) }];
  return renderCard('plan', {
    s: s.plan,
    a: s.approval,
    title: format(s.plan.title[plan.kind], { upn: plainText(plan.account.userPrincipalName) }),
    statusLine: line.text,
    tone: line.tone,
    facts: accountFacts,
    impact: impactOf(plan, account, locale),
    steps: plan.steps.map(({ step, state }, i) => ({
      icon: ICON[state.status],
      text: `${i + 1}. ${stepText(step, plan, locale)}`,
      tone: STEP_TONE[state.status],
    })),
    commands: plan.steps.map(({ step }) => equivalentOf(step, plan, facts)),
    // Shown, not folded away, while the plan waits for it: nothing happens until an admin runs it.
    onPremises: onPremisesLines(plan),
    planId: plan.id,
    accountId: plan.account.id ?? '',
    requestId: approval?.requestId ?? '',
    // A held plan whose request waits for the approvers says why it stopped beside who has the request.
    approvalNote: [awaitingApproval ? heldText(plan, locale) : '', awaitingApproval ? approval.note : '', notice].filter(Boolean).join(' '),
    canConfirm: plan.status === 'awaitingConfirmation' && !awaitingApproval,
    canCancelRequest: awaitingApproval && approval.pending,
    canRetry: plan.status === 'failed',
    canRefresh: plan.status === 'running' || plan.status === 'waiting' || (awaitingApproval && approval.pending),
    canCancel: (plan.status === 'awaitingConfirmation' && !awaitingApproval) || plan.status === 'failed',
    canShowAccount: plan.status === 'done' && plan.kind !== 'deleteAccount' && plan.account.id !== null,
  });
}
