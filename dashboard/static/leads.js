// SPDX-License-Identifier: AGPL-3.0-or-later
// leads.js — a campaign lead's pages: audiences (#/lists: member counts,
// CSV import with the import's report, export), keywords (#/keywords;
// admins create and edit), blasts (#/blasts, compose at #/blasts/new with
// a live segment counter, the server's preview and a confirm before
// anything is sent, progress at #/blasts/12) and stats (#/stats). The
// pages call bulk sends "blasts" everywhere ("campaigns" are outreach's). Every member- or lead-written string
// goes in through h() as text.
//
// The progress view fetches GET /api/blasts/:id when /api/events says the
// blast changed ("blast" events, ids only: live.js passes them on as
// tocsin:blast), through live.js's coalesced trigger (one read in flight,
// one queued). The worker's tick folds a blast's counters once a second
// and a NOTIFY follows (schema 022), so messages never wait on a blast's
// row and the page hears at most about one event a second per blast. A
// read every 15 s covers a stream that dropped; it stops when the blast
// is done (late receipts still arrive as events) and both stop when the
// page is left.
import { api } from './api.js';
import { h, replace, when } from './dom.js';
import { errorText, errorBox, flash, noticeNode, segmentCounter } from './notice.js';
import { href } from './routes.js';
import { coalesced, listen, whileShown } from './live.js';
import { approvalCard, draftSchedule } from './blast_approval.js';
import {
  stateLabel,
  isFinal,
  formatDuration,
  percent,
  counterRows,
  rateText,
  blastTitle,
  dateTime,
} from './leads_format.js';

const POLL_MS = 15000; // the fallback when no event comes
const IMPORT_MAX_BYTES = 900 * 1024; // the server's body cap is 1 MiB by default, JSON included
let pollTimer = null;

function stopPolling() {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}
window.addEventListener('hashchange', stopPolling);

/** The lead's sub-navigation for the page at r (routes.js), the active
 * page marked. */
export function leadNav(r) {
  const link = (name, text) =>
    h('a', { href: href(name), 'aria-current': r.name === name || r.parent === name ? 'page' : undefined }, text);
  return h(
    'nav',
    { class: 'subnav', 'aria-label': 'Blasts' },
    link('blasts', 'Blasts'),
    link('lists', 'Audiences'),
    link('keywords', 'Keywords'),
    link('stats', 'Stats'),
  );
}

/** Builds the page of route r (one whose view is 'leads' in routes.js)
 * for the logged-in user me. */
export async function leadPage(r, me) {
  stopPolling();
  switch (r.name) {
    case 'blast':
      return blastPage(r.params.id, me);
    case 'blast-new':
      return composePage();
    case 'lists':
      return listsPage();
    case 'keywords':
      return keywordsPage(me);
    case 'stats':
      return statsPage();
    default:
      return blastsPage();
  }
}

function page(title, ...children) {
  return h('section', { class: 'leads' }, h('h2', {}, title), ...children);
}

async function load(pageEl, fn) {
  try {
    return await fn();
  } catch (e) {
    pageEl.append(errorBox(errorText(e)));
    return null;
  }
}

// --- audiences ---
async function listsPage() {
  const el = page('Audiences');
  const lists = await load(el, () => api('GET', '/api/lists'));
  if (!lists) return el;
  const holder = h('div', {}, listsView(lists));
  const refresh = async () => {
    try {
      replace(holder, listsView(await api('GET', '/api/lists')));
    } catch {
      /* the report is shown */
    }
  };
  el.append(
    holder,
    h(
      'p',
      { class: 'muted' },
      "Member counts leave out opted-out numbers. Exports open safely in spreadsheets: a cell starting with = + - or @ gets a leading ' so it is never run as a formula.",
    ),
    importForm(lists, refresh),
    h(
      'p',
      { class: 'muted' },
      'Moving from Spoke or another vendor? ',
      h('a', { href: href('opt-outs'), id: 'to-opt-outs' }, 'Import its opt-out list'),
      ' first, or ',
      h('a', { href: href('move-in'), id: 'to-move-in' }, 'move in its export'),
      ' (Spoke, Action Network, VAN).',
    ),
  );
  return el;
}

