import { csvLine, detectDelimiter, parseCsv, unescapeCell } from '../../src/provisioning/csv';

const cells = (text: string) => {
  const parsed = parseCsv(text);
  if (!parsed.ok) throw new Error(`${parsed.problem} at ${parsed.line}`);
  return parsed.records.map((r) => r.cells);
};

describe('parseCsv (RFC 4180, as spreadsheets write it)', () => {
  it.each([
    ['plain fields', 'a,b,c\r\n1,2,3\r\n', [['a', 'b', 'c'], ['1', '2', '3']]],
    ['LF line ends', 'a,b\n1,2\n', [['a', 'b'], ['1', '2']]],
    ['CR line ends (old Mac Excel)', 'a,b\r1,2\r', [['a', 'b'], ['1', '2']]],
    ['no line end after the last record', 'a,b\n1,2', [['a', 'b'], ['1', '2']]],
    ['empty fields', 'a,,c\n,,\n', [['a', '', 'c'], ['', '', '']]],
    ['a quoted comma', '"Sales, EMEA",x\n', [['Sales, EMEA', 'x']]],
    ['a doubled quote', '"Say ""hi""",x\n', [['Say "hi"', 'x']]],
    ['a line break inside quotes', '"two\nlines",x\n', [['two\nlines', 'x']]],
    ['CRLF inside quotes, kept', '"two\r\nlines",x\r\n', [['two\r\nlines', 'x']]],
    ['an empty quoted field', '"",x\n', [['', 'x']]],
    ['quotes inside an unquoted field, kept as they are', 'O"Brien,x\n', [['O"Brien', 'x']]],
    ['spaces kept around fields', ' a , b \n', [[' a ', ' b ']]],
    ['blank lines skipped', 'a,b\n\n\n1,2\n\n', [['a', 'b'], ['1', '2']]],
    ['a UTF-8 byte order mark dropped', '\ufeffa,b\n1,2\n', [['a', 'b'], ['1', '2']]],
    ['semicolons (French Excel)', 'a;b;c\n"x;y";2;3\n', [['a', 'b', 'c'], ['x;y', '2', '3']]],
    ['tabs (pasted from a spreadsheet)', 'a\tb\n1\t2\n', [['a', 'b'], ['1', '2']]],
    ['accents and other scripts', 'nom,ville\nStandard Zürich,東京\n', [['nom', 'ville'], ['Standard Zürich', '東京']]],
  ])('reads %s', (_case, text, expected) => {
    expect(cells(text)).toEqual(expected);
  });

  it('numbers each record by the line it starts on, as an editor shows it', () => {
    const parsed = parseCsv('h1,h2\n"a\nb",1\n\nc,2\n');
    expect(parsed.ok && parsed.records.map((r) => r.line)).toEqual([1, 2, 5]);
  });

  it.each([
    ['a quote that never closes', 'a,b\n"open,1\n2,3\n', 'unterminatedQuote', 2],
    ['text after a closing quote', 'a,b\n"x"y,1\n', 'textAfterQuote', 2],
  ])('refuses %s, with its line', (_case, text, problem, line) => {
    expect(parseCsv(text)).toEqual({ ok: false, problem, line });
  });

  it('stops one record past the limit, whatever the length of the rest', () => {
    const text = `h\n${'x\n'.repeat(10_000)}`;
    expect(parseCsv(text, 501)).toMatchObject({ ok: false, problem: 'tooManyRecords' });
    expect(parseCsv(`h\n${'x\n'.repeat(500)}`, 501)).toMatchObject({ ok: true });
  });

  it('takes the delimiter the header uses most, outside quotes', () => {
    expect(detectDelimiter('a,b;c,d')).toBe(',');
    expect(detectDelimiter('"a,b";c;d')).toBe(';');
    expect(detectDelimiter('single')).toBe(',');
  });
});

describe('csvLine and unescapeCell', () => {
  it.each([
    ['plain', ['a', 'b'], 'a,b\r\n'],
    ['a comma, a quote and a line break quoted', ['a,b', 'say "x"', 'two\nlines'], '"a,b","say ""x""","two\nlines"\r\n'],
    ['formula-like cells kept as text with an apostrophe (CSV injection)', ['=SUM(A1)', '+14255550100', '-x', '@x'], "'=SUM(A1),'+14255550100,'-x,'@x\r\n"],
  ])('writes %s', (_case, values, line) => {
    expect(csvLine(values)).toBe(line);
  });

  it('reads back what it writes, the apostrophe of a formula-like cell removed', () => {
    const values = ['Main line', '+14255550100', 'a,b', 'say "x"', "'quoted'", '=1+1'];
    const [read] = cells(csvLine(values));
    expect(read!.map(unescapeCell)).toEqual(values);
  });
});
