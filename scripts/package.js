#!/usr/bin/env node
'use strict';
/**
 * Builds the Teams app package: dist/appPackage.zip = manifest.json + color.png + outline.png, all at
 * the top level of the zip (no folders).
 *
 *   npm run package                         reads the environment (and .env beside package.json)
 *   npm run package -- --out some/app.zip   writes somewhere else
 *
 * The manifest comes from appPackage/manifest.template.json: every "${{NAME}}" placeholder is filled
 * from VARIABLES below (the environment wins over .env, as for the bot), then the result is validated
 * against the Teams JSON schema bundled in @microsoft/app-manifest, strictly offline: if the schema of
 * the template's manifestVersion is not bundled, packaging stops instead of downloading it.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const APP_PACKAGE_DIR = path.join(ROOT, 'appPackage');
const TEMPLATE_PATH = path.join(APP_PACKAGE_DIR, 'manifest.template.json');
const DEFAULT_OUT = path.join(ROOT, 'dist', 'appPackage.zip');

/** The icons the manifest names, with the size Teams requires. */
const ICON_SIZES = { 'color.png': 192, 'outline.png': 32 };

/**
 * Namespace of the UUID v5 that derives the Teams app id from MicrosoftAppId when
 * SWITCHBOARD_TEAMS_APP_ID is not set. Never change it: it would change every derived app id, and
 * Teams would then see a new app instead of an update.
 */
const TEAMS_APP_ID_NAMESPACE = '32bb47c9-a7c1-42f8-814c-ecf9706c31b1';

const GUID = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;
const PLACEHOLDER_URL = 'https://example.com/';

class PackageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PackageError';
  }
}

