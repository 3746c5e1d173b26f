/**
 * Text from users and from the tenant (display names, people's names from Teams, reject reasons,
 * voice application names, UPNs, typed search words…) as plain text inside Adaptive Card Markdown.
 *
 * Where Markdown applies: Teams renders Markdown in TextBlock `text` and in FactSet `title` / `value`,
 * and nowhere else ("Format cards in Teams", learn.microsoft.com/microsoftteams/platform/
 * task-modules-and-cards/cards/cards-format); the supported subset is bold, italic, bullet and numbered
 * lists and links ("Text features", learn.microsoft.com/adaptive-cards/authoring-cards/text-features).
 * Inputs, choice titles, button titles and `data` are shown or sent as they are: never pass them here.
 *
 * Why not backslash escapes: clients disagree on them. Teams on iOS and Android did not honour them
 * (microsoft/AdaptiveCards#5590, MicrosoftDocs/msteams-docs#5793) or showed the backslash
 * (microsoft/Teams-AdaptiveCards-Mobile#58). So nothing here relies on a client honouring an escape:
 * - Link, image, autolink, HTML and mention syntax is broken with an invisible U+2060 WORD JOINER put
 *   where the syntax needs two characters to touch (`](`, `<x`, …). U+2060 is a default-ignorable
 *   code point (Unicode DerivedCoreProperties), so it is not drawn, and unlike U+200B it adds no line
 *   break opportunity (UAX #14, class WJ).
 * - Emphasis cannot be broken that way: CommonMark does not count U+2060/U+200B as whitespace or
 *   punctuation (spec 0.31.2 §2.1, §6.2), and the shared-model parser of the mobile clients reads bytes
 *   and treats any non-ASCII byte as a word character (microsoft/AdaptiveCards, source/shared/cpp/
 *   ObjectModel/MarkDownBlockParser.cpp). So `*` becomes U+2217 ASTERISK OPERATOR (listed as
 *   confusable with `*` in Unicode's confusables.txt) and an `_` that could delimit emphasis becomes
 *   U+FF3F FULLWIDTH LOW LINE (NFKC-equal to `_`). An `_` between two ASCII letters or digits stays:
 *   neither CommonMark (rules 2, 4, 6, 8 of §6.2) nor the shared-model parser (its intraword check)
 *   lets it open or close emphasis, so "aa_main@contoso.com" is left exactly as it is.
 * - Block syntax (lists, headings, quotes, rules, code) only starts a line: line breaks and other
 *   control characters become one space, and a value that begins like a block marker gets a leading
 *   U+2060. The shared-model parser also starts a block after `[`, `]` and `)` (ParseBlock in
 *   MarkDownBlockParser.cpp), so a list marker right after one of those gets a U+2060 before it.
 * - Also broken with a U+2060: character references ("&#x202E;", which CommonMark decodes, here to a
 *   bidi control), Adaptive Cards' {{DATE(…)}} functions, and a backslash before punctuation (so that
 *   the backslash shows instead of escaping what follows).
 * - Left as they are: `~` and backticks (strikethrough and code spans are not in the Teams subset; at
 *   worst they restyle text, they can neither link nor hide it) and bare URLs (a client that turns them
 *   into links shows the real address).
 * The Microsoft 365 Agents Playground renders TextBlocks with a CommonMark renderer (react-markdown);
 * test/e2e/playground.test.ts checks a hostile display name there.
 *
 * Ordinary text (letters, digits, spaces, `. - @ ' ( ) , :` and the like) comes out byte-identical.
 *
 * Bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) are removed, not shown: they
 * have no glyph of their own, and what they do is reorder the text around them (UAX #9), so that
 * "evil\u202Etxt.exe" reads as "evilexe.txt". Removed, the characters read in the order they are
 * stored, which is what the tenant holds and what an admin types. Right-to-left names (Arabic, Hebrew)
 * still read right to left: their letters carry their own direction. The PowerShell equivalents on the
 * plan card still show every such character, by code point (src/provisioning/equivalents.ts).
 *
 * plainText is idempotent, so text that passes through it twice is not changed the second time.
 */

const WORD_JOINER = '\u2060';
const ASTERISK_LOOKALIKE = '\u2217';
const LOW_LINE_LOOKALIKE = '\uFF3F';

/** C0 and C1 controls (tab, line feed, carriage return, NEL…) and the Unicode line and paragraph separators. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
/** The characters UAX #9 gives explicit directional formatting (embeddings, overrides, isolates, marks). */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/**
 * What can open a block when it starts a line, in CommonMark (spec §4, §5): a list item ("- ", "+ ",
 * "1. ", "1) "; the shared-model parser reads "- " and "1. " the same way), an ATX heading, a block
 * quote, a thematic break ("---"), a code fence, indented code. `*` and `_` are not listed: they are
 * replaced anyway. Setext underlines and tables need a second line, and line breaks do not get through.
 * "+14255550100" or "-x" open nothing and are left alone.
 */
