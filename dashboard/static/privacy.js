// SPDX-License-Identifier: AGPL-3.0-or-later
// privacy.js — an admin's privacy page (#/settings/privacy): how long the
// org keeps message texts, sessions and audit rows; which contact fields
// volunteers see; and forgetting one member, which shows first what would
// go and what the law keeps, then asks for the word FORGET. The server
// checks and audits everything (schema/functions/retention.sql and
// forget.sql); this page shows its sentence when it refuses. Every string
// goes in through h() as text.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { errorText, errorBox, say } from './notice.js';

let prefill = '';

/** The number the next privacy page starts its forget form with (the
 * conversation's menu sets it; it is used once). */
export function forgetNumber(phone) {
  prefill = phone || '';
}

function field(id, label, input, hint) {
  return [h('label', { for: id }, label), input, hint ? h('p', { class: 'muted hint' }, hint) : null];
}

function days(id, value, min, max) {
  return h('input', { id, type: 'number', inputmode: 'numeric', min, max, required: true, value });
}

const BUILT_IN = [
  ['first_name', 'First name'],
  ['last_name', 'Last name'],
  ['zip', 'ZIP code'],
];

/** The page, for an admin. */
export async function privacyPage() {
  const el = h('section', { class: 'leads settings' }, h('h2', {}, 'Privacy'));
  let s;
  try {
    s = await api('GET', '/api/settings/privacy');
  } catch (e) {
    el.append(errorBox(errorText(e)));
    return el;
  }
  el.append(retentionForm(s), forgetForm());
  return el;
}

function retentionForm(s) {
  const out = days('priv-out', s.retain_outbound_days, 30, 3650);
  const inb = days('priv-in', s.retain_inbound_days, 30, 3650);
  const sess = days('priv-sessions', s.retain_session_days, 1, 365);
  const audit = days('priv-audit', s.retain_audit_days, 90, 3650);
  const names = [...BUILT_IN, ...s.known_fields.filter((k) => !BUILT_IN.some(([b]) => b === k)).map((k) => [k, k])];
  const boxes = names.map(([name, label]) => {
    const box = h('input', {
      type: 'checkbox',
      id: `priv-field-${name}`,
      value: name,
      checked: s.volunteer_fields.includes(name),
    });
    return h('label', { class: 'check' }, box, ` ${label}`);
  });
  const msg = h('div', { id: 'privacy-message' });
  return h(
    'form',
    {
      class: 'card stack',
      id: 'privacy-form',
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const chosen = boxes.map((b) => b.querySelector('input')).filter((b) => b.checked);
        try {
          await api('POST', '/api/settings/privacy', {
            retain_outbound_days: out.value,
            retain_inbound_days: inb.value,
            retain_session_days: sess.value,
            retain_audit_days: audit.value,
            volunteer_fields: chosen.map((b) => b.value).join('\n'),
          });
          say(msg, 'Privacy settings saved.', 'success');
        } catch (e) {
          say(msg, errorText(e), 'error');
        }
      },
    },
    h('h3', {}, 'How long texts and records are kept'),
    field(
      'priv-out',
      'Texts we sent (days)',
      out,
      'After this, a message’s text is removed; its length, segments and delivery facts stay. 30 to 3650.',
    ),
    field(
      'priv-in',
      'Texts members sent (days)',
      inb,
      'The same for replies. A keyword, STOP or START is consent evidence and stays at least five years.',
    ),
    field('priv-sessions', 'Ended logins (days)', sess, 'Records of sessions after they expire. 1 to 365.'),
    field(
      'priv-audit',
      'Audit log (days)',
      audit,
      'The oldest entries go first, in order, so the log can still be checked. 90 to 3650.',
    ),
    h(
      'p',
      { class: 'muted hint', id: 'privacy-consent' },
      `Consent records and opt-outs are kept ${s.consent_years} years, as the law requires; an opt-out in force is never removed.`,
    ),
    h(
      'fieldset',
      { class: 'fields-shown' },
      h('legend', {}, 'What volunteers see of a member'),
      boxes,
      h('p', { class: 'muted hint' }, 'Numbers are always masked to their last four digits for volunteers.'),
    ),
    msg,
    h('button', { class: 'primary', type: 'submit' }, 'Save privacy settings'),
  );
}