function listsView(lists) {
  return h(
    'ul',
    { class: 'list', id: 'lists' },
    lists.length
      ? lists.map((l) =>
          h(
            'li',
            { class: 'item', 'data-list': l.id },
            h('span', { class: 'name' }, l.name),
            h(
              'span',
              { class: 'muted' },
              `${l.members} member${l.members === 1 ? '' : 's'}`,
              l.opted_out ? ` · ${l.opted_out} opted out` : '',
            ),
            h('a', { class: 'button', href: `/api/lists/${l.id}/export`, download: `list-${l.id}.csv` }, 'Export'),
          ),
        )
      : h('li', { class: 'empty' }, 'No lists yet. Import a CSV below.'),
  );
}

function importForm(lists, onImported) {
  const name = h('input', {
    id: 'import-list',
    list: 'import-lists',
    required: true,
    maxlength: 200,
    placeholder: 'e.g. Ward 7 volunteers',
  });
  const file = h('input', { id: 'import-file', type: 'file', accept: '.csv,text/csv', required: true });
  const err = errorBox();
  const out = h('div', { class: 'report', id: 'import-report' });
  const button = h('button', { class: 'primary', type: 'submit' }, 'Import');
  return h(
    'form',
    {
      class: 'card stack',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        replace(out);
        const f = file.files[0];
        if (!f) return replace(err, 'Choose a CSV file first.');
        if (f.size > IMPORT_MAX_BYTES)
          return replace(
            err,
            `The file is ${Math.round(f.size / 1024)} KB; the dashboard takes up to ${IMPORT_MAX_BYTES / 1024} KB. Split it, or ask an operator to run tocsinctl contacts import.`,
          );
        button.disabled = true;
        try {
          const report = await api('POST', '/api/lists/import', {
            name: name.value,
            filename: f.name,
            csv: await f.text(),
          });
          replace(out, reportView(report));
          onImported();
        } catch (e) {
          replace(err, errorText(e));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h3', {}, 'Import contacts'),
    h(
      'p',
      { class: 'muted' },
      'A CSV with a header row: phone (required), first_name, last_name, zip, timezone, and any other columns, kept as fields for {field} in blasts. Everyone imported is subscribed to the list; opted-out numbers never are.',
    ),
    h('label', { for: 'import-list' }, 'List (new or existing)'),
    name,
    h(
      'datalist',
      { id: 'import-lists' },
      lists.map((l) => h('option', { value: l.name })),
    ),
    h('label', { for: 'import-file' }, 'CSV file'),
    file,
    err,
    button,
    out,
  );
}

// The import's figures: a success, or a warning when rows were rejected.
function reportView(r) {
  return [
    noticeNode(
      `${r.rows} rows: ${r.imported} new, ${r.updated} updated, ${r.rejected} rejected, ${r.subscribed} added to the list` +
        `${r.kept_opted_out ? `, ${r.kept_opted_out} still opted out (not subscribed)` : ''}.` +
        `${r.region ? ` Numbers without +country were read as ${r.region}.` : ''}`,
      r.rejected ? 'warning' : 'success',
    ),
    r.rejections && r.rejections.length
      ? h(
          'table',
          { class: 'table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Line'), h('th', {}, 'Why it was rejected'))),
          h(
            'tbody',
            {},
            r.rejections.map((x) => h('tr', {}, h('td', {}, x.line), h('td', {}, x.reason))),
          ),
        )
      : null,
    r.rejected > (r.rejections || []).length
      ? h('p', { class: 'muted' }, `Showing the first ${r.rejections.length} rejections.`)
      : null,
  ];
}

