// SPDX-License-Identifier: AGPL-3.0-or-later
// move_in.js — the Move in page (#/move-in, leads and admins): a file
// exported from Spoke, Action Network or VAN is read by its header (the
// server detects the preset; the admin may pick another), its first rows
// are shown mapped (which column went where, which rows are invalid and
// why; each column may go to another target, a custom field, or be
// ignored), then the whole file is uploaded in chunks with a progress bar
// (import_upload.js) and imported; the report lists invalid rows by line.
// Every string from the file goes in through h() as text.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { previewText, uploadFile } from './import_upload.js';
import { errorText } from './notice.js';

const TARGET_LABELS = {
  phone: 'Phone',
  phone2: 'Phone (2nd choice)',
  phone3: 'Phone (3rd choice)',
  phone4: 'Phone (4th choice)',
  first_name: 'First name',
  last_name: 'Last name',
  zip: 'ZIP',
  timezone: 'Time zone',
  sms_status: 'SMS status (unsubscribed = opt-out)',
};

function mb(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** Builds the page (the presets come from the server). */
export async function moveInPage() {
  const info = await api('GET', '/api/imports/presets');
  const file = h('input', { id: 'movein-file', type: 'file', accept: '.csv,text/csv' });
  const preset = h(
    'select',
    { id: 'movein-preset', disabled: true },
    info.presets.map((p) => h('option', { value: p.id }, p.label)),
  );
  const list = h('input', { id: 'movein-list', type: 'text', maxlength: 200, placeholder: 'for example: Members' });
  const listField = h(
    'div',
    { class: 'stack' },
    h('label', { for: 'movein-list' }, 'Add the contacts to the list (optional)'),
    list,
  );
  const err = h('p', { class: 'error', role: 'alert', id: 'movein-error' });
  const preview = h('div', { id: 'movein-preview', class: 'stack' });
  const progress = h('progress', { id: 'movein-progress', max: 100, value: 0, hidden: true });
  const progressText = h('p', { class: 'muted', id: 'movein-progress-text', role: 'status' });
  const out = h('div', { class: 'report', id: 'movein-report' });
  const button = h('button', { class: 'primary', type: 'submit', disabled: true, id: 'movein-import' }, 'Import');
  let current = null; // the last preview: { preset, opt_outs, mapping, columns, rows }

  async function refresh(mapping) {
    replace(err);
    button.disabled = true;
    const f = file.files[0];
    if (!f) return;
    if (f.size > info.max_bytes) {
      replace(err, `The file is ${mb(f.size)}; the dashboard takes up to ${mb(info.max_bytes)}. Split it into parts.`);
      return;
    }
    try {
      current = await api('POST', '/api/imports/preview', {
        csv: await previewText(f),
        preset: preset.disabled ? '' : preset.value,
        mapping: mapping ? JSON.stringify(mapping) : '',
      });
      preset.value = current.preset;
      preset.disabled = false;
      listField.hidden = current.opt_outs;
      replace(
        preview,
        previewView(current, info.targets, (i, target) => {
          const m = current.columns.map((c) => c.target);
          m[i] = target;
          refresh(m);
        }),
      );
      // A mapping the import would refuse (no phone column): the columns
      // are shown so it can be fixed, and why.
      if (current.problem) replace(err, current.problem);
      button.disabled = !!current.problem;
    } catch (e) {
      replace(preview);
      replace(err, errorText(e));
    }
  }

  file.addEventListener('change', () => {
    preset.disabled = true; // a new file: detect again
    replace(out);
    refresh(null);
  });
  preset.addEventListener('change', () => refresh(null));

  return h(
    'section',
    { class: 'leads admin move-in' },
    h('h2', {}, 'Move in'),
    h(
      'p',
      { class: 'muted' },
      'Bring your people from Spoke, Action Network or VAN: export them as CSV there, choose the file here, check the first rows, then import. Members whose SMS status says unsubscribed (or Spoke’s opt-out column says true) are imported as opt-outs and never texted. Nothing is texted by an import.',
    ),
    h(
      'form',
      {
        class: 'card stack',
        id: 'movein-form',
        onsubmit: async (ev) => {
          ev.preventDefault();
          const f = file.files[0];
          if (!f || !current) return replace(err, 'Choose a CSV file first.');
          replace(err);
          replace(out);
          button.disabled = true;
          progress.hidden = false;
          progress.value = 0;
          try {
            const r = await uploadFile(api, f, {
              filename: f.name.slice(0, 200) || 'upload.csv',
              preset: current.preset,
              mapping: current.mapping,
              list: current.opt_outs ? '' : list.value.trim(),
              chunkBytes: info.chunk_bytes,
              onProgress: (sent, total) => {
                progress.value = Math.round((100 * sent) / total);
                replace(progressText, `Uploaded ${mb(sent)} of ${mb(total)}`);
              },
              onImporting: () => replace(progressText, 'Uploaded. Importing…'),
              onImportProgress: (rows) =>
                replace(progressText, `Uploaded. Importing… ${rows.toLocaleString()} rows read`),
            });
            replace(progressText, 'Done.');
            replace(out, reportView(r));
          } catch (e) {
            replace(progressText);
            replace(err, errorText(e));
          } finally {
            button.disabled = false;
          }
        },
      },
      h('label', { for: 'movein-file' }, 'CSV file'),
      file,
      h('label', { for: 'movein-preset' }, 'Exported from'),
      preset,
      preview,
      listField,
      err,
      button,
      progress,
      progressText,
      out,
    ),
  );
}

function targetSelect(i, column, targets, onChange) {
  const own = column.target && !targets.includes(column.target) ? column.target : column.name.trim().toLowerCase();
  const options = [
    h('option', { value: '' }, 'Ignore'),
    targets.map((t) => h('option', { value: t }, TARGET_LABELS[t] || t)),
    own && !targets.includes(own) ? h('option', { value: own }, `Custom field “${own}”`) : null,
  ];
  const s = h('select', { id: `movein-col-${i}`, 'aria-label': `Where column “${column.name}” goes` }, options);
  s.value = column.target;
  s.addEventListener('change', () => onChange(i, s.value));
  return s;
}

function previewView(p, targets, onChange) {
  const shown = (r) => {
    if (r.error) return h('span', { class: 'error' }, r.error);
    const name = [r.first_name, r.last_name].filter(Boolean).join(' ');
    const extra = Object.entries(r.fields || {}).map(([k, v]) => `${k}: ${v}`);
    return [
      h('strong', {}, r.phone),
      r.opt_out ? h('span', { class: 'badge warn' }, 'opt-out') : null,
      name ? ` ${name}` : '',
      r.zip ? ` ${r.zip}` : '',
      extra.length ? h('div', { class: 'muted' }, extra.join(' · ')) : null,
    ];
  };
  return [
    h(
      'p',
      { class: 'muted', id: 'movein-detected' },
      p.preset === p.detected ? `Looks like: ${p.label}.` : `Read as: ${p.label} (it looked like another export).`,
      p.opt_outs ? ' Every number in it will be opted out.' : '',
    ),
    p.region
      ? h(
          'p',
          { class: 'muted', id: 'movein-region' },
          `Numbers without +country are read as ${p.region}; one not valid there is refused, not guessed.`,
        )
      : null,
    h('h3', {}, 'Columns'),
    h(
      'ul',
      { class: 'columns', id: 'movein-columns' },
      p.columns.map((c, i) =>
        h('li', {}, h('span', { class: 'column-name' }, c.name), ' → ', targetSelect(i, c, targets, onChange)),
      ),
    ),
    p.problem
      ? null
      : h('h3', {}, `The first ${p.rows.length} row${p.rows.length === 1 ? '' : 's'}, as they will be imported`),
    p.problem
      ? null
      : h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'table preview', id: 'movein-rows' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Line'), h('th', {}, 'Imported as'))),
            h(
              'tbody',
              {},
              p.rows.map((r) =>
                h('tr', { class: r.error ? 'invalid' : undefined }, h('td', {}, r.line), h('td', {}, shown(r))),
              ),
            ),
          ),
        ),
  ];
}

function reportView(r) {
  const parts = [`${r.rows} rows: ${r.imported} new contacts`];
  if (r.updated) parts.push(`${r.updated} updated`);
  parts.push(`${r.opted_out} newly opted out`, `${r.already_opted_out} already opted out`, `${r.rejected} invalid`);
  if (r.duplicates) parts.push(`${r.duplicates} repeated`);
  return [
    h('p', { role: 'status', id: 'movein-counts' }, parts.join(', '), '.'),
    r.rejections && r.rejections.length
      ? h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'table', id: 'movein-rejections' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Line'), h('th', {}, 'Why it was not imported'))),
            h(
              'tbody',
              {},
              r.rejections.map((x) => h('tr', {}, h('td', {}, x.line), h('td', {}, x.reason))),
            ),
          ),
        )
      : null,
    r.rejected > (r.rejections || []).length
      ? h('p', { class: 'muted' }, `Showing the first ${r.rejections.length} invalid rows.`)
      : null,
  ];
}
