// SPDX-License-Identifier: AGPL-3.0-or-later
// audit.js — an admin's view of what happened to member data (#/audit,
// under Org): open alerts (a lead's big export, a volunteer claiming
// unusually many conversations) to acknowledge; the thresholds that raise
// them and the two-person rule's blast size; the audit rows filtered by
// person, action and dates, paged newest first, and downloaded as CSV (the
// download is itself audited). The rows and rules are
// schema/functions/audit.sql; every string from the server goes in
// through h() as text. alertBadge() is the top bar's count of open alerts.
// Alerts are pushed live to the org's admins (event: alert, live.js): the
// badge and an open Alerts card follow without a reload, and a new alert
// is said at the top of whatever page she is on.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { coalesced } from './live.js';
import { errorText, flash } from './notice.js';

function errorBox(id) {
  return h('p', { class: 'error', role: 'alert', id });
}

/** A badge for the top bar's Org link: the number of open alerts, filled
 * once the server answers (empty when none or on error). */
export function alertBadge() {
  const badge = h('span', { class: 'badge', id: 'alert-badge', hidden: true });
  api('GET', '/api/alerts')
    .then((a) => showOpen(badge, a.open))
    .catch(() => {});
  return badge;
}

function showOpen(badge, open) {
  replace(badge, open ? String(open) : '');
  if (open) badge.setAttribute('aria-label', `${open} open alert${open === 1 ? '' : 's'}`);
  badge.hidden = !open;
}

// --- alerts pushed live ---
let cardLoad = null; // the Alerts card's load(), while one is on the page
const raised = new Set(); // ids announced and not yet said at the top
const refresh = coalesced(async () => {
  const a = await api('GET', '/api/alerts');
  const badge = document.getElementById('alert-badge');
  if (badge) showOpen(badge, a.open);
  if (cardLoad && document.getElementById('alerts-card')) await cardLoad();
  for (const x of a.alerts) {
    if (!raised.delete(x.id) || x.acknowledged_at) continue;
    flash(`New alert: ${alertText(x)}`, 'warning');
  }
}, 500);
window.addEventListener('tocsin:alert', (ev) => {
  if (ev.detail?.event === 'raised' && Number.isInteger(ev.detail.alert_id)) raised.add(ev.detail.alert_id);
  refresh();
});

/** The page (#/audit). */
export async function auditPage() {
  let users = [];
  try {
    users = await api('GET', '/api/users');
  } catch {
    /* the person filter then offers everyone as ids; the rest works */
  }
  return h(
    'section',
    { class: 'leads admin audit' },
    h('h2', {}, 'Audit'),
    h(
      'p',
      { class: 'muted' },
      'Every change, export, import, login and opened conversation, newest first. Each row is chained to the one before it, so an edited or removed row shows when an operator runs tocsinctl audit verify.',
    ),
    alertsCard(),
    protectionCard(),
    rowsCard(users),
  );
}

// --- alerts ---
function alertText(a) {
  const who = a.person || a.email;
  if (a.kind === 'export')
    return `${who} exported ${a.details.rows} contacts (${a.details.action}); the alert is set at ${a.details.limit}.`;
  return `${who} claimed ${a.details.claimed_last_hour} conversations within an hour; the alert is set at ${a.details.limit}.`;
}

function alertsCard() {
  const list = h('ul', { class: 'list', id: 'alerts' });
  const err = errorBox('alerts-error');
  const head = h('h3', {}, 'Alerts');
  async function load() {
    replace(err);
    let a;
    try {
      a = await api('GET', '/api/alerts');
    } catch (e) {
      replace(err, errorText(e));
      return;
    }
    replace(head, a.open ? `Alerts (${a.open} open)` : 'Alerts');
    if (!a.alerts.length) {
      replace(list, h('li', { class: 'muted' }, 'No alerts.'));
      return;
    }
    replace(
      list,
      a.alerts.map((x) =>
        h(
          'li',
          { class: `item alert ${x.acknowledged_at ? 'done' : 'open'}`, 'data-alert': x.id },
          h('p', { class: 'name' }, alertText(x)),
          h(
            'p',
            { class: 'muted' },
            new Date(x.at).toLocaleString(),
            x.acknowledged_at ? ` · acknowledged by ${x.acknowledged_by}` : '',
          ),
          x.acknowledged_at
            ? null
            : h(
                'button',
                {
                  type: 'button',
                  class: 'ack',
                  onclick: async (ev) => {
                    ev.target.disabled = true;
                    try {
                      await api('POST', `/api/alerts/${x.id}/acknowledge`);
                      await load();
                    } catch (e) {
                      replace(err, errorText(e));
                      ev.target.disabled = false;
                    }
                  },
                },
                'Acknowledge',
              ),
        ),
      ),
    );
  }
  load();
  cardLoad = load;
  return h('div', { class: 'card stack', id: 'alerts-card' }, head, list, err);
}

