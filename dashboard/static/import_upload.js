// SPDX-License-Identifier: AGPL-3.0-or-later
// import_upload.js — a file sent to /api/imports in chunks (each under the
// server's request cap, base64 in JSON), resumed from what the server says
// it has when a chunk is lost with its connection, then imported in one
// go. No DOM: the Move in page (move_in.js) and the integration tests
// (tests/integration/import_upload.mjs) call the same code with their own
// api(method, path, body) function, which throws errors carrying the
// server's code and message.

export const CHUNK_BYTES = 512 * 1024; // the most the server takes in a chunk
export const PREVIEW_BYTES = 64 * 1024; // the start of the file is enough for its first rows
const RETRIES = 5;

/** bytes (a Uint8Array) as base64, in slices so no argument list gets huge. */
export function toBase64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** The first PREVIEW_BYTES of blob as text (a character cut at the end is
 * dropped with the record it ends; the server previews whole records). */
export async function previewText(blob) {
  return new TextDecoder().decode(await blob.slice(0, PREVIEW_BYTES).arrayBuffer(), { stream: true });
}

/** Uploads blob (a File or Blob) as filename through preset with mapping
 * (an array of column targets, as the preview gave or the admin changed
 * it) and imports it into list (contacts; '' for none), in chunks of
 * chunkBytes (GET /api/imports/presets says what fits the server's request
 * cap). onProgress(sent, total) follows the bytes; onImporting() once
 * every byte is there; onImportProgress(rows) then tells how many rows the
 * import has read (about every second, while it runs). Resolves with the import's report; rejects with
 * the server's error. */
export async function uploadFile(
  api,
  blob,
  { filename, preset, mapping, list, chunkBytes = CHUNK_BYTES, onProgress, onImporting, onImportProgress },
) {
  const up = await api('POST', '/api/imports', {
    filename,
    size: blob.size,
    preset,
    mapping: JSON.stringify(mapping),
    list: list || '',
  });
  let offset = 0;
  let failures = 0;
  if (onProgress) onProgress(0, blob.size);
  while (offset < blob.size) {
    const bytes = new Uint8Array(await blob.slice(offset, offset + chunkBytes).arrayBuffer());
    try {
      const r = await api('POST', `/api/imports/${up.id}/chunk`, { offset, data: toBase64(bytes) });
      offset = r.received;
      failures = 0;
    } catch (e) {
      // A chunk lost on the way (the connection dropped): ask where the
      // server is, and go on from there.
      if ((e.code === 'network' || e.code === 'wrong_offset' || e.status >= 500) && ++failures <= RETRIES) {
        offset = (await api('GET', `/api/imports/${up.id}`)).received;
        continue;
      }
      throw e;
    }
    if (onProgress) onProgress(offset, blob.size);
  }
  if (onImporting) onImporting();
  let done = false;
  const commit = api('POST', `/api/imports/${up.id}/commit`).finally(() => {
    done = true;
  });
  if (onImportProgress) watchImport(api, up.id, () => done, onImportProgress);
  return commit;
}

// Asks every second how many rows the running import has read, until it
// answers (a failed look is skipped: the commit's answer is what counts).
async function watchImport(api, id, isDone, onImportProgress) {
  while (!isDone()) {
    await new Promise((resolve) => {
      setTimeout(resolve, 1000);
    });
    if (isDone()) return;
    try {
      const s = await api('GET', `/api/imports/${id}`);
      if (!isDone() && s.state === 'importing') onImportProgress(s.rows_read);
    } catch {
      // the next look, or the answer
    }
  }
}
