#!/usr/bin/env node
'use strict';
/**
 * Renders the Teams app icons from their SVG sources with headless Chromium (playwright-core):
 *   appPackage/icon.svg    -> appPackage/color.png    192×192, opaque
 *   appPackage/outline.svg -> appPackage/outline.png  32×32, every pixel white (255,255,255), background alpha 0
 *
 *   npm run icons             render and write the PNGs (commit them)
 *   npm run icons -- --check  render and compare with the committed PNGs; exit 1 if they are stale
 *
 * Chromium only rasterises: the SVG is drawn on a canvas and its RGBA pixels come back to Node, which
 * forces the outline to pure white and writes the PNGs itself, so the output does not depend on how
 * the screenshot pipeline premultiplies alpha. The Chromium is the one scripts/chromium.js picks:
 * Debian's (/usr/bin/chromium or CHROMIUM_PATH), else the one inside the npm package
 * @sparticuz/chromium (both gave byte-identical PNGs on 2026-11-30). No browser is downloaded and no
 * page touches the network.
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { launchContext } = require('./chromium');

const APP_PACKAGE_DIR = path.join(__dirname, '..', 'appPackage');

/** What to render: source SVG, target PNG, size, and whether it is the white-on-transparent outline. */
const ICONS = [
  { source: 'icon.svg', target: 'color.png', size: 192, outline: false },
  { source: 'outline.svg', target: 'outline.png', size: 32, outline: true },
];

// The flags Chromium needs on this machine's closed network (see .library/env/machines/node.md).

// ---------------------------------------------------------------------------------------------
// PNG (RGBA, 8 bits per channel, no interlace, filter 0 on every row)

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** @param {number} width @param {number} height @param {Uint8Array} rgba width*height*4 bytes */
function encodePng(width, height, rgba) {
  if (rgba.length !== width * height * 4) throw new Error(`encodePng: expected ${width * height * 4} bytes, got ${rgba.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter method
  ihdr[12] = 0; // no interlace
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None
    Buffer.from(rgba.buffer, rgba.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Reads back a PNG this script wrote (RGBA 8-bit, filter 0); anything else returns undefined. */
function decodeOwnPng(file) {
  const png = fs.readFileSync(file);
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 6 || data[12] !== 0) return undefined;
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const rgba = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    if (raw[y * (stride + 1)] !== 0) return undefined;
    raw.copy(rgba, y * stride, y * (stride + 1) + 1, (y + 1) * (stride + 1));
  }
  return { width, height, rgba };
}

// ---------------------------------------------------------------------------------------------

/**
 * The outline icon must be white (255,255,255) on a fully transparent background: keep the
 * rasteriser's alpha (anti-aliased edges stay partly transparent) and set every pixel's colour to
 * white, including the transparent ones, so no tool can find a non-white colour in the file.
 */
function whiten(rgba) {
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = 255;
    rgba[i + 1] = 255;
    rgba[i + 2] = 255;
  }
  return rgba;
}

function launchChromium() {
  return launchContext('switchboard-icons-', { viewport: { width: 256, height: 256 }, deviceScaleFactor: 1 });
}

/** Rasterises an SVG document to size×size RGBA pixels on a canvas in Chromium. */
async function rasterise(page, svg, size) {
  const pixels = await page.evaluate(
    async ({ svg, size }) => {
      const img = new Image();
      img.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(svg)))}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = size;
      canvas.height = size;
      const ctx = canvas.getContext('2d', { colorSpace: 'srgb', willReadFrequently: true });
      ctx.clearRect(0, 0, size, size);
      ctx.drawImage(img, 0, 0, size, size);
      return Array.from(ctx.getImageData(0, 0, size, size).data);
    },
    { svg, size },
  );
  return Uint8Array.from(pixels);
}

/** Renders every icon; returns [{ target, size, rgba, png }]. */
async function renderIcons(dir = APP_PACKAGE_DIR) {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.setContent('<!doctype html><title>icons</title>');
    const out = [];
    for (const icon of ICONS) {
      const svg = fs.readFileSync(path.join(dir, icon.source), 'utf8');
      let rgba = await rasterise(page, svg, icon.size);
      if (icon.outline) rgba = whiten(rgba);
      out.push({ ...icon, rgba, png: encodePng(icon.size, icon.size, rgba) });
    }
    return out;
  } finally {
    await browser.close();
  }
}

async function main(argv) {
  const check = argv.includes('--check');
  const icons = await renderIcons();
  let stale = 0;
  for (const icon of icons) {
    const file = path.join(APP_PACKAGE_DIR, icon.target);
    if (check) {
      const current = fs.existsSync(file) ? decodeOwnPng(file) : undefined;
      const same =
        current && current.width === icon.size && current.height === icon.size && Buffer.compare(current.rgba, Buffer.from(icon.rgba)) === 0;
      if (!same) stale++;
      console.log(`${same ? 'up to date' : 'STALE'}: appPackage/${icon.target} (from appPackage/${icon.source})`);
    } else {
      fs.writeFileSync(file, icon.png);
      console.log(`wrote appPackage/${icon.target} (${icon.size}×${icon.size}, ${icon.png.length} bytes) from appPackage/${icon.source}`);
    }
  }
  if (stale > 0) {
    console.error(`${stale} icon(s) differ from their SVG source: run npm run icons and commit the PNGs`);
    process.exitCode = 1;
  }
}

module.exports = { ICONS, encodePng, renderIcons, whiten };

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`icons: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
