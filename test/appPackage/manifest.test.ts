import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import {
  PackageError,
  VARIABLES,
  buildManifest,
  buildPackage,
  bundledSchemaPath,
  deriveTeamsAppId,
  validateManifest,
} from '../../scripts/package';
import { decodePng, pixel, type Rgba } from './png';
import { commands } from '../../src/bot/commands';

const ROOT = path.join(__dirname, '..', '..');
const APP_PACKAGE = path.join(ROOT, 'appPackage');
const BOT_ID = '0a1b2c3d-1111-4222-8333-444455556666';
const TEAMS_APP_ID = '9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff';
const ENV = { MicrosoftAppId: BOT_ID, SWITCHBOARD_TEAMS_APP_ID: TEAMS_APP_ID };

// @microsoft/app-manifest requires strip-bom 5, which is ESM-only: Node ≥ 20.19 (and so npm run package)
// loads it natively, jest's CommonJS runtime cannot. The library uses it only to read manifest files
// from disk, which these tests do not do, so a CommonJS stand-in takes its place here.
jest.doMock(require.resolve('strip-bom', { paths: [path.dirname(require.resolve('@microsoft/app-manifest'))] }), () => ({
  __esModule: true,
  default: (text: string) => text.replace(/^\uFEFF/, ''),
}));

/**
 * The commands every scope's command list offers. A list holds at most 12 (manifest schema v1.24+,
 * commandLists[].commands maxItems): the ones left out are named in a listed command's description.
 */
const COMMANDS = ['help', 'add', 'import', 'list', 'show', 'edit', 'number', 'switch', 'associate', 'delete', 'history', 'export'];

/** Any attempt to reach the network during validation fails the test. */
let fetchSpy: jest.SpyInstance;
beforeEach(() => {
  fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    throw new Error(`network access during packaging: ${String(input)}`);
  });
});
afterEach(() => {
  expect(fetchSpy).not.toHaveBeenCalled();
  fetchSpy.mockRestore();
});

function icon(name: string): Rgba {
  return decodePng(readFileSync(path.join(APP_PACKAGE, name)));
}