// --- keywords ---
async function keywordsPage(me) {
  const el = page('Keywords');
  const [keywords, lists] =
    (await load(el, () => Promise.all([api('GET', '/api/keywords'), api('GET', '/api/lists')]))) || [];
  if (!keywords) return el;
  const admin = me.role === 'admin';
  const form = admin ? keywordForm(lists) : null;
  el.append(
    h('p', { class: 'muted' }, 'Someone who texts a keyword is subscribed to its list and gets its confirmation.'),
    h(
      'ul',
      { class: 'list' },
      keywords.length
        ? keywords.map((k) =>
            h(
              'li',
              { class: 'item keyword' },
              h(
                'div',
                { class: 'grow' },
                h('span', { class: 'name' }, k.keyword),
                h('span', { class: 'muted' }, ` → ${k.list}`),
                h('p', { class: 'reply' }, k.reply),
              ),
              admin ? h('button', { type: 'button', onclick: () => form.fill(k) }, 'Edit') : null,
            ),
          )
        : h('li', { class: 'empty' }, 'No keywords yet.'),
    ),
    admin ? form.el : h('p', { class: 'muted' }, 'Only admins create and edit keywords.'),
  );
  return el;
}

function keywordForm(lists) {
  let editing = null;
  const word = h('input', {
    id: 'kw-word',
    required: true,
    maxlength: 20,
    autocapitalize: 'characters',
    placeholder: 'JOIN',
  });
  const list = h(
    'select',
    { id: 'kw-list', required: true },
    h('option', { value: '' }, 'Pick a list'),
    lists.map((l) => h('option', { value: l.id }, l.name)),
  );
  const reply = h('textarea', {
    id: 'kw-reply',
    required: true,
    maxlength: 1600,
    placeholder: "Org name: you're in! Up to 4 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel.",
  });
  const err = errorBox();
  const title = h('h3', {}, 'New keyword');
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Save keyword');
  const el = h(
    'form',
    {
      class: 'card stack',
      id: 'keyword-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        try {
          const saved = await api('POST', editing ? `/api/keywords/${editing}` : '/api/keywords', {
            keyword: word.value,
            list_id: list.value,
            reply: reply.value,
          });
          flash(`Keyword ${saved.keyword || word.value.toUpperCase()} saved.`, 'success', { next: true });
          location.hash = href('keywords');
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    title,
    h(
      'p',
      { class: 'muted' },
      'The confirmation must name your organisation, say how often messages come (e.g. "4 msgs/mo"), say "Msg&data rates may apply", and mention HELP and STOP.',
    ),
    h('label', { for: 'kw-word' }, 'Keyword (letters and digits)'),
    word,
    h('label', { for: 'kw-list' }, 'Subscribes to'),
    list,
    h('label', { for: 'kw-reply' }, 'Confirmation text'),
    reply,
    err,
    submit,
  );
  return {
    el,
    fill(k) {
      editing = k.id;
      word.value = k.keyword;
      list.value = String(k.list_id);
      reply.value = k.reply;
      replace(title, `Edit ${k.keyword}`);
      el.scrollIntoView({ behavior: 'smooth' });
      word.focus();
    },
  };
}

// --- blasts ---
async function blastsPage() {
  const el = page('Blasts');
  el.append(h('p', {}, h('a', { class: 'button primary', href: href('blast-new') }, 'New blast')));
  const blasts = await load(el, () => api('GET', '/api/blasts'));
  if (!blasts) return el;
  el.append(
    h(
      'ul',
      { class: 'list' },
      blasts.length
        ? blasts.map((b) =>
            h(
              'li',
              { class: 'item' },
              h(
                'a',
                { href: href('blast', { id: b.id }) },
                h('span', { class: 'name' }, b.body),
                h('span', { class: `state state-${b.state}` }, stateLabel(b.state)),
                h(
                  'span',
                  { class: 'preview' },
                  `${b.list} · ${b.recipients ? `${b.recipients} recipients · ` : ''}${when(b.scheduled_at || b.created_at)}`,
                ),
              ),
            ),
          )
        : h('li', { class: 'empty' }, 'No blasts yet.'),
    ),
  );
  return el;
}

async function composePage() {
  const el = page('New blast');
  const [senders, lists] =
    (await load(el, () => Promise.all([api('GET', '/api/senders'), api('GET', '/api/lists')]))) || [];
  if (!senders) return el;
  const sender = h(
    'select',
    { id: 'blast-sender' },
    senders.map((s) => h('option', { value: s.id }, `${s.address} (${Number(s.messages_per_second)}/s)`)),
  );
  const list = h(
    'select',
    { id: 'blast-list' },
    h('option', { value: '' }, 'Pick a list'),
    lists.map((l) => h('option', { value: l.id }, `${l.name} (${l.members})`)),
  );
  const field = h('input', { id: 'blast-filter-field', placeholder: 'e.g. ward', maxlength: 64 });
  const equals = h('input', { id: 'blast-filter-equals', placeholder: 'e.g. 7', maxlength: 200 });
  const body = h('textarea', { id: 'blast-body', maxlength: 1600, rows: 5, placeholder: 'Hi {first_name|friend}, …' });
  // The template's own length; the preview below shows the longest
  // rendering, which is what members get.
  const counter = segmentCounter(body, { id: 'blast-counter', prefix: 'Template: ' });
  const preview = h(
    'div',
    { class: 'preview-box', id: 'blast-preview', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'Pick a list and write the message to see a preview.'),
  );
  const now = h('input', { type: 'radio', name: 'when', id: 'when-now', value: 'now', checked: true });
  const later = h('input', { type: 'radio', name: 'when', id: 'when-later', value: 'later' });
  const at = h('input', { type: 'datetime-local', id: 'blast-at', 'aria-label': 'Send at', disabled: true });
  const err = errorBox();
  const submit = h('button', { class: 'primary', type: 'submit', id: 'blast-submit' }, 'Create and send');
  const confirmBox = h('div', {
    class: 'confirm',
    id: 'blast-confirm',
    hidden: true,
    role: 'alertdialog',
    'aria-labelledby': 'blast-confirm-q',
  });
  const fields = () => ({
    sender_id: Number(sender.value),
    list_id: Number(list.value) || undefined,
    filter_field: field.value,
    filter_equals: equals.value,
    body: body.value,
  });

  let seq = 0,
    timer = null;
  async function refreshPreview() {
    clearTimeout(timer);
    if (!list.value || !body.value.trim()) return;
    timer = setTimeout(async () => {
      const mine = ++seq;
      try {
        const p = await api('POST', '/api/blasts/preview', fields());
        if (mine === seq) replace(preview, previewView(p));
      } catch (e) {
        if (mine === seq) replace(preview, errorBox(errorText(e)));
      }
    }, 350);
  }
  for (const input of [sender, list, field, equals, body]) input.addEventListener('input', refreshPreview);
  later.addEventListener('change', () => {
    submit.textContent = 'Create and schedule';
    at.required = true;
    at.disabled = false;
    at.focus();
  });
  now.addEventListener('change', () => {
    submit.textContent = 'Create and send';
    at.required = false;
    at.disabled = true;
  });

  // Nothing is created before the lead has seen, once, who it goes to
  // and what the longest message costs, as the server computes them now.
  async function send(when_) {
    confirmBox.hidden = true;
    submit.disabled = true;
    try {
      const created = await api('POST', '/api/blasts', fields());
      try {
        await api('POST', `/api/blasts/${created.id}/schedule`, { at: when_ });
      } catch (e) {
        // Created but not scheduled (a second approval is needed, say): its
        // page says why and schedules it once it may go.
        flash(errorText(e), 'warning', { next: true });
      }
      location.hash = href('blast', { id: created.id });
    } catch (e) {
      replace(err, errorText(e));
      submit.disabled = false;
    }
  }
  el.append(
    h(
      'form',
      {
        class: 'compose',
        onsubmit: async (ev) => {
          ev.preventDefault();
          replace(err);
          confirmBox.hidden = true;
          const when_ = later.checked && at.value ? new Date(at.value).toISOString() : undefined;
          submit.disabled = true;
          let p;
          try {
            p = await api('POST', '/api/blasts/preview', fields());
          } catch (e) {
            replace(err, errorText(e));
            submit.disabled = false;
            return;
          }
          submit.disabled = false;
          if (!p.recipients) {
            replace(err, 'Nobody on this list would get it: there is no one to send to.');
            return;
          }
          const people = `${p.recipients} ${p.recipients === 1 ? 'person' : 'people'}`;
          replace(
            confirmBox,
            h(
              'p',
              { id: 'blast-confirm-q', class: 'question' },
              when_ ? `Schedule this blast to ${people} for ${dateTime(when_)}?` : `Send this blast to ${people} now?`,
            ),
            h(
              'ul',
              { class: 'facts' },
              h(
                'li',
                { id: 'blast-confirm-count' },
                `${people} on ${list.selectedOptions[0].textContent.replace(/ \(\d+\)$/, '')}`,
                p.opted_out ? ` (${p.opted_out} opted-out member${p.opted_out === 1 ? '' : 's'} left out)` : '',
              ),
              p.quiet_now
                ? h(
                    'li',
                    { id: 'blast-confirm-quiet' },
                    `${p.quiet_now} of them ${p.quiet_now === 1 ? 'is' : 'are'} outside the texting hours now: their messages wait for the start of the texting hours, their time.`,
                  )
                : null,
              h('li', { id: 'blast-confirm-segments' }, longestText(p)),
            ),
            p.sample
              ? h(
                  'div',
                  { class: 'msg out sample' },
                  h('p', { class: 'body', id: 'blast-confirm-sample' }, p.sample.body),
                  h(
                    'span',
                    { class: 'meta' },
                    `the first message, as ${[p.sample.first_name, p.sample.last_name].filter(Boolean).join(' ') || 'a member'} will see it`,
                  ),
                )
              : null,
            h(
              'div',
              { class: 'row actions' },
              h(
                'button',
                { class: 'primary', type: 'button', id: 'blast-confirm-yes', onclick: () => send(when_) },
                when_ ? `Schedule for ${people}` : `Send to ${people}`,
              ),
              h(
                'button',
                {
                  type: 'button',
                  id: 'blast-confirm-no',
                  onclick: () => {
                    confirmBox.hidden = true;
                    submit.focus();
                  },
                },
                'Not yet',
              ),
            ),
          );
          confirmBox.hidden = false;
          confirmBox.querySelector('#blast-confirm-yes').focus();
        },
      },
      h(
        'div',
        { class: 'card stack' },
        h('label', { for: 'blast-sender' }, 'From'),
        sender,
        h('label', { for: 'blast-list' }, 'To'),
        list,
        h(
          'details',
          { class: 'filter' },
          h('summary', {}, 'Only some of the list (optional)'),
          h(
            'div',
            { class: 'row' },
            h('label', { for: 'blast-filter-field' }, 'Field'),
            field,
            h('label', { for: 'blast-filter-equals' }, 'equals'),
            equals,
          ),
        ),
        h('label', { for: 'blast-body' }, 'Message'),
        body,
        counter.el,
        h(
          'p',
          { class: 'muted' },
          'Fields: {first_name}, {last_name}, {zip} or any column of the import; {first_name|friend} uses "friend" when a member has none.',
        ),
      ),
      h('div', { class: 'card stack' }, h('h3', {}, 'Preview'), preview),
      h(
        'div',
        { class: 'card stack' },
        h('h3', {}, 'When'),
        h('label', { class: 'choice', for: 'when-now' }, now, ' Send now'),
        h('label', { class: 'choice', for: 'when-later' }, later, ' Schedule for ', at),
        h(
          'p',
          { class: 'muted' },
          "Members are texted only within the org's texting hours (Settings), in their own time: the others' messages wait until then.",
        ),
        err,
        submit,
        confirmBox,
      ),
    ),
  );
  refreshPreview();
  return el;
}

// The longest message across the audience (the server renders it for
// every member it checks, with lib/sms's rules): what members pay for.
function longestText(p) {
  const l = p.longest;
  const seg = (n) => `${n} segment${n === 1 ? '' : 's'}`;
  if (!l) return `Each message: ${seg(p.segments)} · ${p.encoding}`;
  const all = p.longest_checked < p.recipients ? ` (of the first ${p.longest_checked} members)` : '';
  return `Longest message: ${seg(l.segments)} · ${l.characters} characters · ${l.encoding}${all}`;
}

function previewView(p) {
  return [
    p.sample
      ? h(
          'div',
          { class: 'msg out sample' },
          h('p', { class: 'body', id: 'blast-sample' }, p.sample.body),
          h(
            'span',
            { class: 'meta' },
            `as ${[p.sample.first_name, p.sample.last_name].filter(Boolean).join(' ') || 'a member'} will see it`,
          ),
        )
      : h('p', { class: 'muted' }, 'Nobody on this list matches yet.'),
    h(
      'dl',
      { class: 'fields' },
      h('dt', {}, 'Recipients'),
      h(
        'dd',
        { id: 'blast-recipients' },
        `${p.recipients}`,
        p.opted_out ? ` (${p.opted_out} opted-out member${p.opted_out === 1 ? '' : 's'} left out)` : '',
      ),
      h('dt', {}, 'Length'),
      h('dd', { id: 'blast-segments' }, longestText(p)),
      h('dt', {}, 'Send time'),
      h(
        'dd',
        {},
        `about ${formatDuration(p.estimated_seconds)} at ${Number(p.messages_per_second)} segments/s`,
        p.quiet_now ? `; ${p.quiet_now} in quiet hours now wait for their morning` : '',
      ),
    ),
  ];
}

async function blastPage(id, me) {
  const el = page(`Blast ${id}`);
  const view = h('div', { class: 'progress-view', id: 'blast-progress' });
  el.append(h('p', {}, h('a', { href: href('blasts') }, '‹ All blasts')), view);
  const fragment = location.hash;
  const onPage = () => location.hash === fragment;
  async function read() {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
    let b;
    try {
      b = await api('GET', `/api/blasts/${id}`);
    } catch (e) {
      replace(view, errorBox(e.status === 404 ? 'No such blast.' : errorText(e)));
      if (e.status !== 404 && onPage()) pollTimer = setTimeout(refresh, POLL_MS);
      return;
    }
    if (!onPage()) return;
    replace(el.querySelector('h2'), blastTitle(b.body));
    // Never pull a confirm away from under the lead's thumb.
    if (!view.querySelector('.confirm:not([hidden])'))
      replace(view, approvalCard(b, me, refresh), draftSchedule(b, refresh), progressView(b, refresh));
    // A finished blast still hears its receipts through events, unpolled.
    if (!isFinal(b.state)) pollTimer = setTimeout(refresh, POLL_MS);
  }
  // One read in flight and at most one queued, however many events come.
  const refresh = coalesced(read);
  listen('blast', (d) => d && d.blast_id === id && refresh(), whileShown(el));
  await refresh();
  return el;
}

function progressView(b, refresh) {
  const pct = Math.round(Number(b.progress) * 1000) / 10;
  const fill = h('span', {});
  fill.style.width = `${pct}%`; // through the CSSOM: the page's CSP refuses style attributes
  const confirm = h('div', { class: 'confirm', hidden: true, role: 'alertdialog' });
  const err = errorBox();
  const act = async (what) => {
    replace(err);
    confirm.hidden = true;
    try {
      await api('POST', `/api/blasts/${b.id}/${what}`);
      await refresh();
    } catch (e) {
      replace(err, errorText(e));
    }
  };
  const ask = (question, yes, what) => {
    replace(
      confirm,
      h('p', {}, question),
      h('button', { class: 'danger', type: 'button', id: 'confirm-yes', onclick: () => act(what) }, yes),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            confirm.hidden = true;
          },
        },
        'Keep it',
      ),
    );
    confirm.hidden = false;
  };
  const actions = [];
  if (b.state === 'sending')
    actions.push(h('button', { type: 'button', id: 'blast-pause', onclick: () => act('pause') }, 'Pause'));
  if (b.state === 'paused')
    actions.push(
      h('button', { class: 'primary', type: 'button', id: 'blast-resume', onclick: () => act('resume') }, 'Resume'),
    );
  if (['draft', 'scheduled', 'sending', 'paused'].includes(b.state)) {
    actions.push(
      h(
        'button',
        {
          class: 'danger',
          type: 'button',
          id: 'blast-cancel',
          onclick: () =>
            ask(
              `Cancel this blast? The ${Number(b.queued) || 'remaining'} message(s) not sent yet will never go out. This cannot be undone.`,
              'Cancel the blast',
              'cancel',
            ),
        },
        'Cancel…',
      ),
    );
  }
  return [
    h(
      'div',
      { class: 'card stack' },
      h(
        'div',
        { class: 'row' },
        h('span', { class: `state state-${b.state}`, id: 'blast-state' }, stateLabel(b.state)),
        h(
          'span',
          { class: 'muted', id: 'blast-when' },
          b.state === 'scheduled'
            ? `starts ${dateTime(b.scheduled_at)}`
            : b.state === 'completed'
              ? `finished ${dateTime(b.completed_at)}`
              : b.state === 'cancelled'
                ? `cancelled ${dateTime(b.completed_at)}`
                : b.state === 'sending'
                  ? rateText(b.per_minute)
                  : '',
        ),
      ),
      h(
        'div',
        { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct },
        fill,
      ),
      h('p', { class: 'muted' }, `${pct}% of ${b.recipients} recipients · to ${b.list} from ${b.sender}`),
      h(
        'dl',
        { class: 'counters' },
        counterRows(b).map(([key, label, value, note]) =>
          h('div', { 'data-counter': key }, h('dt', {}, label, h('small', {}, note)), h('dd', {}, value)),
        ),
      ),
      actions.length ? h('div', { class: 'row actions' }, actions) : null,
      confirm,
      err,
    ),
    h('div', { class: 'card stack' }, h('h3', {}, 'Message'), h('p', { class: 'blast-body' }, b.body)),
  ];
}