// --- thresholds ---
function protectionCard() {
  const fields = [
    ['alert_export_over', 'Alert when a lead exports more than this many contacts'],
    ['alert_claims_per_hour', 'Alert when a volunteer claims more than this many conversations in an hour'],
    ['blast_approval_over', 'Blasts to more members than this need a second lead or an admin to approve them'],
  ];
  const inputs = Object.fromEntries(
    fields.map(([k]) => [
      k,
      h('input', { id: `p-${k}`, type: 'number', min: 1, inputmode: 'numeric', placeholder: 'off' }),
    ]),
  );
  const err = errorBox('protection-error');
  const saved = h('p', { class: 'muted', role: 'status', id: 'protection-saved' });
  const fill = (s) => {
    for (const [k] of fields) inputs[k].value = s[k] === null ? '' : String(s[k]);
  };
  api('GET', '/api/settings/protection')
    .then(fill)
    .catch((e) => replace(err, errorText(e)));
  return h(
    'form',
    {
      class: 'card stack',
      id: 'protection',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        replace(saved);
        try {
          fill(
            await api(
              'POST',
              '/api/settings/protection',
              Object.fromEntries(fields.map(([k]) => [k, inputs[k].value])),
            ),
          );
          replace(saved, 'Saved.');
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    h('h3', {}, 'Protection'),
    h('p', { class: 'muted' }, 'Leave a box empty to turn it off.'),
    fields.map(([k, label]) => [h('label', { for: `p-${k}` }, label), inputs[k]]),
    err,
    h('button', { class: 'primary', type: 'submit' }, 'Save'),
    saved,
  );
}

// --- rows ---
function subjectText(r) {
  return r.subject_type ? `${r.subject_type.replace(/_/g, ' ')} ${r.subject_id ?? ''}`.trim() : '';
}

function rowView(r) {
  const details = JSON.stringify(r.details);
  return h(
    'li',
    { class: 'item audit-row', 'data-id': r.id },
    h('p', { class: 'name' }, h('strong', {}, r.action), ' ', subjectText(r)),
    h('p', { class: 'muted' }, new Date(r.at).toLocaleString(), ' · ', r.person || r.email || 'system'),
    details === '{}'
      ? null
      : h('p', { class: 'details' }, details.length > 300 ? `${details.slice(0, 299)}…` : details),
  );
}

function rowsCard(users) {
  const person = h(
    'select',
    { id: 'audit-user' },
    h('option', { value: '' }, 'Anyone'),
    users.map((u) => h('option', { value: String(u.id) }, u.display_name || u.email)),
  );
  const action = h('select', { id: 'audit-action' }, h('option', { value: '' }, 'Any action'));
  const from = h('input', { id: 'audit-from', type: 'date' });
  const to = h('input', { id: 'audit-to', type: 'date' });
  const list = h('ul', { class: 'list', id: 'audit-rows' });
  const err = errorBox('audit-error');
  const more = h('button', { type: 'button', id: 'audit-more', hidden: true }, 'Older');
  const download = h('a', { id: 'audit-csv', class: 'button', download: 'audit.csv' }, 'Download CSV');
  const filters = () => {
    const q = new URLSearchParams();
    if (person.value) q.set('user', person.value);
    if (action.value) q.set('action', action.value);
    if (from.value) q.set('from', from.value);
    if (to.value) q.set('to', to.value);
    return q;
  };
  let before = null;
  async function load(append) {
    replace(err);
    const q = filters();
    download.setAttribute('href', `/api/audit.csv?${q}`);
    if (append && before) q.set('before', String(before));
    let p;
    try {
      p = await api('GET', `/api/audit?${q}`);
    } catch (e) {
      replace(err, errorText(e));
      return;
    }
    if (action.options.length === 1) action.append(...p.actions.map((a) => h('option', { value: a }, a)));
    const rows = p.rows.map(rowView);
    if (append) list.append(...rows);
    else replace(list, rows.length ? rows : h('li', { class: 'muted' }, 'No rows match these filters.'));
    before = p.next_before;
    more.hidden = before === null;
  }
  more.addEventListener('click', () => load(true));
  load(false);
  return h(
    'div',
    { class: 'card stack', id: 'audit-card' },
    h('h3', {}, 'Rows'),
    h(
      'form',
      {
        class: 'filters',
        id: 'audit-filters',
        onsubmit: (ev) => {
          ev.preventDefault();
          load(false);
        },
      },
      h('label', { for: 'audit-user' }, 'Person'),
      person,
      h('label', { for: 'audit-action' }, 'Action'),
      action,
      h('label', { for: 'audit-from' }, 'From'),
      from,
      h('label', { for: 'audit-to' }, 'To'),
      to,
      h(
        'div',
        { class: 'row actions' },
        h('button', { class: 'primary', type: 'submit', id: 'audit-apply' }, 'Show'),
        download,
      ),
    ),
    err,
    list,
    more,
  );
}
