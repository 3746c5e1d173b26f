#!/usr/bin/env node
'use strict';
/**
 * Renders every card of the card catalogue (test/cards/catalogue.ts: every template in cards/,
 * expanded by its real renderer with the simulated demo tenant's data) to docs/cards/<name>.png,
 * and writes docs/cards/README.md listing them.
 *
 *   npm run cards:gallery                     render into docs/cards/ (commit the PNGs and README)
 *   npm run cards:gallery -- --out some/dir   render somewhere else
 *   npm run cards:gallery -- --only plan      only the cards whose name contains "plan" (no README)
 *
 * How: the catalogue is TypeScript, so it is compiled first with the project's own tsc (the
 * options of tsconfig.json) into a throw-away folder. The cards are then rendered in headless
 * Chromium (playwright-core; scripts/chromium.js picks Debian's, /usr/bin/chromium or CHROMIUM_PATH,
 * else the one inside the npm package @sparticuz/chromium) by the adaptivecards
 * package's UMD bundle and CSS, with a Teams-light-like host config (scripts/teams-host-config.json)
 * and a little CSS for Teams-like buttons and inputs. No browser is downloaded and the page is
 * offline. Fonts are whatever the machine has: Segoe UI is not on Linux, so Liberation Sans or
 * DejaVu Sans stand in for it, and emoji (⏳) need Debian's fonts-noto-color-emoji. The same inputs
 * on the same machine give byte-identical PNGs.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { launchContext } = require('./chromium');

const ROOT = path.join(__dirname, '..');
const CATALOGUE_TS = path.join(ROOT, 'test', 'cards', 'catalogue.ts');
const HOST_CONFIG_PATH = path.join(__dirname, 'teams-host-config.json');
const DEFAULT_OUT = path.join(ROOT, 'docs', 'cards');

/** Card width in CSS pixels: Teams desktop shows bot cards about this wide in a chat. */
const CARD_WIDTH = 500;
const DEVICE_SCALE_FACTOR = 1;


/**
 * Teams-like chrome around the SDK's own CSS: outlined buttons, bordered inputs, a card frame. The
 * SDK sets the host config's font on text only, so buttons and inputs get it here.
 */
const pageCss = (fontFamily) => `
  html, body { margin: 0; padding: 0; background: #F5F5F5; font-family: ${fontFamily}; }
  #frame button, #frame input, #frame select, #frame textarea { font-family: ${fontFamily}; }
  #frame { display: inline-block; margin: 16px; width: ${CARD_WIDTH}px; background: #FFFFFF; border-radius: 6px;
           box-shadow: 0 1px 2px rgba(0,0,0,0.14), 0 0 2px rgba(0,0,0,0.12); overflow: hidden; }
  .ac-adaptiveCard { font-feature-settings: normal; }
  .ac-pushButton { font-family: inherit; font-size: 14px; font-weight: 600; min-height: 32px; padding: 4px 12px;
                   border: 1px solid #D1D1D1; border-radius: 4px; background: #FFFFFF; color: #242424;
                   overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .ac-pushButton.style-positive, .ac-pushButton.style-destructive { background: #FFFFFF; color: #242424; border-color: #D1D1D1; }
  .ac-pushButton.expandable, .ac-pushButton[aria-label="More options"] { min-width: 32px; }
  .ac-input.ac-textInput, .ac-input.ac-multichoiceInput, .ac-input.ac-choiceSetInput-filtered-textbox {
    font-family: inherit; font-size: 14px; min-height: 32px; padding: 4px 8px; box-sizing: border-box;
    border: 1px solid #D1D1D1; border-bottom-color: #616161; border-radius: 4px; background: #FFFFFF; color: #242424; }
  .ac-input.ac-textInput.ac-multiline { min-height: 64px; }
  .ac-input ::placeholder, .ac-input::placeholder { color: #707070; }
  input[type=radio], input[type=checkbox] { accent-color: #6264A7; }
  .ac-selectable { cursor: pointer; }
`;

function parseArgs(argv) {
  const args = { out: DEFAULT_OUT, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' && argv[i + 1]) args.out = path.resolve(argv[++i]);
    else if (arg === '--only' && argv[i + 1]) args.only = argv[++i];
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run cards:gallery [-- --out DIR] [-- --only TEXT]\n');
      process.exit(0);
    } else throw new Error(`unknown argument: ${arg}`);
  }
  return args;
}

/**
 * Compiles test/cards/catalogue.ts (and what it imports) with the project's compiler options into
 * a temporary folder that looks enough like the project for the compiled code to run: src/cards/
 * render.ts finds its templates at <out>/cards and the packages at <out>/node_modules (symlinks).
 */
function compileCatalogue(buildDir) {
  const outDir = path.join(buildDir, 'out');
  const tsconfig = path.join(buildDir, 'tsconfig.json');
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: { rootDir: ROOT, outDir, sourceMap: false, noEmit: false, typeRoots: [path.join(ROOT, 'node_modules', '@types')], types: ['node'] },
      files: [CATALOGUE_TS],
      include: [],
    }),
  );
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`tsc could not compile the card catalogue:\n${result.stdout}${result.stderr}`);
  }
  fs.symlinkSync(path.join(ROOT, 'cards'), path.join(outDir, 'cards'), 'dir');
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(outDir, 'node_modules'), 'dir');
  return path.join(outDir, 'test', 'cards', 'catalogue.js');
}

