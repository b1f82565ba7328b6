// The text chunks of a PNG (tEXt Latin-1, iTXt UTF-8, zTXt deflated), keyword to text: what the VAE stage embeds
// (keywords "parameters" in A1111's form and "latent-pipeline" as JSON). PNG: 8-byte signature, then chunks of
// length (4 bytes, big-endian), type (4), data, CRC (4).
'use strict';
async function pngText(buffer) {
  const bytes = new Uint8Array(buffer);
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) throw new Error('not a PNG');
  const view = new DataView(buffer);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  const inflate = async (data) => new Uint8Array(await new Response(new Blob([data]).stream()
    .pipeThrough(new DecompressionStream('deflate'))).arrayBuffer());
  const text = {};
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = latin1.decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === 'IEND') break;
    const nul = data.indexOf(0);
    if (nul < 0) continue;
    const keyword = latin1.decode(data.subarray(0, nul));
    if (type === 'tEXt') {
      text[keyword] = latin1.decode(data.subarray(nul + 1));
    } else if (type === 'zTXt') {
      text[keyword] = latin1.decode(await inflate(data.subarray(nul + 2)));
    } else if (type === 'iTXt') {
      const compressed = data[nul + 1] === 1;
      const language = data.indexOf(0, nul + 3);
      const translated = data.indexOf(0, language + 1);
      const body = data.subarray(translated + 1);
      text[keyword] = utf8.decode(compressed ? await inflate(body) : body);
    }
  }
  return text;
}