// --- stats ---
function short(text, max = 80) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

async function statsPage() {
  const el = page('Stats');
  const days = h(
    'select',
    { id: 'stats-days', 'aria-label': 'Replies within' },
    [1, 3, 7, 30].map((d) => h('option', { value: d, selected: d === 7 }, `${d} day${d === 1 ? '' : 's'}`)),
  );
  const out = h('div', {});
  async function show() {
    let s;
    try {
      s = await api('GET', `/api/stats?days=${days.value}`);
    } catch (e) {
      replace(out, errorBox(errorText(e)));
      return;
    }
    const d = `${s.days} day${s.days === 1 ? '' : 's'}`;
    replace(
      out,
      h('h3', {}, 'Blasts'),
      h(
        'div',
        { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Blasts, scrolls sideways' },
        h(
          'table',
          { class: 'table', id: 'stats-blasts' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Blast', 'List', 'Recipients', 'Delivered', `Opted out within ${d}`, 'Replied'].map((t) =>
                h('th', {}, t),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            s.blasts.length
              ? s.blasts.map((b) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, h('a', { href: href('blast', { id: b.id }) }, short(b.body))),
                    h('td', {}, b.list),
                    h('td', {}, b.recipients),
                    h('td', {}, percent(b.delivered_rate)),
                    h('td', {}, b.opted_out_after),
                    h('td', {}, b.replies),
                  ),
                )
              : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No blast has been sent yet.')),
          ),
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        `Opted out within ${d}: people the blast reached who opted out in the ${d} after it started. Replied: who wrote back in that time.`,
      ),
      h('h3', {}, 'Keywords'),
      h(
        'div',
        { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Keywords, scrolls sideways' },
        h(
          'table',
          { class: 'table', id: 'stats-keywords' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Keyword', 'List', `Joined in ${d}`, 'Of them, opted out since', 'Reply rate'].map((t) =>
                h('th', {}, t),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            s.keywords.map((k) =>
              h(
                'tr',
                {},
                h('td', {}, k.keyword),
                h('td', {}, k.list),
                h('td', {}, k.gained),
                h('td', {}, k.opted_out),
                h('td', {}, percent(k.reply_rate)),
              ),
            ),
          ),
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        `Joined: people who texted the keyword in the last ${d}. Of them, opted out since: those who have opted out since they joined, after any blast or none.`,
      ),
    );
  }
  days.addEventListener('change', show);
  el.append(h('div', { class: 'row' }, h('span', { class: 'muted' }, 'Replies and sign-ups within'), days), out);
  await show();
  return el;
}
