// SPDX-License-Identifier: AGPL-3.0-or-later
// review.js — a lead's Message review (#/review): every conversation of
// the org, open and closed, filtered (campaign, tag, volunteer, state,
// likely opt-out, date range, words in the last message) and paged with
// "Show more" (the server's keyset cursor); rows picked one by one or all
// on the page, then reassigned or closed together after a confirmation
// that says how many; and an outreach answer recorded by mistake
// corrected or cleared. The server validates, caps and audits
// (schema/functions/review.sql); these pages show its sentence when it
// refuses. The list stays current while it is on screen: a change to a
// conversation on the live stream (a reply, an assignment, a close)
// refetches the rows shown through live.js's coalescing, as the inbox
// does, keeping what the lead picked, an answer form she opened, and a
// confirmation she was asked. Every string goes in through h() as text.
import { api } from './api.js';
import { h, replace, when, contactName } from './dom.js';
import { errorText, say } from './notice.js';
import { href } from './routes.js';
import { coalesced, listen, whileShown } from './live.js';

const LIVE_MS = 500; // at most two live refetches a second, as the inbox
const PAGE_MAX = 100; // the server's largest page (limit)

const FILTERS = ['campaign', 'tag', 'volunteer', 'state', 'flagged', 'from', 'to', 'q'];

async function optionsData() {
  const get = (path) => api('GET', path).catch(() => []);
  const [campaigns, tags, users] = await Promise.all([
    get('/api/outreach/campaigns'),
    get('/api/tags/all'),
    get('/api/users'),
  ]);
  return { campaigns, tags, users: users.filter((u) => !u.disabled) };
}

function select(id, label, first, items) {
  return h(
    'div',
    { class: 'filter-field' },
    h('label', { for: id }, label),
    h(
      'select',
      { id, name: id.replace('review-', '') },
      h('option', { value: '' }, first),
      items.map(([value, text]) => h('option', { value }, text)),
    ),
  );
}

function input(id, label, attrs) {
  return h(
    'div',
    { class: 'filter-field' },
    h('label', { for: id }, label),
    h('input', { id, name: id.replace('review-', ''), ...attrs }),
  );
}

const personName = (u) => u.display_name || u.email;