function forgetForm() {
  const phone = h('input', {
    id: 'forget-phone',
    type: 'tel',
    autocomplete: 'off',
    maxlength: 40,
    value: prefill,
    placeholder: '(415) 555-0123',
  });
  prefill = '';
  const result = h('div', { id: 'forget-result', 'aria-live': 'polite' });
  const msg = h('div', { id: 'forget-message' });
  const show = async () => {
    replace(result);
    try {
      const p = await api('POST', '/api/contacts/forget/preview', { phone: phone.value });
      replace(result, preview(p, phone.value, msg, result));
    } catch (e) {
      say(msg, errorText(e), 'error');
    }
  };
  return h(
    'form',
    {
      class: 'card stack',
      id: 'forget-form',
      novalidate: true,
      onsubmit: (ev) => {
        ev.preventDefault();
        say(msg, '', 'success');
        show();
      },
    },
    h('h3', {}, 'Forget a member'),
    h(
      'p',
      { class: 'muted' },
      'Removes the member’s name, fields, notes, conversations and the text of every message to and from them. It cannot be undone.',
    ),
    field('forget-phone', 'Member’s number', phone),
    h('button', { type: 'submit', id: 'forget-look' }, 'Show what would be forgotten'),
    msg,
    result,
  );
}

function keptList(p) {
  return h(
    'ul',
    { class: 'kept', id: 'forget-kept' },
    h('li', {}, p.kept.opted_out ? 'Their opt-out (in force: they are never texted again)' : 'Any future opt-out'),
    h('li', {}, `${p.kept.consent_events} consent records (kept five years)`),
    h('li', {}, `${p.kept.consent_evidence_bodies} keyword, STOP or START messages (consent evidence)`),
    h('li', {}, `${p.kept.delivery_records} delivery records: number, time and status, without the text`),
  );
}

function preview(p, typed, msg, result) {
  const r = p.removed;
  const confirm = h('input', { id: 'forget-confirm', autocomplete: 'off', 'aria-describedby': 'forget-type' });
  const done = (q) =>
    h(
      'div',
      { class: 'card', id: 'forget-done' },
      h(
        'p',
        {},
        `Forgot ${q.phone}: ${q.removed.conversations} conversations, ${q.removed.outbound_bodies + q.removed.inbound_bodies} message texts.`,
      ),
      h('p', {}, 'Kept, as the law requires:'),
      keptList(q),
    );
  return h(
    'div',
    { class: 'stack', id: 'forget-preview' },
    h('p', {}, `${p.phone} — this would remove:`),
    h(
      'ul',
      {},
      h('li', {}, r.contact_details ? 'Name, ZIP, timezone, language and custom fields' : 'Details already forgotten'),
      h('li', {}, `${r.conversations} conversations with ${r.notes} notes and their tags`),
      h('li', {}, `The text of ${r.outbound_bodies} messages sent and ${r.inbound_bodies} received`),
      h('li', {}, `${r.outreach} outreach entries; ${r.queued_cancelled} queued messages are cancelled`),
      h('li', {}, `${r.subscriptions_ended} list subscriptions end (kept as consent history)`),
    ),
    h('p', {}, 'Kept, as the law requires:'),
    keptList(p),
    h('p', { id: 'forget-type' }, 'Type FORGET to confirm.'),
    confirm,
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        id: 'forget-go',
        onclick: async () => {
          try {
            const q = await api('POST', '/api/contacts/forget', { phone: typed, confirm: confirm.value });
            replace(result, done(q));
            say(msg, 'Member forgotten.', 'success');
          } catch (e) {
            say(msg, errorText(e), 'error');
          }
        },
      },
      'Forget this member',
    ),
  );
}