function launchChromium() {
  return launchContext('switchboard-gallery-profile-', { viewport: { width: CARD_WIDTH + 32, height: 800 }, deviceScaleFactor: DEVICE_SCALE_FACTOR });
}

/** Loads the adaptivecards renderer into a blank page. */
async function preparePage(context, hostConfig) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setContent('<!doctype html><html><head><meta charset="utf-8"><title>cards</title></head><body><div id="frame"></div></body></html>');
  await page.addStyleTag({ path: require.resolve('adaptivecards/dist/adaptivecards.css', { paths: [ROOT] }) });
  await page.addStyleTag({ content: pageCss(hostConfig.fontFamily) });
  await page.addScriptTag({ path: require.resolve('adaptivecards/dist/adaptivecards.min.js', { paths: [ROOT] }) });
  return { page, errors };
}

/** Renders one card into #frame; returns the SDK's complaints, if any. */
async function renderCard(page, card, hostConfig) {
  return page.evaluate(
    ({ card, hostConfig }) => {
      const AC = window.AdaptiveCards;
      const adaptiveCard = new AC.AdaptiveCard();
      adaptiveCard.hostConfig = new AC.HostConfig(hostConfig);
      const context = new AC.SerializationContext(AC.Versions.v1_5);
      adaptiveCard.parse(card, context);
      const problems = [];
      for (let i = 0; i < context.eventCount; i++) problems.push(context.getEventAt(i).message);
      const rendered = adaptiveCard.render();
      const frame = document.getElementById('frame');
      frame.replaceChildren();
      if (rendered) frame.appendChild(rendered);
      else problems.push('render() returned nothing');
      return problems;
    },
    { card, hostConfig },
  );
}

function escapeCell(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function readme(entries) {
  const byTemplate = new Map();
  for (const e of entries) {
    if (!byTemplate.has(e.template)) byTemplate.set(e.template, []);
    byTemplate.get(e.template).push(e);
  }
  const lines = [
    '# Card gallery',
    '',
    'Every Adaptive Card template in `cards/`, expanded by its renderer in `src/cards/` with the simulated',
    "demo tenant's data (the catalogue in `test/cards/catalogue.ts`), rendered by the `adaptivecards`",
    'JavaScript SDK in headless Chromium with a Teams-light-like host config (`scripts/teams-host-config.json`).',
    '',
    '**Generated** by `npm run cards:gallery`; do not edit by hand. Teams itself draws cards a little',
    'differently (Segoe UI, its own buttons and dropdowns); these pictures are for reviewing content and',
    'layout. `test/cards/cards.test.ts` checks the same cards (schema 1.5, size, fallbacks, leftovers).',
    'Emoji such as ⏳ (a waiting plan step) need an emoji font (Debian `fonts-noto-color-emoji`) on the',
    'machine that renders; without one they show as an empty box.',
    '',
    `${entries.length} cards from ${byTemplate.size} templates. Size is the card JSON as sent (UTF-8, no whitespace).`,
    '',
  ];
  for (const [template, list] of [...byTemplate.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`## ${template}`, '', `Template \`cards/${template}.json\`.`, '', '| card | state | size |', '|---|---|---|');
    for (const e of list) lines.push(`| [${e.name}](${e.name}.png) | ${escapeCell(e.description)} | ${(e.bytes / 1024).toFixed(1)} KB |`);
    lines.push('');
    for (const e of list) lines.push(`### ${e.name}`, '', escapeCell(e.description), '', `![${e.name}](${e.name}.png)`, '');
  }
  return lines.join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-gallery-build-'));
  let browser;
  try {
    const started = Date.now();
    const { catalogue, assertCatalogueComplete } = require(compileCatalogue(buildDir));
    assertCatalogueComplete(catalogue);
    const entries = catalogue.filter((e) => !args.only || e.name.includes(args.only));
    if (entries.length === 0) throw new Error(`no catalogue card matches "${args.only}"`);
    const hostConfig = JSON.parse(fs.readFileSync(HOST_CONFIG_PATH, 'utf8'));

    fs.mkdirSync(args.out, { recursive: true });
    browser = await launchChromium();
    const { page, errors } = await preparePage(browser.context, hostConfig);
    const written = [];
    for (const entry of entries) {
      const problems = await renderCard(page, entry.card, hostConfig);
      if (problems.length || errors.length) throw new Error(`${entry.name}: ${[...problems, ...errors].join('; ')}`);
      await page.evaluate(() => document.fonts.ready);
      const file = path.join(args.out, `${entry.name}.png`);
      await page.locator('#frame').screenshot({ path: file, animations: 'disabled', caret: 'hide' });
      written.push({ ...entry, bytes: Buffer.byteLength(JSON.stringify(entry.card), 'utf8') });
      process.stdout.write(`  ${path.relative(ROOT, file)}\n`);
    }

    if (!args.only) {
      // The folder holds the gallery only: pictures of cards no longer in the catalogue go.
      const keep = new Set(written.map((e) => `${e.name}.png`));
      for (const f of fs.readdirSync(args.out)) {
        if (f.endsWith('.png') && !keep.has(f)) {
          fs.rmSync(path.join(args.out, f));
          process.stdout.write(`  removed stale ${f}\n`);
        }
      }
      fs.writeFileSync(path.join(args.out, 'README.md'), readme(written));
    }
    process.stdout.write(`${written.length} cards rendered to ${path.relative(ROOT, args.out) || '.'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    if (browser) await browser.close();
    fs.rmSync(buildDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`cards:gallery failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