/** The Message review page for a lead or admin. */
export async function reviewPage() {
  const el = h('section', { class: 'leads review' }, h('h2', {}, 'Message review'));
  const opts = await optionsData();
  const msg = h('div', { class: 'review-msg', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'review-filters', id: 'review-filters' },
    select(
      'review-campaign',
      'Campaign',
      'Any campaign',
      opts.campaigns.map((c) => [c.id, c.name]),
    ),
    select(
      'review-tag',
      'Tag',
      'Any tag',
      opts.tags.map((t) => [t.id, t.name]),
    ),
    select('review-volunteer', 'Volunteer', 'Anyone', [
      ['none', 'Nobody (waiting)'],
      ...opts.users.map((u) => [u.id, personName(u)]),
    ]),
    select('review-state', 'State', 'Any state', [
      ['open', 'Open'],
      ['closed', 'Closed'],
    ]),
    select('review-flagged', 'Likely opt-out', 'Either', [
      ['true', 'Flagged'],
      ['false', 'Not flagged'],
    ]),
    input('review-from', 'Active from', { type: 'date' }),
    input('review-to', 'to', { type: 'date' }),
    input('review-q', 'Last message contains', { type: 'search', maxlength: 100, placeholder: 'words' }),
    h('div', { class: 'filter-actions' }, h('button', { class: 'primary', type: 'submit' }, 'Show')),
  );

  // rows: shown, newest first; next: the cursor after them; qs: the
  // filters of the last load (a live refetch uses those, not fields being
  // edited); gen: bumped by every load, so an answer that a later load
  // overtook is dropped; shown: each row's data and node by id.
  const state = { rows: [], next: null, qs: '', gen: 0 };
  const shown = new Map();
  const list = h('div', { class: 'review-list', id: 'review-list' });
  const more = h('button', { type: 'button', id: 'review-more', hidden: true }, 'Show more');
  const pageAll = h('input', { type: 'checkbox', id: 'review-all' });
  const count = h('span', { class: 'muted', id: 'review-count' }, '0 selected');
  const assignee = h(
    'select',
    { id: 'review-assignee', 'aria-label': 'Reassign to' },
    h('option', { value: '' }, 'Reassign to…'),
    opts.users.map((u) => h('option', { value: u.id }, personName(u))),
  );
  const reassignBtn = h('button', { type: 'button', id: 'review-reassign', disabled: true }, 'Reassign');
  const closeBtn = h('button', { type: 'button', id: 'review-close', disabled: true }, 'Close');
  const confirmBox = h('div', { class: 'confirm', id: 'review-confirm', hidden: true });
  const bulk = h(
    'div',
    { class: 'review-bulk' },
    h('label', { class: 'check' }, pageAll, ' All on this page'),
    count,
    assignee,
    reassignBtn,
    closeBtn,
  );

  const picked = () => [...list.querySelectorAll('input.pick:checked')].map((c) => Number(c.value));
  // The bulk bar follows the rows picked; a change the lead makes also
  // takes back a confirmation asked about the old pick (a live refetch
  // does not: the confirmation names the ids it was asked for).
  function countPicked() {
    const n = picked().length;
    const boxes = list.querySelectorAll('input.pick');
    count.textContent = `${n} selected`;
    pageAll.checked = boxes.length > 0 && n === boxes.length;
    reassignBtn.disabled = n === 0 || !assignee.value;
    closeBtn.disabled = n === 0;
  }
  function updateBulk() {
    countPicked();
    confirmBox.hidden = true;
  }
  pageAll.addEventListener('change', () => {
    for (const c of list.querySelectorAll('input.pick')) c.checked = pageAll.checked;
    updateBulk();
  });
  assignee.addEventListener('change', updateBulk);

  function filters() {
    const p = new URLSearchParams();
    for (const name of FILTERS) {
      const v = form.elements[name].value.trim();
      if (v) p.set(name, v);
    }
    return p;
  }
  const get = (p) => {
    const qs = p.toString();
    return api('GET', `/api/review/conversations${qs ? `?${qs}` : ''}`);
  };

  // Draws state.rows. keep: a row whose data did not change keeps its node
  // (its pick, an open answer form) and a changed one its pick; otherwise
  // every row is drawn afresh, unpicked (a new search, after a bulk action).
  function draw(keep) {
    const before = keep ? new Map(shown) : new Map();
    shown.clear();
    const nodes = state.rows.map((c) => {
      const data = JSON.stringify(c);
      const old = before.get(c.id);
      if (old && old.data === data) {
        shown.set(c.id, old);
        return old.node;
      }
      const node = row(c);
      if (old && old.node.querySelector('input.pick').checked) node.querySelector('input.pick').checked = true;
      shown.set(c.id, { data, node });
      return node;
    });
    // "All on this page" is every row shown, "Show more" included (the
    // server takes at most 500 ids at once and says so).
    replace(list, nodes.length ? nodes : h('p', { class: 'muted' }, 'No conversation matches.'));
    more.hidden = !state.next;
    if (keep) countPicked();
    else updateBulk();
  }

  async function load(append) {
    const p = append ? new URLSearchParams(state.qs) : filters();
    if (append) p.set('before', state.next);
    const gen = ++state.gen;
    let r;
    try {
      r = await get(p);
    } catch (e) {
      say(msg, errorText(e), 'error');
      return;
    }
    if (gen !== state.gen) return;
    if (!append) {
      say(msg, null);
      state.qs = p.toString();
    }
    state.rows = append ? state.rows.concat(r.conversations) : r.conversations;
    state.next = r.next;
    draw(append);
  }

  // A live refetch: the rows shown (up to the server's largest page) with
  // the last load's filters; rows past them, from "Show more", stay.
  async function refresh() {
    const p = new URLSearchParams(state.qs);
    p.set('limit', String(Math.min(PAGE_MAX, Math.max(50, state.rows.length))));
    const gen = state.gen;
    const r = await get(p); // an error waits for the next event
    if (gen !== state.gen) return; // a load overtook it
    const fetched = r.conversations;
    if (r.next && fetched.length) {
      const last = fetched[fetched.length - 1].id;
      const tail = state.rows.filter((c) => c.id < last);
      state.rows = fetched.concat(tail);
      state.next = tail.length ? state.next : r.next;
    } else {
      state.rows = fetched;
      state.next = r.next;
    }
    draw(true);
  }
  const live = coalesced(refresh, LIVE_MS);
  listen('conversation', live, whileShown(el));
  listen('resync', live, whileShown(el));

  function row(c) {
    const last = c.last_message;
    return h(
      'div',
      { class: 'review-row', 'data-id': c.id },
      h('input', {
        type: 'checkbox',
        class: 'pick',
        value: c.id,
        'aria-label': `Select ${contactName(c)}`,
        onchange: updateBulk,
      }),
      h(
        'div',
        { class: 'review-main' },
        h(
          'div',
          { class: 'review-head' },
          h('a', { href: href('conversation', { id: c.id }) }, contactName(c)),
          h('span', { class: `state state-${c.state}` }, c.state),
          c.likely_opt_out ? h('span', { class: 'state state-flagged' }, 'likely opt-out') : null,
          h('span', { class: 'muted' }, c.assignee ? c.assignee.display_name : 'waiting'),
          h('span', { class: 'muted' }, when(last ? last.at : c.created_at)),
        ),
        last
          ? h('p', { class: 'review-last' }, last.direction === 'inbound' ? '' : 'You: ', last.body)
          : h('p', { class: 'muted' }, 'No messages yet'),
        h(
          'p',
          { class: 'muted review-meta' },
          c.campaign ? `Campaign: ${c.campaign.name}` : null,
          c.tags.length ? ` Tags: ${c.tags.map((t) => t.name).join(', ')}` : null,
        ),
        c.campaign
          ? h(
              'details',
              { class: 'review-answer', ontoggle: (ev) => ev.target.open && answerForm(ev.target, c) },
              h('summary', {}, 'Correct an answer'),
            )
          : null,
      ),
    );
  }

  function ask(text, yes, run) {
    replace(
      confirmBox,
      h('p', {}, text),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            class: 'primary confirm-yes',
            onclick: async () => {
              confirmBox.hidden = true;
              await run();
            },
          },
          yes,
        ),
        h('button', { type: 'button', onclick: () => (confirmBox.hidden = true) }, 'Cancel'),
      ),
    );
    confirmBox.hidden = false;
    confirmBox.scrollIntoView?.({ block: 'nearest' });
  }

  const plural = (n) => `${n} conversation${n === 1 ? '' : 's'}`;
  reassignBtn.addEventListener('click', () => {
    const ids = picked();
    const to = assignee.selectedOptions[0].textContent;
    ask(`Reassign ${plural(ids.length)} to ${to}?`, `Reassign ${ids.length}`, async () => {
      try {
        const r = await api('POST', '/api/review/reassign', { ids, user_id: Number(assignee.value) });
        await load(false);
        say(msg, `${plural(r.ids.length)} now with ${to} (${r.moved} moved).`, 'success');
      } catch (e) {
        say(msg, errorText(e), 'error');
      }
    });
  });
  closeBtn.addEventListener('click', () => {
    const ids = picked();
    ask(`Close ${plural(ids.length)}?`, `Close ${ids.length}`, async () => {
      try {
        const r = await api('POST', '/api/review/close', { ids });
        await load(false);
        const already = r.already_closed ? ` (${r.already_closed} already were)` : '';
        say(msg, `${plural(r.closed)} closed${already}.`, 'success');
      } catch (e) {
        say(msg, errorText(e), 'error');
      }
    });
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(false);
  });
  more.addEventListener('click', () => load(true));
  replace(el, h('h2', {}, 'Message review'), form, msg, bulk, confirmBox, list, more);
  await load(false);
  return el;
}

