// SPDX-License-Identifier: AGPL-3.0-or-later
// admin.js — running the org from the dashboard: opt-outs (#/opt-outs:
// import a Spoke or vendor opt-out list with a preview of its first rows
// and the numbers' column picked there, export them all, undo one with a
// reason), people (#/people: invite, roles, disable, reset a password,
// revoke an invite; a national admin's acting account marked, and never
// given a password; its single sign-on page, #/sso, is sso_settings.js's),
// senders (#/senders: senders.js) and the audit
// (#/audit: audit.js); a national admin's Chapters page is chapters.js's.
// Leads may import opt-outs (an import only ever stops texting) and move
// people in (#/move-in: move_in.js); the rest is an admin's. Every string
// from a file or a member goes in through h() as text.
import { api } from './api.js';
import { h, replace, when } from './dom.js';
import { moveInPage } from './move_in.js';
import { errorText, showLink } from './notice.js';
import { chaptersPage } from './chapters.js';
import { href } from './routes.js';
import { auditPage } from './audit.js';
import { sendersPage } from './senders.js';
import { ssoPage } from './sso_settings.js';

const IMPORT_MAX_BYTES = 900 * 1024; // the server's body cap is 1 MiB by default, JSON included
const PREVIEW_BYTES = 64 * 1024; // the start of the file is enough for its first rows

function errorBox(id) {
  return h('p', { class: 'error', role: 'alert', id });
}

/** The sub-navigation of the org's pages (routes.js: section 'org'). */
export function adminNav(r, me) {
  const link = (name, text) =>
    h('a', { href: href(name), 'aria-current': r.name === name || r.parent === name ? 'page' : undefined }, text);
  return h(
    'nav',
    { class: 'subnav', 'aria-label': 'Organisation' },
    link('opt-outs', 'Opt-outs'),
    link('move-in', 'Move in'),
    me.role === 'admin' ? link('people', 'People') : null,
    me.role === 'admin' ? link('senders', 'Senders') : null,
    me.role === 'admin' && me.national ? link('chapters', 'Chapters') : null,
    me.role === 'admin' ? link('audit', 'Audit') : null,
  );
}

/** Builds the page of route r for the logged-in user me. */
export async function adminPage(r, me) {
  if (r.name === 'people') return peoplePage(me);
  if (r.name === 'move-in') return moveInPage();
  if (r.name === 'audit') return auditPage();
  if (r.name === 'senders') return sendersPage();
  if (r.name === 'sso') return ssoPage();
  if (r.name === 'chapters') return chaptersPage();
  return optOutsPage(me);
}

function page(title, ...children) {
  return h('section', { class: 'leads admin' }, h('h2', {}, title), ...children);
}

// --- opt-outs ---
function optOutsPage(me) {
  const admin = me.role === 'admin';
  return page(
    'Opt-outs',
    h(
      'p',
      { class: 'muted' },
      'A number opted out here is never texted again by anyone in this organisation: blasts skip it, replies to it are refused.',
    ),
    importCard(),
    admin ? exportCard() : null,
    admin ? undoCard() : h('p', { class: 'muted' }, 'Only admins export the opt-outs and undo one.'),
  );
}

