// SPDX-License-Identifier: AGPL-3.0-or-later
// import_upload.mjs — moves a file in as the dashboard's Move in page does,
// with the page's own upload code (dashboard/static/import_upload.js):
// the preview (the preset detected, or the one named), then the chunked
// upload and the import. Prints one JSON line: {preset, mapping, status,
// report or error, seconds, bytes}. With a chunk limit it stops after that
// many chunks and prints the upload's id (an abandoned upload).
// Usage: node import_upload.mjs DASH JAR CSRF FILE [PRESET|-] [LIST|-] [STOP_AFTER_CHUNKS]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CHUNK_BYTES, previewText, toBase64, uploadFile } from '../../dashboard/static/import_upload.js';

const [dash, jar, csrfFile, file, presetArg = '-', listArg = '-', stopAfter] = process.argv.slice(2);
const cookie = readFileSync(jar, 'utf8')
  .split('\n')
  .map((l) => l.replace(/^#HttpOnly_/, ''))
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split('\t'))
  .filter((f) => f.length >= 7)
  .map((f) => `${f[5]}=${f[6]}`)
  .join('; ');
const csrf = readFileSync(csrfFile, 'utf8').trim();

async function api(method, path, body) {
  let res;
  try {
    res = await fetch(dash + path, {
      method,
      headers: {
        Cookie: cookie,
        'X-CSRF-Token': csrf,
        Accept: 'application/json',
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw Object.assign(new Error('network'), { status: 0, code: 'network' });
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw Object.assign(new Error(e.message || String(res.status)), {
      status: res.status,
      code: e.code,
      report: data && data.report,
    });
  }
  return data;
}

const blob = new Blob([readFileSync(file)]);
const out = { bytes: blob.size };
try {
  const p = await api('POST', '/api/imports/preview', {
    csv: await previewText(blob),
    preset: presetArg === '-' ? '' : presetArg,
  });
  out.preset = p.preset;
  out.mapping = p.mapping;
  const list = listArg === '-' ? '' : listArg;
  if (stopAfter !== undefined) {
    const up = await api('POST', '/api/imports', {
      filename: basename(file),
      size: blob.size,
      preset: p.preset,
      mapping: JSON.stringify(p.mapping),
      list,
    });
    for (let i = 0, off = 0; i < Number(stopAfter); i++, off += CHUNK_BYTES) {
      const bytes = new Uint8Array(await blob.slice(off, off + CHUNK_BYTES).arrayBuffer());
      await api('POST', `/api/imports/${up.id}/chunk`, { offset: off, data: toBase64(bytes) });
    }
    out.id = up.id;
    out.status = 'abandoned';
  } else {
    const t0 = process.hrtime.bigint();
    let t1 = t0;
    out.report = await uploadFile(api, blob, {
      filename: basename(file),
      preset: p.preset,
      mapping: p.mapping,
      list,
      onImporting: () => (t1 = process.hrtime.bigint()),
      onImportProgress: (rows) => (out.rows_read_seen = [...(out.rows_read_seen || []), rows]),
    });
    const t2 = process.hrtime.bigint();
    out.seconds = Number(t2 - t0) / 1e9;
    out.upload_seconds = Number(t1 - t0) / 1e9;
    out.import_seconds = Number(t2 - t1) / 1e9;
    out.status = 200;
  }
} catch (e) {
  out.status = e.status;
  out.error = { code: e.code, message: e.message };
  if (e.report) out.report = e.report;
}
process.stdout.write(JSON.stringify(out) + '\n');