// The answers of the conversation's campaign, one select per question.
async function answerForm(details, c) {
  if (details.querySelector('form')) return;
  const out = h('div', { class: 'answer-msg' });
  let o;
  try {
    o = await api('GET', `/api/conversations/${c.id}/outreach`);
  } catch (e) {
    details.append(out);
    say(out, errorText(e), 'error');
    return;
  }
  const steps = o.campaign.steps;
  if (!steps.length) {
    details.append(h('p', { class: 'muted' }, 'This campaign asks no questions.'));
    return;
  }
  const form = h(
    'form',
    { class: 'stack' },
    steps.map((s) => {
      const id = `answer-${c.id}-${s.id}`;
      const current = o.answers[s.id];
      return [
        h('label', { for: id }, s.question),
        h(
          'select',
          {
            id,
            'data-step': s.id,
            onchange: async (ev) => {
              const sel = ev.target;
              try {
                const r = await api('POST', `/api/review/conversations/${c.id}/answer`, {
                  step_id: s.id,
                  choice_id: sel.value,
                });
                say(out, r.changed ? 'Answer corrected.' : 'That was already the answer.', 'success');
              } catch (e) {
                say(out, errorText(e), 'error');
              }
            },
          },
          h('option', { value: '', selected: current === undefined }, 'No answer'),
          s.choices.map((ch) => h('option', { value: ch.id, selected: current === ch.id }, ch.label)),
        ),
      ];
    }),
  );
  details.append(form, out);
}