function importCard() {
  const file = h('input', { id: 'optout-file', type: 'file', accept: '.csv,text/csv' });
  const err = errorBox('optout-error');
  const preview = h('div', { id: 'optout-preview' });
  const out = h('div', { class: 'report', id: 'optout-report' });
  const column = h('select', { id: 'optout-column' });
  const button = h('button', { class: 'primary', type: 'submit', disabled: true }, 'Import opt-outs');
  file.addEventListener('change', async () => {
    replace(err);
    replace(preview);
    replace(out);
    button.disabled = true;
    const f = file.files[0];
    if (!f) return;
    if (f.size > IMPORT_MAX_BYTES) {
      replace(
        err,
        `The file is ${Math.round(f.size / 1024)} KB; the dashboard takes up to ${IMPORT_MAX_BYTES / 1024} KB. Split it, or ask an operator to run tocsinctl contacts import --opt-outs "COLUMN" on it.`,
      );
      return;
    }
    try {
      const p = await api('POST', '/api/opt-outs/preview', { csv: await f.slice(0, PREVIEW_BYTES).text() });
      replace(
        column,
        p.columns.map((c, i) => h('option', { value: c, selected: i === p.suggested }, c)),
      );
      if (p.suggested === null) column.value = '';
      replace(preview, previewView(p, column));
      button.disabled = false;
    } catch (e) {
      replace(err, errorText(e));
    }
  });
  return h(
    'form',
    {
      class: 'card stack',
      id: 'optout-import',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        replace(out);
        const f = file.files[0];
        if (!f) return replace(err, 'Choose a CSV file first.');
        if (!column.value) return replace(err, 'Pick the column that holds the phone numbers.');
        button.disabled = true;
        try {
          const r = await api('POST', '/api/opt-outs/import', {
            column: column.value,
            filename: f.name,
            csv: await f.text(),
          });
          replace(out, importReport(r));
        } catch (e) {
          replace(err, errorText(e));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h3', {}, 'Import an opt-out list'),
    h(
      'p',
      { class: 'muted' },
      'A CSV from Spoke, a texting vendor or a spreadsheet, with a header row. Pick the column that holds the numbers; other columns are ignored. Nothing is texted, and numbers already opted out keep their first opt-out.',
    ),
    h('label', { for: 'optout-file' }, 'CSV file'),
    file,
    preview,
    err,
    button,
    out,
  );
}

function previewView(p, column) {
  return h(
    'div',
    { class: 'stack' },
    h('label', { for: 'optout-column' }, 'Column with the phone numbers'),
    column,
    h('p', { class: 'muted', id: 'optout-region' }, regionText(p.region)),
    h('p', { class: 'muted' }, `The first ${p.rows.length} row${p.rows.length === 1 ? '' : 's'} of the file:`),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'table preview' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'Line'),
            p.columns.map((c) => h('th', {}, c)),
          ),
        ),
        h(
          'tbody',
          {},
          p.rows.map((r, i) =>
            h(
              'tr',
              {},
              h('td', {}, p.lines[i]),
              p.columns.map((_, j) => h('td', {}, r[j] ?? '')),
            ),
          ),
        ),
      ),
    ),
  );
}

// How numbers written without a country code are read (the server's rule:
// the org's phone region, else TOCSIN_DEFAULT_REGION), so an admin outside
// the US sees it before importing.
function regionText(region) {
  return region ? `Numbers without +country are read as ${region}; one not valid there is refused, not guessed.` : '';
}