/** UUID version 5 (RFC 9562 §5.5, SHA-1) of `name` in `namespace`. */
function uuidV5(namespace, name) {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = crypto.createHash('sha1').update(ns).update(Buffer.from(name, 'utf8')).digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The Teams app id derived from the bot's app id (stable: same bot id, same Teams app id). */
function deriveTeamsAppId(botAppId) {
  return uuidV5(TEAMS_APP_ID_NAMESPACE, botAppId.toLowerCase());
}

function httpsUrl(name) {
  return (value) => {
    if (!/^https:\/\/[^\s/]+\.[^\s]*$/.test(value)) throw new PackageError(`${name} is "${value}", not an https:// URL`);
    return value;
  };
}

/**
 * Every placeholder of the template: where its value comes from.
 * `resolve(value, env, pkg)` gets the trimmed environment value ('' when unset) and returns the
 * value to use or throws PackageError with one line naming the variable.
 */
const VARIABLES = {
  MicrosoftAppId: {
    doc: "the bot's Entra application (client) id, the same as the bot uses (→ bots[0].botId)",
    resolve(value) {
      if (!value) {
        throw new PackageError(
          "MicrosoftAppId is not set: set it (in the environment or .env) to the bot's Entra application (client) id, a GUID",
        );
      }
      if (!GUID.test(value)) throw new PackageError(`MicrosoftAppId is "${value}", not a GUID: it must be the bot's Entra application (client) id`);
      return value.toLowerCase();
    },
  },
  SWITCHBOARD_TEAMS_APP_ID: {
    doc: 'the Teams app id (manifest "id", a GUID); default: derived from MicrosoftAppId (UUID v5), stable across builds',
    resolve(value, env) {
      if (!value) return deriveTeamsAppId(VARIABLES.MicrosoftAppId.resolve(clean(env.MicrosoftAppId)));
      if (!GUID.test(value)) throw new PackageError(`SWITCHBOARD_TEAMS_APP_ID is "${value}", not a GUID`);
      return value.toLowerCase();
    },
  },
  APP_VERSION: {
    doc: 'not an environment variable: the "version" of package.json',
    resolve(_value, _env, pkg) {
      if (!/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(pkg.version ?? '')) {
        throw new PackageError(`package.json version "${pkg.version}" is not a semantic version (x.y.z)`);
      }
      return pkg.version;
    },
    fromPackageJson: true,
  },
  SWITCHBOARD_DEVELOPER_NAME: {
    doc: 'developer.name shown in Teams (≤32 characters)',
    placeholder: 'Example Org (placeholder)',
    resolve(value) {
      if (value.length > 32) throw new PackageError(`SWITCHBOARD_DEVELOPER_NAME is ${value.length} characters long; Teams allows 32`);
      return value;
    },
  },
  SWITCHBOARD_WEBSITE_URL: {
    doc: 'developer.websiteUrl, https',
    placeholder: `${PLACEHOLDER_URL}switchboard`,
    resolve: httpsUrl('SWITCHBOARD_WEBSITE_URL'),
  },
  SWITCHBOARD_PRIVACY_URL: {
    doc: 'developer.privacyUrl, https',
    placeholder: `${PLACEHOLDER_URL}switchboard/privacy`,
    resolve: httpsUrl('SWITCHBOARD_PRIVACY_URL'),
  },
  SWITCHBOARD_TERMS_URL: {
    doc: 'developer.termsOfUseUrl, https',
    placeholder: `${PLACEHOLDER_URL}switchboard/terms`,
    resolve: httpsUrl('SWITCHBOARD_TERMS_URL'),
  },
};

function clean(value) {
  return typeof value === 'string' ? value.trim() : '';
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/**
 * Fills the template. Returns { manifest, placeholders } where placeholders lists the variables
 * that were left at their example.com / "placeholder" defaults (fine for side-loading, not for
 * publishing).
 *
 * @param {NodeJS.ProcessEnv} [env]
 * @param {{ template?: unknown, pkg?: { version?: string } }} [options]
 */
function buildManifest(env = process.env, options = {}) {
  const template = options.template ?? readJson(TEMPLATE_PATH);
  const pkg = options.pkg ?? readJson(path.join(ROOT, 'package.json'));
  const values = {};
  const placeholders = [];
  for (const [name, variable] of Object.entries(VARIABLES)) {
    let value = variable.fromPackageJson ? '' : clean(env[name]);
    if (!value && variable.placeholder) {
      value = variable.placeholder;
      placeholders.push(name);
    }
    values[name] = variable.resolve(value, env, pkg);
  }
  // Substitute inside parsed strings (never in the JSON text), so a value cannot break the JSON.
  const fill = (node) => {
    if (typeof node === 'string') {
      return node.replace(/\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_match, name) => {
        if (!(name in values)) throw new PackageError(`manifest template uses \${{${name}}}, which scripts/package.js does not know`);
        return values[name];
      });
    }
    if (Array.isArray(node)) return node.map(fill);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v)]));
    return node;
  };
  return { manifest: fill(template), placeholders };
}

/** Where @microsoft/app-manifest keeps its bundled copy of the manifest's $schema, if it does. */
function bundledSchemaPath(schemaUrl) {
  const match = /^https:\/\/developer\.microsoft\.com\/(?:[a-z]{2}(?:-[a-z]{2})?\/)?(json-schemas\/teams\/[^?#]+)$/i.exec(schemaUrl ?? '');
  if (!match) return undefined;
  // build/index.js → build/json-schemas/teams/vX.Y/...: the first place fetchSchema looks.
  const buildDir = path.dirname(require.resolve('@microsoft/app-manifest'));
  const file = path.join(buildDir, match[1]);
  return fs.existsSync(file) ? file : undefined;
}

/**
 * Validates against the Teams JSON schema bundled in @microsoft/app-manifest, never the network.
 * Returns [] when valid, otherwise one string per schema error.
 */
async function validateManifest(manifest) {
  const { AppManifestUtils } = require('@microsoft/app-manifest');
  const schemaUrl = manifest.$schema;
  if (!bundledSchemaPath(schemaUrl)) {
    throw new PackageError(`the schema ${schemaUrl} is not bundled in @microsoft/app-manifest, and packaging does not download schemas`);
  }
  // The file exists where fetchSchema looks first (build/json-schemas/...), so it reads it from
  // disk and applies its own fixes to the schema's regular expressions; no request is made.
  const schema = await AppManifestUtils.fetchSchema(schemaUrl);
  const errors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
  const expected = /\/v(\d+\.\d+)\//.exec(schemaUrl)?.[1];
  if (expected && manifest.manifestVersion !== expected) {
    errors.push(`/manifestVersion is "${manifest.manifestVersion}" but $schema is v${expected}`);
  }
  return errors;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buffer) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buffer.length < 24 || !buffer.subarray(0, 8).equals(signature) || buffer.toString('latin1', 12, 16) !== 'IHDR') {
    return undefined;
  }
  return { width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20) };
}

