import { format, strings, type Locale } from '../i18n';
import { IMPORT_COLUMNS, IMPORT_LIMITS, type ImportProblem } from '../provisioning/import';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/**
 * Pasted text is kept in the card when the form comes back with a problem, up to this length: the
 * card (with every input value) stays under Switchboard's 25 KB (teams-platform.md §5).
 */
const KEPT_TEXT_CHARS = 16_000;

export interface ImportFormState {
  /** Why nothing was imported, in words (already formatted). */
  problem?: string;
  csv?: string;
  /** A one-time template link just made for this viewer. */
  download?: { url: string; expires: string };
}

/** "import": paste CSV here, or send the file in the chat; the limits are stated, not discovered. */
export function importFormCard(locale: Locale, state: ImportFormState = {}): CardJson {
  const s = strings(locale).import;
  const csv = state.csv ?? '';
  const kept = csv.length <= KEPT_TEXT_CHARS;
  return renderCard('import-form', {
    s,
    problem: [state.problem ?? '', csv && !kept ? s.textNotKept : ''].filter(Boolean).join(' '),
    placeholder: IMPORT_COLUMNS.join(','),
    csv: kept ? csv : '',
    limits: format(s.limits, { rows: IMPORT_LIMITS.rows, chars: IMPORT_LIMITS.pasteChars, kb: IMPORT_LIMITS.fileBytes / 1024 }),
    downloadUrl: state.download?.url ?? '',
    downloadText: state.download ? format(s.templateReady, { expires: state.download.expires }) : '',
  });
}

/** Why a paste or a file was not imported at all, in the viewer's words. */
export type ImportProblemText =
  | ImportProblem
  | { problem: 'fileType'; name: string }
  | { problem: 'fileTooBig' }
  | { problem: 'fileUnreachable'; detail: string }
  | { problem: 'fileNotPersonal' }
  | { problem: 'fileOne' };

export function describeImportProblem(problem: ImportProblemText, locale: Locale): string {
  const s = strings(locale).import;
  const { problem: code, ...params } = problem as { problem: keyof typeof s.problem } & Record<string, string | number>;
  const text = format(s.problem[code], {
    ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? plainText(v) : v])),
    max: code === 'tooLong' ? IMPORT_LIMITS.pasteChars : IMPORT_LIMITS.rows,
    kb: IMPORT_LIMITS.fileBytes / 1024,
  });
  return `${s.notDone} ${text}`;
}