function importReport(r) {
  return [
    h(
      'p',
      { role: 'status' },
      `${r.rows} rows: ${r.opted_out} newly opted out, ${r.already_opted_out} already opted out, ${r.rejected} invalid`,
      r.duplicates ? `, ${r.duplicates} repeated` : '',
      '.',
      r.region ? ` Numbers without +country were read as ${r.region}.` : '',
    ),
    r.rejections && r.rejections.length
      ? h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'table' },
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

function exportCard() {
  return h(
    'div',
    { class: 'card stack' },
    h('h3', {}, 'Export every opt-out'),
    h(
      'p',
      { class: 'muted' },
      'One row per number: when it opted out, how (keyword, carrier, volunteer, import, admin), the word texted and the evidence. It opens safely in a spreadsheet. Each export is recorded in the audit log.',
    ),
    h(
      'a',
      { class: 'button', id: 'optout-export', href: '/api/opt-outs/export', download: 'opt-outs.csv' },
      'Download opt-outs.csv',
    ),
  );
}

const SOURCES = {
  keyword: 'texted a stop word',
  carrier: 'reported by the carrier',
  volunteer: 'marked by a volunteer',
  import: 'imported',
  admin: 'by an admin',
  form: 'a form',
  api: 'the API',
};

function undoCard() {
  const phone = h('input', { id: 'undo-phone', type: 'tel', placeholder: '(415) 555-0123', autocomplete: 'off' });
  const err = errorBox('undo-error');
  const out = h('div', { id: 'undo-out', class: 'stack' });
  return h(
    'form',
    {
      class: 'card stack',
      id: 'optout-undo',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        replace(out);
        try {
          const r = await api('POST', '/api/opt-outs/lookup', { phone: phone.value });
          replace(out, lookupView(r, out));
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    h('h3', {}, 'Undo one opt-out'),
    h(
      'p',
      { class: 'muted' },
      'For a mistake: a number imported or marked by error. A member’s own STOP — a stop word they texted, or their carrier’s report — cannot be undone here while it is their latest word: only they can, by texting START.',
    ),
    h('label', { for: 'undo-phone' }, 'Phone number'),
    h('div', { class: 'row' }, phone, h('button', { type: 'submit' }, 'Look up')),
    err,
    out,
  );
}

function lookupView(r, out) {
  if (!r.opted_out) return h('p', { role: 'status' }, `${r.phone} is not opted out.`);
  const facts = h(
    'p',
    { role: 'status' },
    `${r.phone} opted out ${when(r.opted_out_at)} — ${SOURCES[r.source] || r.source}.`,
  );
  const history = h(
    'details',
    {},
    h('summary', {}, 'History'),
    h(
      'ul',
      {},
      r.history.map((e) =>
        h(
          'li',
          {},
          `${when(e.at)}: ${e.event === 'opt_out' ? 'opted out' : 'opted in'} (${SOURCES[e.source] || e.source})`,
          e.evidence ? ` — ${e.evidence}` : '',
        ),
      ),
    ),
  );
  if (r.undo_refused)
    return [
      facts,
      h('p', { class: 'flash', id: 'undo-refused' }, `This opt-out cannot be undone: ${r.undo_refused}.`),
      history,
    ];
  const reason = h('textarea', {
    id: 'undo-reason',
    rows: 2,
    maxlength: 500,
    placeholder: 'e.g. imported from the wrong file',
  });
  const err = errorBox();
  const button = h(
    'button',
    {
      class: 'primary',
      type: 'button',
      id: 'undo-confirm',
      onclick: async () => {
        replace(err);
        button.disabled = true;
        try {
          const done = await api('POST', '/api/opt-outs/undo', { phone: r.phone, reason: reason.value });
          replace(
            out,
            h(
              'p',
              { role: 'status', class: 'flash success' },
              `${done.phone} may be texted again`,
              done.lists_restored
                ? ` and is back on ${done.lists_restored} list${done.lists_restored === 1 ? '' : 's'}`
                : '',
              '.',
            ),
          );
        } catch (e) {
          replace(err, errorText(e));
          button.disabled = false;
        }
      },
    },
    'Undo this opt-out',
  );
  return [
    facts,
    history,
    h('label', { for: 'undo-reason' }, 'Why (kept with the number’s history and in the audit log)'),
    reason,
    err,
    button,
  ];
}

// --- people ---
const ROLES = ['volunteer', 'lead', 'admin'];
const ROLE_HELP =
  'Volunteers answer their own conversations; leads also run blasts, lists and outreach and see every conversation; admins also manage people, keywords and opt-outs.';

async function peoplePage(me) {
  const el = page('People');
  const holder = h('div', { id: 'people', class: 'stack' });
  const linkOut = h('div', { id: 'people-link', role: 'status' });
  const err = errorBox('people-error');
  const refresh = async () => {
    try {
      replace(holder, peopleView(await api('GET', '/api/people'), me, refresh, linkOut, err));
    } catch (e) {
      replace(err, errorText(e));
    }
  };
  // Single sign-on is how people log in, so it is reached from here: the
  // Org sub-navigation has no room left for it at 390 px.
  const sso = h(
    'p',
    { class: 'muted' },
    'People can also sign in with your organisation’s own login: ',
    h('a', { href: href('sso'), id: 'people-sso' }, 'single sign-on (SSO)'),
    '.',
  );
  el.append(h('p', { class: 'muted' }, ROLE_HELP), sso, inviteCard(refresh, linkOut), err, linkOut, holder);
  await refresh();
  return el;
}

function inviteCard(refresh, linkOut) {
  const email = h('input', { id: 'people-email', type: 'email', placeholder: 'new.volunteer@example.org' });
  const role = h(
    'select',
    { id: 'people-role', 'aria-label': 'Role' },
    ROLES.map((r) => h('option', { value: r }, r)),
  );
  const err = errorBox();
  return h(
    'form',
    {
      class: 'card stack',
      id: 'people-invite',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        try {
          const r = await api('POST', '/api/invites', { email: email.value || undefined, role: role.value });
          showLink(linkOut, `Send this invite link to ${email.value || 'the new member'} (${r.role}):`, r.url);
          email.value = '';
          await refresh();
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    h('h3', {}, 'Invite someone'),
    h('label', { for: 'people-email' }, 'Email (optional)'),
    email,
    h('label', { for: 'people-role' }, 'Role'),
    role,
    err,
    h('button', { class: 'primary', type: 'submit' }, 'Create invite link'),
  );
}

function peopleView(data, me, refresh, linkOut, err) {
  const act = async (fn) => {
    replace(err);
    try {
      await fn();
      await refresh();
    } catch (e) {
      replace(err, errorText(e));
    }
  };
  const names = new Map(data.users.map((u) => [u.id, u.display_name || u.email]));
  const invites = data.invites.length
    ? h(
        'div',
        { class: 'card stack' },
        h('h3', {}, 'Pending invites'),
        h(
          'ul',
          { class: 'list', id: 'people-invites' },
          data.invites.map((i) =>
            h(
              'li',
              { class: 'item person', 'data-invite': i.id },
              h(
                'div',
                { class: 'grow' },
                h(
                  'span',
                  { class: 'name' },
                  i.user_id
                    ? `Password reset for ${names.get(i.user_id) || i.email}`
                    : i.email || 'Anyone with the link',
                ),
                h('span', { class: 'muted' }, ` · ${i.role} · until ${when(i.expires_at)}`),
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'revoke',
                  onclick: () => act(() => api('POST', `/api/invites/${i.id}/revoke`)),
                },
                'Revoke',
              ),
            ),
          ),
        ),
      )
    : null;
  const users = h(
    'ul',
    { class: 'list', id: 'people-users' },
    data.users.map((u) => {
      const self = u.id === me.id;
      const role = h(
        'select',
        { 'aria-label': `Role of ${u.display_name || u.email}`, class: 'role', disabled: self || u.disabled },
        ROLES.map((r) => h('option', { value: r, selected: r === u.role }, r)),
      );
      role.addEventListener('change', () => act(() => api('POST', `/api/users/${u.id}/role`, { role: role.value })));
      const confirm = h(
        'div',
        { class: 'confirm', hidden: true },
        h(
          'p',
          {},
          `Disable ${u.display_name || u.email}? They are logged out everywhere now and their conversations go back to the pool.`,
        ),
        h(
          'div',
          { class: 'row' },
          h(
            'button',
            {
              type: 'button',
              class: 'primary danger confirm-yes',
              onclick: () => act(() => api('POST', `/api/users/${u.id}/disable`)),
            },
            'Disable',
          ),
          h(
            'button',
            {
              type: 'button',
              onclick: () => {
                confirm.hidden = true;
              },
            },
            'Cancel',
          ),
        ),
      );
      const buttons = self
        ? h('span', { class: 'muted' }, 'You')
        : h(
            'div',
            { class: 'row' },
            u.disabled
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'enable',
                    onclick: () => act(() => api('POST', `/api/users/${u.id}/enable`)),
                  },
                  'Re-enable',
                )
              : h(
                  'button',
                  {
                    type: 'button',
                    class: 'disable',
                    onclick: () => {
                      confirm.hidden = false;
                    },
                  },
                  'Disable',
                ),
            u.disabled || u.national
              ? null
              : h(
                  'button',
                  {
                    type: 'button',
                    class: 'reset',
                    onclick: () =>
                      act(async () => {
                        const r = await api('POST', `/api/users/${u.id}/reset-password`);
                        showLink(
                          linkOut,
                          `${u.display_name || u.email} is logged out and their old password no longer works. Send them this link to choose a new one:`,
                          r.url,
                        );
                      }),
                  },
                  'Reset password',
                ),
            u.disabled || !u.sessions
              ? null
              : h(
                  'button',
                  {
                    type: 'button',
                    class: 'end-sessions',
                    onclick: () => act(() => api('POST', `/api/users/${u.id}/revoke-sessions`)),
                  },
                  'Log out everywhere',
                ),
            // An acting account has no sessions of its own: its national
            // admin's visit ends instead (her own session goes on at home).
            u.disabled || !u.national || !u.visits
              ? null
              : h(
                  'button',
                  {
                    type: 'button',
                    class: 'end-visit',
                    onclick: () => act(() => api('POST', `/api/users/${u.id}/revoke-sessions`)),
                  },
                  'End visit',
                ),
            u.disabled || !u.two_factor
              ? null
              : h(
                  'button',
                  {
                    type: 'button',
                    class: 'reset-two-factor',
                    onclick: () => act(() => api('POST', `/api/users/${u.id}/reset-two-factor`)),
                  },
                  'Reset two-factor',
                ),
          );
      return h(
        'li',
        { class: `item person${u.disabled ? ' disabled' : ''}`, 'data-user': u.id },
        h(
          'div',
          { class: 'grow' },
          h('span', { class: 'name' }, u.display_name || u.email),
          u.disabled ? h('span', { class: 'state state-cancelled' }, 'disabled') : null,
          // A national admin's acting account (chapters): never a password.
          u.national
            ? h('span', { class: 'state', title: 'A national admin acting in this chapter' }, 'national')
            : null,
          h(
            'p',
            { class: 'muted' },
            u.email,
            ' · ',
            u.last_active_at
              ? `active ${when(u.last_active_at)}`
              : u.password_set
                ? 'not active yet'
                : 'no password set',
            ` · ${u.two_factor ? 'two-factor on' : 'no two-factor'}`,
            u.sessions ? ` · ${u.sessions} session${u.sessions === 1 ? '' : 's'}` : '',
          ),
        ),
        role,
        buttons,
        confirm,
      );
    }),
  );
  return [invites, h('div', { class: 'card stack' }, h('h3', {}, 'Team'), users)];
}