const BLOCK_START = /^(?: {4}| *(?:[-+](?: |$)|--|#{1,6}(?: |$)|>|```|~~~|\d+[.)](?: |$)))/;
/**
 * An HTML entity or numeric character reference (CommonMark §2.5): "&#x202E;" would decode to a bidi
 * control. At the end of the value the ";" may come from the template ("{number}; it must be…").
 */
const CHARACTER_REFERENCE = /^&(?:#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{0,31})(?:;|$)/;
/**
 * A list marker as the shared-model parser reads one where a block starts: "-" then a space, or digits,
 * "." then a space (ListParser and OrderedListParser in MarkDownBlockParser.cpp). At the end of the
 * value the rest may come from the template, which often goes on with ". " ("{number}. A resource…").
 */
const LIST_MARKER = /^(?:-(?: |$)|\d+(?:\.(?: |$)|$))/;
/**
 * What can follow `<` in CommonMark to open something: a URI autolink or an HTML tag (a letter), a
 * closing tag, a comment or declaration, a processing instruction, or an email autolink (its local
 * part, then "@"). At the end of the value the template decides: it never puts a letter there.
 */
const ANGLE_OPENS = /^(?:[A-Za-z/!?]|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@)/;
const ASCII_ALNUM = /^[A-Za-z0-9]$/;
const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;

/** Whether an `_` at this index sits between two ASCII letters or digits, where it cannot delimit emphasis. */
function intraword(text: string, index: number): boolean {
  return ASCII_ALNUM.test(text[index - 1] ?? '') && ASCII_ALNUM.test(text[index + 1] ?? '');
}

/**
 * The character to put after `c` (at `index`) so that `c` and what follows cannot form syntax; ''
 * when nothing is needed. `next` is '' at the end of the value: what the template puts there is
 * unknown, so the end counts as dangerous where it could be.
 */
function breakAfter(text: string, index: number): string {
  const c = text[index]!;
  const next = text[index + 1] ?? '';
  if (next === WORD_JOINER) return '';
  switch (c) {
    // `](` inline link or image, `][` reference, `]:` definition (CommonMark §6.3, §4.7); the
    // shared-model parser also starts a block after `]`.
    case ']':
      return next === '' || /^[([:]$/.test(next) || LIST_MARKER.test(text.slice(index + 1)) ? WORD_JOINER : '';
    // The shared-model parser starts a block after `[` and `)` too.
    case '[':
    case ')':
      return LIST_MARKER.test(text.slice(index + 1)) ? WORD_JOINER : '';
    // Autolinks, raw HTML and Teams' <at> mention tags (CommonMark §6.5, §6.6); "<= 5" stays as it is.
    case '<':
      return ANGLE_OPENS.test(text.slice(index + 1)) ? WORD_JOINER : '';
    case '&':
      return CHARACTER_REFERENCE.test(text.slice(index)) ? WORD_JOINER : '';
    // Adaptive Cards' {{DATE(…)}} / {{TIME(…)}} functions (text-features, "Date/time formatting").
    case '{':
      return next === '{' ? WORD_JOINER : '';
    // A backslash before ASCII punctuation is an escape in CommonMark and would vanish with it: the
    // word joiner keeps the user's backslash visible (it escapes nothing then).
    case '\\':
      return next === '' || ASCII_PUNCTUATION.test(next) ? WORD_JOINER : '';
    default:
      return '';
  }
}

/**
 * The characters plainText changes or may put a word joiner after, controls and bidi controls
 * included: text without any of them, and not starting like a block, comes out as it went in.
 */
const MAY_CHANGE = /[*_[\])<&{\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** User or tenant text, made safe to place in a TextBlock text or a FactSet value (see above). */
export function plainText(value: string): string {
  // Most names and addresses need nothing: one test instead of a string built character by character.
  if (!MAY_CHANGE.test(value) && !BLOCK_START.test(value)) return value;
  const text = value.replace(CONTROLS, ' ').replace(BIDI_CONTROLS, '');
  let out = BLOCK_START.test(text) ? WORD_JOINER : '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '*') out += ASTERISK_LOOKALIKE;
    else if (c === '_' && !intraword(text, i)) out += LOW_LINE_LOOKALIKE;
    else out += c + breakAfter(text, i);
  }
  return out;
}

/**
 * Whether the character at `index` would have to change for `text` to be inert Markdown, leaving
 * aside the start of a line. For text that is shown exactly but built so that it never starts a line,
 * such as the PowerShell equivalents, which write such characters by code point instead.
 */
export function isMarkupSensitive(text: string, index: number): boolean {
  const c = text[index]!;
  if (c === '*' || c === '[' || c === ']' || c === '<' || c === '\\' || (c === '_' && !intraword(text, index))) return true;
  return breakAfter(text, index) !== '';
}