describe('Teams app manifest', () => {
  it('is valid against the newest schema @microsoft/app-manifest bundles, offline', async () => {
    const { manifest } = buildManifest(ENV);
    expect(await validateManifest(manifest)).toEqual([]);

    // The newest bundled Teams schema (vDevPreview is never shipped): bump the template when it grows.
    const versions = readdirSync(path.dirname(path.dirname(bundledSchemaPath(manifest.$schema)!)))
      .filter((v) => /^v\d+\.\d+$/.test(v))
      .map((v) => v.slice(1))
      .sort((a, b) => {
        const [a1, a2] = a.split('.').map(Number);
        const [b1, b2] = b.split('.').map(Number);
        return a1! - b1! || a2! - b2!;
      });
    expect(manifest.manifestVersion).toBe(versions.at(-1));
    expect(manifest.manifestVersion).toBe('1.30');
    expect(manifest.$schema).toBe('https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json');
  });

  it('takes its ids from the environment and its version from package.json', () => {
    const { manifest } = buildManifest(ENV);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(manifest.id).toBe(TEAMS_APP_ID);
    expect(manifest.bots[0].botId).toBe(BOT_ID);
    expect(manifest.version).toBe(pkg.version);
    expect(JSON.stringify(manifest)).not.toContain('${{');
  });

  it('derives a stable Teams app id from MicrosoftAppId when SWITCHBOARD_TEAMS_APP_ID is not set', () => {
    const first = buildManifest({ MicrosoftAppId: BOT_ID }).manifest;
    const second = buildManifest({ MicrosoftAppId: BOT_ID.toUpperCase() }).manifest;
    expect(first.id).toBe(second.id);
    expect(first.id).toBe(deriveTeamsAppId(BOT_ID));
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.id).not.toBe(BOT_ID);
    expect(buildManifest({ MicrosoftAppId: '0a1b2c3d-1111-4222-8333-444455556667' }).manifest.id).not.toBe(first.id);
  });

  it('is a personal and team bot with one command list per scope', () => {
    const { manifest } = buildManifest(ENV);
    expect(manifest.name.short).toBe('Switchboard');
    expect(manifest.description.short).toMatch(/resource accounts/);
    expect(manifest.description.full).toMatch(/auto attendants/i);
    expect(manifest.description.full).toMatch(/call queues/i);
    expect(manifest.description.full).toMatch(/approv/i);
    expect(manifest.icons).toEqual({ color: 'color.png', outline: 'outline.png' });
    expect(manifest.accentColor).toMatch(/^#[0-9A-Fa-f]{6}$/);
    expect(manifest.bots).toHaveLength(1);
    const bot = manifest.bots[0];
    expect([...bot.scopes].sort()).toEqual(['personal', 'team']);
    // Bulk import takes a CSV file sent in the personal chat (issue 12).
    expect(bot.supportsFiles).toBe(true);
    expect(bot.commandLists.map((list: { scopes: string[] }) => list.scopes)).toEqual([['personal'], ['team']]);
    for (const list of bot.commandLists as { commands: { title: string; description: string }[] }[]) {
      expect(list.commands.length).toBeLessThanOrEqual(12);
      expect(list.commands.map((c) => c.title)).toEqual(COMMANDS);
      for (const command of list.commands) expect(command.description.length).toBeGreaterThan(10);
      // Every command the bot answers is offered: as a title, or by name in a description.
      const offered = (name: string) => list.commands.some((c) => c.title === name || new RegExp(`(^|[\\s(])${name} `).test(c.description));
      expect([...commands.keys()].filter((name) => !offered(name))).toEqual([]);
    }
  });

  it('has https developer URLs, placeholders by default and from the environment when set', () => {
    const defaults = buildManifest(ENV);
    expect(defaults.placeholders).toEqual([
      'SWITCHBOARD_DEVELOPER_NAME',
      'SWITCHBOARD_WEBSITE_URL',
      'SWITCHBOARD_PRIVACY_URL',
      'SWITCHBOARD_TERMS_URL',
    ]);
    for (const key of ['websiteUrl', 'privacyUrl', 'termsOfUseUrl']) expect(defaults.manifest.developer[key]).toMatch(/^https:\/\/example\.com\//);

    const set = buildManifest({
      ...ENV,
      SWITCHBOARD_DEVELOPER_NAME: 'Contoso IT',
      SWITCHBOARD_WEBSITE_URL: 'https://contoso.example/switchboard',
      SWITCHBOARD_PRIVACY_URL: 'https://contoso.example/privacy',
      SWITCHBOARD_TERMS_URL: 'https://contoso.example/terms',
    });
    expect(set.placeholders).toEqual([]);
    expect(set.manifest.developer).toEqual({
      name: 'Contoso IT',
      websiteUrl: 'https://contoso.example/switchboard',
      privacyUrl: 'https://contoso.example/privacy',
      termsOfUseUrl: 'https://contoso.example/terms',
    });
    expect(() => buildManifest({ ...ENV, SWITCHBOARD_PRIVACY_URL: 'http://contoso.example/privacy' })).toThrow(/SWITCHBOARD_PRIVACY_URL .* not an https:\/\/ URL/);
  });

  it('refuses a missing or malformed MicrosoftAppId with one line', () => {
    for (const env of [{}, { MicrosoftAppId: '  ' }]) {
      expect(() => buildManifest(env)).toThrow(PackageError);
      expect(() => buildManifest(env)).toThrow(/^MicrosoftAppId is not set: .*GUID$/);
    }
    expect(() => buildManifest({ MicrosoftAppId: 'my-bot' })).toThrow(/^MicrosoftAppId is "my-bot", not a GUID/);
    expect(() => buildManifest({ ...ENV, SWITCHBOARD_TEAMS_APP_ID: 'x' })).toThrow(/^SWITCHBOARD_TEAMS_APP_ID is "x", not a GUID$/);
  });

  it('reports schema errors (the validator really validates)', async () => {
    const { manifest } = buildManifest(ENV);
    manifest.name.short = 'S'.repeat(31);
    manifest.bots[0].scopes = ['Personal'];
    const errors = await validateManifest(manifest);
    expect(errors.join('\n')).toMatch(/\/name\/short must NOT have more than 30 characters/);
    expect(errors.join('\n')).toMatch(/\/bots\/0\/scopes\/0 must be equal to one of the allowed values/);
  });

  it('never downloads a schema that is not bundled', async () => {
    const { manifest } = buildManifest(ENV);
    manifest.$schema = 'https://developer.microsoft.com/json-schemas/teams/v1.18/MicrosoftTeams.schema.json';
    manifest.manifestVersion = '1.18';
    await expect(validateManifest(manifest)).rejects.toThrow(/not bundled/);
  });
});

describe('Teams app icons', () => {
  it('color.png is an opaque 192×192 square in the accent colour with a 96×96 glyph', () => {
    const image = icon('color.png');
    expect([image.width, image.height]).toEqual([192, 192]);
    const accent = buildManifest(ENV).manifest.accentColor as string;
    const rgb = [1, 3, 5].map((i) => parseInt(accent.slice(i, i + 2), 16));
    let glyph = 0;
    const wrong: string[] = [];
    for (let y = 0; y < 192; y++) {
      for (let x = 0; x < 192; x++) {
        const [r, g, b, a] = pixel(image, x, y);
        const accentPixel = r === rgb[0] && g === rgb[1] && b === rgb[2];
        const inGlyphBox = x >= 48 && x < 144 && y >= 48 && y < 144;
        if (a !== 255) wrong.push(`(${x},${y}) alpha ${a}`);
        // 48 px of plain accent colour around the glyph, square corners.
        if (!inGlyphBox && !accentPixel) wrong.push(`(${x},${y}) is ${r},${g},${b} in the padding`);
        if (inGlyphBox && !accentPixel) glyph++;
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(glyph).toBeGreaterThan(96 * 96 * 0.2);
  });

  it('outline.png is 32×32, white (255,255,255) on a fully transparent background, without padding', () => {
    const image = icon('outline.png');
    expect([image.width, image.height]).toEqual([32, 32]);
    let transparent = 0;
    let opaque = 0;
    const rows = new Set<number>();
    const columns = new Set<number>();
    const notWhite: string[] = [];
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const [r, g, b, a] = pixel(image, x, y);
        if (r !== 255 || g !== 255 || b !== 255) notWhite.push(`(${x},${y}) is ${r},${g},${b}`);
        if (a === 0) transparent++;
        if (a === 255) opaque++;
        if (a > 0) {
          rows.add(y);
          columns.add(x);
        }
      }
    }
    expect(notWhite.slice(0, 5)).toEqual([]);
    expect(pixel(image, 0, 0)[3]).toBe(0); // background corner
    expect(transparent).toBeGreaterThan(32 * 32 * 0.25);
    expect(opaque).toBeGreaterThan(32 * 32 * 0.25);
    // No padding: the symbol reaches all four edges.
    expect([Math.min(...rows), Math.max(...rows), Math.min(...columns), Math.max(...columns)]).toEqual([0, 31, 0, 31]);
  });
});

describe('Teams app package', () => {
  it('zips manifest.json, color.png and outline.png at the top level', async () => {
    const { manifest, zip } = await buildPackage(ENV);
    const archive = await JSZip.loadAsync(zip);
    const entries = Object.values(archive.files);
    expect(entries.map((e) => e.name).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    expect(entries.every((e) => !e.dir && !e.name.includes('/'))).toBe(true);
    expect(JSON.parse(await archive.file('manifest.json')!.async('string'))).toEqual(manifest);
    for (const name of ['color.png', 'outline.png']) {
      expect(Buffer.compare(await archive.file(name)!.async('nodebuffer'), readFileSync(path.join(APP_PACKAGE, name)))).toBe(0);
    }
    // Same inputs, same bytes.
    expect(Buffer.compare((await buildPackage(ENV)).zip, zip)).toBe(0);
  });

  describe('npm run package (scripts/package.js)', () => {
    const script = path.join(ROOT, 'scripts', 'package.js');
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'switchboard-package-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** Runs the script with only the given variables: a developer's .env cannot fill a variable set to ''. */
    function run(env: Record<string, string>, out = path.join(dir, 'app.zip')) {
      const base: Record<string, string> = { PATH: process.env.PATH ?? '' };
      for (const name of Object.keys(VARIABLES)) base[name] = '';
      return spawnSync(process.execPath, [script, '--out', out], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8' });
    }

    it('writes the zip', async () => {
      const result = run(ENV);
      expect(result.stderr).toMatch(/placeholder developer details/);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`Teams app id ${TEAMS_APP_ID}, bot id ${BOT_ID}`);
      const archive = await JSZip.loadAsync(readFileSync(path.join(dir, 'app.zip')));
      expect(Object.keys(archive.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    });

    it('stops with one clear line when MicrosoftAppId is missing or invalid', () => {
      const missing = run({});
      expect(missing.status).toBe(1);
      expect(missing.stderr.trim().split('\n')).toEqual([
        "Packaging error: MicrosoftAppId is not set: set it (in the environment or .env) to the bot's Entra application (client) id, a GUID",
      ]);
      const invalid = run({ MicrosoftAppId: 'not-a-guid' });
      expect(invalid.status).toBe(1);
      expect(invalid.stderr.trim().split('\n')).toHaveLength(1);
      expect(invalid.stderr).toMatch(/^Packaging error: MicrosoftAppId is "not-a-guid", not a GUID/);
    });
  });
});
