/**
 * CSV as RFC 4180 describes it, read strictly and written safely, for bulk import and the exports in
 * the same format. Small on purpose: no dependency to keep up to date, and every case it accepts is
 * in test/provisioning/csv.test.ts.
 *
 * Reading accepts what spreadsheets write: a UTF-8 byte order mark, CRLF, LF or CR line ends, fields
 * in double quotes with "" for a quote and line breaks inside, and the delimiter of the header line
 * (comma; semicolon, which French Excel writes; or tab, which a paste from a spreadsheet gives).
 * Blank lines are skipped. A quote that never closes, or text after a closing quote, is an error
 * with its line number: guessing would import the wrong values.
 */

export type Delimiter = ',' | ';' | '\t';

export interface CsvRecord {
  /** The line of the text the record starts on (1-based), as an editor shows it. */
  line: number;
  cells: string[];
}

export type CsvParse =
  | { ok: true; delimiter: Delimiter; records: CsvRecord[] }
  | { ok: false; problem: 'unterminatedQuote' | 'textAfterQuote' | 'tooManyRecords'; line: number };

const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];

/** The delimiter the header line uses most, outside quotes; a comma when it has none. */
export function detectDelimiter(text: string): Delimiter {
  const counts = new Map<Delimiter, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && counts.has(c as Delimiter)) counts.set(c as Delimiter, counts.get(c as Delimiter)! + 1);
  }
  let best: Delimiter = ',';
  for (const d of DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

/**
 * Parses the whole text into records. `maxRecords` bounds the work: parsing stops with
 * `tooManyRecords` one record past it, whatever the length of the rest.
 */
export function parseCsv(input: string, maxRecords = Number.POSITIVE_INFINITY): CsvParse {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const delimiter = detectDelimiter(text);
  const records: CsvRecord[] = [];
  let line = 1;
  let recordLine = 1;
  let cells: string[] = [];
  let cell = '';
  let i = 0;
  let atCellStart = true;

  const endRecord = (): boolean => {
    cells.push(cell);
    // A line with nothing on it is not a record (trailing newline, blank lines between blocks).
    if (!(cells.length === 1 && cells[0] === '')) records.push({ line: recordLine, cells });
    cells = [];
    cell = '';
    atCellStart = true;
    return records.length <= maxRecords;
  };

  while (i < text.length) {
    const c = text[i]!;
    if (atCellStart && c === '"') {
      // A quoted field: up to the closing quote; "" is one quote; line breaks belong to the field.
      const startLine = line;
      i += 1;
      for (;;) {
        if (i >= text.length) return { ok: false, problem: 'unterminatedQuote', line: startLine };
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        if (q === '\r' || q === '\n') {
          // CRLF inside a field is kept as one line break, as written.
          if (q === '\r' && text[i + 1] === '\n') {
            cell += '\r\n';
            i += 2;
          } else {
            cell += q;
            i += 1;
          }
          line += 1;
          continue;
        }
        cell += q;
        i += 1;
      }
      const next = text[i];
      if (next !== undefined && next !== delimiter && next !== '\r' && next !== '\n') return { ok: false, problem: 'textAfterQuote', line };
      atCellStart = false;
      continue;
    }
    if (c === delimiter) {
      cells.push(cell);
      cell = '';
      atCellStart = true;
      i += 1;
      continue;
    }
    if (c === '\r' || c === '\n') {
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      if (!endRecord()) return { ok: false, problem: 'tooManyRecords', line };
      line += 1;
      recordLine = line;
      continue;
    }
    cell += c;
    atCellStart = false;
    i += 1;
  }
  if (cells.length > 0 || cell !== '') {
    if (!endRecord()) return { ok: false, problem: 'tooManyRecords', line };
  }
  return { ok: true, delimiter, records };
}

// A cell starting with = + - @ (or tab/CR) is run as a formula by spreadsheet apps (CSV injection,
// OWASP): written with a leading apostrophe so that it stays text, as the history export does
// (src/audit/history.ts). Reading takes that apostrophe off again, so an export imports as it was.
const FORMULA_START = /^[=+\-@\t\r]/;
const ESCAPED_FORMULA = /^'[=+\-@\t\r]/;

/** A cell as read: the apostrophe that kept a formula-like value text is removed. */
export function unescapeCell(cell: string): string {
  return ESCAPED_FORMULA.test(cell) ? cell.slice(1) : cell;
}

function writeCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One record as a CSV line with CRLF (RFC 4180), comma-separated. */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map(writeCell).join(',')}\r\n`;
}