/** Reads the icons the manifest names and checks they are PNGs of the size Teams requires. */
function readIcons(manifest, dir = APP_PACKAGE_DIR) {
  const files = {};
  for (const name of [manifest.icons?.color, manifest.icons?.outline]) {
    const expected = ICON_SIZES[name];
    if (!expected) throw new PackageError(`the manifest names icon "${name}"; expected color.png and outline.png`);
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new PackageError(`appPackage/${name} is missing: run npm run icons`);
    const buffer = fs.readFileSync(file);
    const size = pngSize(buffer);
    if (!size || size.width !== expected || size.height !== expected) {
      throw new PackageError(`appPackage/${name} must be a ${expected}×${expected} PNG${size ? `, not ${size.width}×${size.height}` : ''}: run npm run icons`);
    }
    files[name] = buffer;
  }
  return files;
}

/** The zip: manifest.json and the icons at the top level, reproducible for the same inputs. */
async function buildZip(manifest, icons) {
  const JSZip = require('jszip');
  const zip = new JSZip();
  const date = new Date(Date.UTC(2020, 0, 1));
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, { date });
  for (const [name, buffer] of Object.entries(icons)) zip.file(name, buffer, { date });
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 }, platform: 'DOS' });
}

/** Fills, validates and zips; throws PackageError on any problem. */
async function buildPackage(env = process.env, options = {}) {
  const { manifest, placeholders } = buildManifest(env, options);
  const errors = await validateManifest(manifest);
  if (errors.length > 0) {
    throw new PackageError(`the manifest does not match its schema (${manifest.$schema}):\n  ${errors.join('\n  ')}`);
  }
  const icons = readIcons(manifest, options.iconsDir);
  const zip = await buildZip(manifest, icons);
  return { manifest, placeholders, zip };
}

function parseArgs(argv) {
  let out = DEFAULT_OUT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out = path.resolve(argv[++i]);
    else if (argv[i].startsWith('--out=')) out = path.resolve(argv[i].slice('--out='.length));
    else throw new PackageError(`unknown argument "${argv[i]}" (only --out <file.zip>)`);
  }
  return { out };
}

async function main(argv) {
  const { out } = parseArgs(argv);
  // Like the bot (src/index.ts): settings may come from .env beside package.json; the environment wins.
  const envFile = path.join(ROOT, '.env');
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  const { manifest, placeholders, zip } = await buildPackage(process.env);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, zip);
  const derived = clean(process.env.SWITCHBOARD_TEAMS_APP_ID) ? '' : ' (derived from MicrosoftAppId)';
  console.log(`wrote ${path.relative(process.cwd(), out) || out}: Switchboard ${manifest.version}, manifest v${manifest.manifestVersion}`);
  console.log(`  Teams app id ${manifest.id}${derived}, bot id ${manifest.bots[0].botId}`);
  if (placeholders.length > 0) {
    console.warn(`  note: ${placeholders.join(', ')} not set, so the manifest has placeholder developer details (fine for side-loading; set them before publishing)`);
  }
}

module.exports = {
  DEFAULT_OUT,
  ICON_SIZES,
  PackageError,
  TEMPLATE_PATH,
  TEAMS_APP_ID_NAMESPACE,
  VARIABLES,
  buildManifest,
  buildPackage,
  buildZip,
  bundledSchemaPath,
  deriveTeamsAppId,
  pngSize,
  readIcons,
  uuidV5,
  validateManifest,
};

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(error instanceof PackageError ? `Packaging error: ${message}` : `Packaging failed: ${error instanceof Error && error.stack ? error.stack : message}`);
    process.exitCode = 1;
  });
}
