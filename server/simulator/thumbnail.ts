/**
 * Real, small thumbnails made on the spot (no network, no files): a PNG gradient with a
 * horizon and a sun, coloured from a seed, as a data:image/png URL.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), Buffer.from(data)]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

function hsl(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** A width x height PNG; `seed` in [0, 1) picks the palette and the sun's position. */
export function makeThumbnail(seed: number, width = 160, height = 90): string {
  const hue = Math.floor(seed * 360);
  const sunX = width * (0.2 + 0.6 * ((seed * 7.31) % 1));
  const sunY = height * 0.45;
  const horizon = Math.floor(height * 0.62);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      let rgb: [number, number, number];
      const dx = x - sunX;
      const dy = y - sunY;
      if (dx * dx + dy * dy < (height * 0.12) ** 2 && y < horizon) rgb = hsl((hue + 40) % 360, 0.9, 0.75);
      else if (y < horizon) rgb = hsl(hue, 0.55, 0.25 + 0.4 * (y / horizon));
      else rgb = hsl((hue + 200) % 360, 0.35, 0.18 + 0.12 * ((y - horizon) / (height - horizon)));
      raw.set(rgb, row + 1 + x * 3);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
  return `data:image/png;base64,${png.toString('base64')}`;
}
