// SPDX-License-Identifier: AGPL-3.0-or-later
// app.js — the dashboard's shell and its inbox pages: log in, accept an
// invite, the inbox (with "get more" and, for leads, the pool and who
// holds what), and a conversation (thread, reply with a live segment
// counter, canned responses, tags, notes, release, close, opt-out with a
// confirm). Which page a URL fragment shows is routes.js's table (the
// org's pages, #/opt-outs and #/people, are admin.js's); live
// updates come from live.js, coalesced (one refetch in flight, at most
// one queued, at most two a second). A reply's draft is kept in
// sessionStorage per conversation, so a reassignment (or a reload) does
// not lose it.
import { api, setCsrf } from './api.js';
import { h, replace, when, contactName } from './dom.js';
import { errorText, errorBox, flash, takeFlash, say, segmentCounter } from './notice.js';
import { route, href } from './routes.js';
import { connect, disconnect, coalesced } from './live.js';
import { outreachPane, outreachPanel } from './outreach.js';
import { leadNav, leadPage } from './leads.js';
import { adminNav, adminPage } from './admin.js';
import { settingsNav, settingsPage } from './settings.js';
import { reviewPage } from './review.js';
import { accountPage, codeForm, enrolCard } from './account.js';
import { alertBadge } from './audit.js';
import { actingBanner } from './chapters.js';

const root = document.getElementById('app');
// pending: a login whose password was right and whose second step is
// owed ({ stage: 'code' | 'enrol', user }).
const state = { me: null, pending: null, inbox: [], canned: null, tags: null, current: null };

function isLead() {
  return !!state.me && state.me.role !== 'volunteer';
}

function isAdmin() {
  return !!state.me && state.me.role === 'admin';
}

function here() {
  return route(location.hash, isLead(), isAdmin());
}

function go(fragment) {
  if (location.hash !== fragment) location.hash = fragment;
  else render();
}

// --- live updates ---
// Each view a stream event makes stale is refetched through its own
// coalesced trigger: a burst of events costs one refetch in flight and at
// most one queued, and at most one start per LIVE_MS.
const LIVE_MS = 500;
const live = {
  inbox: coalesced(() => refreshInbox(), LIVE_MS),
  conversation: coalesced(async () => {
    if (state.current) await loadConversation(state.current, { quiet: true });
  }, LIVE_MS),
  team: coalesced(() => refreshTeam(), LIVE_MS),
};
window.addEventListener('tocsin:conversation', (ev) => {
  live.inbox();
  if (state.current && ev.detail && ev.detail.conversation_id === state.current) live.conversation();
  if (here().name === 'team') live.team();
});
// The pool changed (a conversation this volunteer may not see): only the
// "N waiting" line is stale.
window.addEventListener('tocsin:waiting', () => live.inbox());
// Events were lost (the stream reconnected): everything on screen is stale.
window.addEventListener('tocsin:resync', () => {
  live.inbox();
  if (state.current) live.conversation();
  if (here().name === 'team') live.team();
});

// --- shell ---
function header() {
  const section = here().section;
  const link = (name, label) => h('a', { href: href(name), 'aria-current': section === name ? 'page' : null }, label);
  const who = state.me.display_name || state.me.email;
  // The header, and while a national admin acts in a chapter its banner
  // (on every page: replace() flattens the pair).
  return [
    h(
      'header',
      { class: 'top' },
      h('a', { href: href('inbox'), class: 'brand' }, 'Tocsin'),
      // Her name opens her Account page (two-factor login, sessions).
      h(
        'a',
        {
          class: 'who',
          href: href('account'),
          title: `Account: ${who}`,
          'aria-label': `Account (${who})`,
          'aria-current': section === 'account' ? 'page' : null,
        },
        who,
      ),
      h(
        'nav',
        {},
        link('inbox', 'Inbox'),
        link('outreach', 'Outreach'),
        isLead() ? link('team', 'Team') : null,
        isLead() ? link('review', 'Review') : null,
        isLead() ? link('blasts', 'Blasts') : null,
        isAdmin()
          ? h('a', { href: href('people'), 'aria-current': section === 'org' ? 'page' : null }, 'Org', alertBadge())
          : null,
        isLead() ? link('settings', 'Settings') : null,
        h('button', { class: 'link', onclick: logout }, 'Log out'),
      ),
    ),
    actingBanner(state.me),
  ];
}

async function logout() {
  try {
    await api('POST', '/api/logout');
  } catch {
    /* the session may be gone already */
  }
  disconnect();
  state.me = null;
  state.pending = null;
  setCsrf('');
  go(href('login'));
}

// --- the login's second step (account.js draws it) ---
// The first page of user (leads and admins: blasts).
function home(user) {
  return href(user.role !== 'volunteer' ? 'blasts' : 'inbox');
}

async function secondStep() {
  const { stage, user } = state.pending;
  const cancel = h('button', { type: 'button', class: 'link', onclick: logout }, 'Cancel and log out');
  if (stage === 'code') {
    const form = codeForm((r, why) => {
      state.pending = null;
      if (!r) {
        flash(why || 'Log in again.', 'warning', { next: true });
        return logout();
      }
      // The page reads the rest of who she is (national, acting) from /api/me.
      state.me = null;
      go(home(r.user));
    });
    form.append(cancel);
    replace(root, h('main', { class: 'center' }, form));
    return;
  }
  const main = h('main', { class: 'center enrol-main' }, h('p', { class: 'loading' }, 'Loading…'));
  replace(root, main);
  const card = await enrolCard(
    'Your organisation requires two-factor login for admins and leads. Set it up now to go on; it takes a minute.',
    () => {
      state.pending = null;
      state.me = null;
      go(home(user));
    },
  );
  card.append(cancel);
  replace(main, card);
}

// --- login ---
function loginPage() {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, id: 'email' });
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
    id: 'password',
  });
  const err = errorBox();
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        try {
          const r = await api('POST', '/api/login', { email: email.value, password: password.value });
          setCsrf(r.csrf_token);
          if (r.stage && r.stage !== 'full') {
            state.pending = { stage: r.stage, user: r.user };
            return secondStep();
          }
          // The page reads the rest of who she is (national, acting) from /api/me.
          state.me = null;
          go(home(r.user));
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    h('h1', {}, 'Tocsin'),
    h('p', { class: 'muted' }, 'Log in to answer the members who wrote back.'),
    h('label', { for: 'email' }, 'Email'),
    email,
    h('label', { for: 'password' }, 'Password'),
    password,
    err,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'),
  );
  replace(root, h('main', { class: 'center' }, h('div', { class: 'login-stack' }, form, ssoForm())));
  email.focus();
}

// Single sign-on: the browser goes to /sso/start, which sends the browser to
// the org's provider (dashboard/sso_flow.c). The org's short name is
// remembered on this device for next time.
function ssoForm() {
  const org = h('input', {
    name: 'org',
    id: 'sso-org',
    required: true,
    maxlength: 64,
    pattern: '[a-z0-9_\\-]{1,64}',
    autocapitalize: 'none',
    autocomplete: 'organization',
    spellcheck: 'false',
    value: localStorage.getItem('tocsin.sso_org') || '',
  });
  return h(
    'form',
    {
      class: 'card login sso',
      // A navigation, not a form's submission: the page's CSP (form-action
      // 'self') would stop the redirect on to the provider.
      onsubmit: (ev) => {
        ev.preventDefault();
        const slug = org.value.trim().toLowerCase();
        localStorage.setItem('tocsin.sso_org', slug);
        location.assign(`/sso/start?org=${encodeURIComponent(slug)}`);
      },
    },
    h('h2', {}, 'Single sign-on'),
    h('p', { class: 'muted' }, 'If your organisation lets you sign in with its own login, give its short name.'),
    h('label', { for: 'sso-org' }, 'Organisation'),
    org,
    h('button', { type: 'submit' }, 'Sign in with your organisation'),
  );
}

// --- invite ---
async function invitePage(token) {
  let invite;
  try {
    invite = await api('POST', '/api/invite/show', { token });
  } catch (e) {
    replace(
      root,
      h(
        'main',
        { class: 'center' },
        h(
          'div',
          { class: 'card' },
          h('h1', {}, 'Invite'),
          h(
            'p',
            {},
            e.status === 404
              ? 'This invite link has expired or was already used. Ask your organiser for a new one.'
              : errorText(e),
          ),
          h('a', { href: href('login') }, 'Go to log in'),
        ),
      ),
    );
    return;
  }
  // A password reset (an admin's link for an existing user): her name is kept.
  const name = h('input', {
    id: 'name',
    autocomplete: 'name',
    required: !invite.reset,
    value: invite.reset ? invite.display_name : undefined,
  });
  const email = invite.email
    ? null
    : h('input', { id: 'invite-email', type: 'email', autocomplete: 'username', required: true });
  const pw = h('input', {
    id: 'new-password',
    type: 'password',
    autocomplete: 'new-password',
    minlength: 10,
    required: true,
  });
  const err = errorBox();
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await api('POST', '/api/invite/accept', {
            token,
            display_name: name.value,
            email: email ? email.value : undefined,
            password: pw.value,
          });
          flash(
            invite.reset
              ? 'Your new password is set. Log in with it.'
              : 'Your account is ready. Log in with your new password.',
            'success',
          );
          go(href('login'));
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    invite.reset ? h('h1', {}, 'New password for ', invite.org) : h('h1', {}, 'Join ', invite.org),
    h(
      'p',
      { class: 'muted' },
      invite.reset
        ? `An admin reset the password of ${invite.email}. Choose a new one.`
        : `You are invited as ${invite.role}${invite.email ? ` (${invite.email})` : ''}. Choose your name and password.`,
    ),
    h('label', { for: 'name' }, 'Your name'),
    name,
    email ? [h('label', { for: 'invite-email' }, 'Email'), email] : null,
    h('label', { for: 'new-password' }, 'Password (at least 10 characters)'),
    pw,
    err,
    h('button', { type: 'submit', class: 'primary' }, invite.reset ? 'Set my password' : 'Create my account'),
  );
  replace(root, h('main', { class: 'center' }, form));
}

// --- inbox ---
async function refreshInbox() {
  let waiting;
  try {
    [state.inbox, waiting] = await Promise.all([
      api('GET', '/api/conversations'),
      api('GET', '/api/conversations/waiting'),
    ]);
  } catch (e) {
    if (e.status === 401) return go(href('login'));
    flash(errorText(e));
    return;
  }
  const list = document.getElementById('inbox-list');
  if (list) replace(list, inboxItems());
  const w = document.getElementById('waiting');
  if (w)
    replace(
      w,
      waiting.waiting
        ? `${waiting.waiting} member${waiting.waiting > 1 ? 's' : ''} waiting for an answer`
        : 'Nobody is waiting in the queue',
    );
}

function inboxItems() {
  if (!state.inbox.length)
    return h('li', { class: 'empty' }, 'No conversations assigned to you. Tap “Get more” to take some from the queue.');
  return state.inbox.map((c) =>
    h(
      'li',
      { class: `item${state.current === c.id ? ' active' : ''}` },
      h(
        'a',
        { href: href('conversation', { id: c.id }), 'data-conversation': c.id },
        h('span', { class: 'name' }, contactName(c)),
        h('span', { class: 'time' }, when(c.last_message ? c.last_message.at : c.created_at)),
        h(
          'span',
          { class: 'preview' },
          c.last_message ? `${c.last_message.direction === 'outbound' ? 'You: ' : ''}${c.last_message.body}` : '',
        ),
        c.likely_opt_out ? h('span', { class: 'badge warn' }, 'may want to stop') : null,
        c.unread ? h('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, c.unread) : null,
      ),
    ),
  );
}

function inboxPane() {
  // The count has a visible name: a bare "5" beside "Get more" says nothing.
  const count = h(
    'select',
    { id: 'claim-count' },
    [5, 10, 20].map((n) => h('option', { value: n }, n)),
  );
  return h(
    'section',
    { class: 'inbox' },
    h(
      'div',
      { class: 'inbox-head' },
      h('h2', {}, 'My conversations'),
      h(
        'div',
        { class: 'claim' },
        h('label', { for: 'claim-count', class: 'muted' }, 'How many'),
        count,
        h(
          'button',
          {
            class: 'primary',
            id: 'get-more',
            onclick: async () => {
              try {
                const r = await api('POST', '/api/conversations/claim', { count: Number(count.value) });
                const atCap = r.cap != null && r.held >= r.cap;
                if (r.claimed.length)
                  flash(`You took ${r.claimed.length} new conversation${r.claimed.length > 1 ? 's' : ''}.`, 'success');
                else
                  flash(
                    atCap
                      ? `You hold ${r.held} conversations, the most one volunteer may (${r.cap}). Close or release some to take more.`
                      : 'The queue is empty — nobody is waiting for an answer.',
                  );
                await refreshInbox();
              } catch (e) {
                flash(errorText(e));
              }
            },
          },
          'Get more',
        ),
      ),
    ),
    h('p', { class: 'muted waiting', id: 'waiting' }),
    h('ul', { class: 'list', id: 'inbox-list' }, inboxItems()),
  );
}

// --- conversation ---
function fill(text, contact) {
  return text
    .replace(/\{first_name\}/g, contact.first_name || 'there')
    .replace(/\{last_name\}/g, contact.last_name || '');
}

// Unsent replies, per conversation, for this tab only (sessionStorage):
// they survive a reload and a reassignment, and come back with the
// conversation.
const draftKey = (id) => `tocsin:draft:${id}`;
function savedDraft(id) {
  try {
    return sessionStorage.getItem(draftKey(id)) || '';
  } catch {
    return '';
  }
}
function saveDraft(id, text) {
  try {
    if (text.trim()) sessionStorage.setItem(draftKey(id), text);
    else sessionStorage.removeItem(draftKey(id));
  } catch {
    /* storage full or refused: the textarea still has it */
  }
}

async function copyText(text, area) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    area.select();
    return document.execCommand('copy');
  }
}

// What a volunteer sees when a conversation is no longer hers: who took
// it (when a lead reassigned it), her draft to copy, and the way back.
async function goneCard(id) {
  const info = await api('GET', `/api/conversations/${id}/handoff`).catch(() => null);
  const draft = savedDraft(id);
  const copied = h('span', { class: 'muted', id: 'copy-status', role: 'status' });
  const area = draft ? h('textarea', { id: 'kept-draft', readonly: true, rows: 3, value: draft }) : null;
  return h(
    'div',
    { class: 'card gone', id: 'gone' },
    h(
      'p',
      { id: 'gone-why' },
      info ? `Reassigned to ${info.to} by ${info.by}.` : 'This conversation is not yours (or no longer exists).',
    ),
    draft
      ? [
          h('p', { class: 'muted' }, 'Your unsent reply is kept: it comes back if the conversation does.'),
          area,
          h(
            'div',
            { class: 'row' },
            h(
              'button',
              {
                id: 'copy-draft',
                onclick: async () =>
                  replace(copied, (await copyText(draft, area)) ? 'Copied.' : 'Select the text to copy it.'),
              },
              'Copy my draft',
            ),
            copied,
          ),
        ]
      : null,
    h('button', { class: 'primary', id: 'back-to-inbox', onclick: () => go(href('inbox')) }, 'Back to inbox'),
  );
}

async function loadConversation(id, opts = {}) {
  const pane = document.getElementById('detail');
  if (!pane) return;
  let c, outreach;
  try {
    // The outreach campaign the conversation came from (null: none) is
    // read beside it: its panel, and which campaign's canned responses and
    // tags the menus offer.
    [c, outreach] = await Promise.all([
      api('GET', `/api/conversations/${id}`),
      api('GET', `/api/conversations/${id}/outreach`).catch(() => null),
    ]);
  } catch (e) {
    if (e.status === 401) return go(href('login'));
    const card = e.status === 404 ? await goneCard(id) : h('div', { class: 'card' }, errorText(e));
    if (state.current === id) replace(pane, card);
    return;
  }
  if (state.current !== id) return; // the volunteer moved on meanwhile
  if (!state.canned) state.canned = await api('GET', '/api/canned-responses').catch(() => []);
  if (!state.tags) state.tags = await api('GET', '/api/tags').catch(() => []);
  const draft = document.getElementById('reply');
  const keep = opts.quiet && draft ? draft.value : savedDraft(id);
  const note = document.getElementById('note');
  const keepNote = opts.quiet && note ? note.value : '';
  c.campaign_id = outreach ? outreach.campaign.id : null;
  replace(pane, conversationView(c, keep));
  if (keepNote) document.getElementById('note').value = keepNote;
  outreachPanel(id, document.getElementById('reply'), outreach).then((p) => {
    if (p) document.querySelector('.composer')?.before(p);
  });
  const thread = document.getElementById('thread');
  if (thread) thread.scrollTop = thread.scrollHeight;
  if (c.unread && c.state === 'open') {
    api('POST', `/api/conversations/${id}/read`)
      .then(refreshInbox)
      .catch(() => {});
  }
}

// What an outbound message that is not a volunteer's reply was: the blast
// or outreach the member may be answering, or an automatic answer.
const KINDS = {
  blast: (src) => `Blast${src ? `: ${src}` : ''}`,
  outreach: (src) => `Outreach${src ? `: ${src}` : ''}`,
  confirmation: () => 'Keyword confirmation',
  opt_out_confirmation: () => 'Opt-out confirmation',
  help: () => 'Help answer',
};

function bubble(m) {
  const out = m.direction === 'outbound';
  const stateLabel =
    {
      queued: 'waiting to send',
      sending: 'sending',
      sent: 'sent',
      delivered: 'delivered',
      undelivered: 'not delivered',
      failed: 'failed',
      unknown: 'unknown',
      suppressed: 'not sent (opted out)',
      cancelled: 'cancelled',
    }[m.state] || m.state;
  const kind = out && KINDS[m.kind] ? KINDS[m.kind](m.source) : null;
  return h(
    'li',
    { class: `msg ${out ? 'out' : 'in'}${kind ? ' context' : ''}`, 'data-kind': m.kind, 'data-state': m.state },
    kind ? h('span', { class: 'kind' }, kind) : null,
    h('p', { class: 'body' }, m.body),
    h('span', { class: 'meta' }, when(m.at), out ? ` · ${m.sent_by ? `${m.sent_by} · ` : ''}${stateLabel}` : ''),
  );
}

function conversationView(c, draftText) {
  const contact = c.contact;
  const open = c.state === 'open';
  const optedOut = contact.opted_out;
  const reply = h('textarea', {
    id: 'reply',
    rows: 3,
    maxlength: 1600,
    placeholder: optedOut ? 'This member opted out.' : 'Write a reply…',
    disabled: !open || optedOut,
    value: draftText,
  });
  const count = segmentCounter(reply, { id: 'counter' });
  reply.addEventListener('input', () => saveDraft(c.id, reply.value));
  const err = errorBox();
  // No menu at all when none is offered here.
  const cannedHere = ofCampaign(state.canned, c);
  const canned = cannedHere.length
    ? h(
        'select',
        {
          id: 'canned',
          'aria-label': 'Canned responses',
          disabled: !open || optedOut,
          onchange: () => {
            const r = state.canned.find((x) => String(x.id) === canned.value);
            if (r) {
              reply.value = fill(r.body, contact);
              count.update();
              saveDraft(c.id, reply.value);
              reply.focus();
            }
            canned.value = '';
          },
        },
        h('option', { value: '' }, 'Insert a canned response…'),
        cannedHere.map((r) => h('option', { value: r.id }, sharedLabel(r, r.title))),
      )
    : null;
  const send = h('button', { class: 'primary', id: 'send', type: 'submit', disabled: !open || optedOut }, 'Send');
  const composer = h(
    'form',
    {
      class: 'composer',
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (!reply.value.trim()) return;
        send.disabled = true;
        try {
          await api('POST', `/api/conversations/${c.id}/reply`, { body: reply.value });
          reply.value = '';
          saveDraft(c.id, '');
          await loadConversation(c.id);
          refreshInbox();
        } catch (e) {
          replace(err, errorText(e));
          send.disabled = false;
        }
      },
    },
    canned,
    reply,
    h('div', { class: 'row' }, count.el, send),
    err,
  );

  const confirmBox = h(
    'div',
    { class: 'confirm', id: 'optout-confirm', hidden: true },
    h(
      'p',
      {},
      `Opt out ${contactName(contact)}? They will get no more texts from us, including this conversation. Nothing is sent to them.`,
    ),
    h(
      'button',
      {
        class: 'danger',
        id: 'optout-yes',
        onclick: () => act(c.id, 'opt-out', 'Opted out. No more texts will go to this number.'),
      },
      'Yes, opt out',
    ),
    h(
      'button',
      {
        onclick: () => {
          confirmBox.hidden = true;
        },
      },
      'Cancel',
    ),
  );
  const askOptOut = () => {
    confirmBox.hidden = false;
    document.getElementById('optout-yes').focus();
  };

  const tagSelect = h(
    'select',
    {
      'aria-label': 'Add a tag',
      onchange: async () => {
        if (!tagSelect.value) return;
        await act(c.id, 'tags', null, { tag_id: Number(tagSelect.value) });
      },
    },
    h('option', { value: '' }, '+ tag'),
    ofCampaign(state.tags, c)
      .filter((t) => !c.tags.some((x) => x.id === t.id))
      .map((t) => h('option', { value: t.id }, sharedLabel(t, t.name))),
  );
  const note = h('input', {
    id: 'note',
    placeholder: 'Add a note for the team (not sent)',
    maxlength: 2000,
    'aria-label': 'Note for the team',
  });
  const noteStatus = h('div', { id: 'note-status' });
  // The masked number is the heading when the member has no name: once.
  const named = contact.first_name || contact.last_name;

  return h(
    'article',
    { class: 'conversation' },
    h(
      'div',
      { class: 'conv-head' },
      h('a', { href: href('inbox'), class: 'back', 'aria-label': 'Back to inbox' }, '‹'),
      h(
        'div',
        {},
        h('h2', {}, contactName(contact)),
        h(
          'p',
          { class: 'muted' },
          [named ? contact.phone : null, contact.zip].filter(Boolean).join(' · '),
          optedOut ? h('span', { class: 'badge warn' }, 'opted out') : null,
          open ? null : h('span', { class: 'badge' }, 'closed'),
        ),
      ),
      h(
        'details',
        { class: 'menu' },
        h('summary', { 'aria-label': 'More actions' }, '⋯'),
        h(
          'div',
          { class: 'menu-items' },
          open
            ? h(
                'button',
                { id: 'release', onclick: () => act(c.id, 'release', 'Released back to the queue.', undefined, true) },
                'Release to queue',
              )
            : null,
          open
            ? h(
                'button',
                { id: 'close', onclick: () => act(c.id, 'close', 'Conversation closed.', undefined, true) },
                'Close conversation',
              )
            : null,
          optedOut ? null : h('button', { class: 'danger', id: 'optout', onclick: askOptOut }, 'Opt out this member…'),
        ),
      ),
    ),
    c.likely_opt_out && !optedOut
      ? h(
          'div',
          { class: 'banner', id: 'likely-optout' },
          h('p', {}, 'This reply reads like they want to stop getting texts.'),
          h('button', { class: 'danger', onclick: askOptOut }, 'Confirm opt-out'),
          h('button', { onclick: () => act(c.id, 'keep', 'Kept: not an opt-out.') }, 'Not an opt-out'),
        )
      : null,
    confirmBox,
    Object.keys(contact.fields || {}).length
      ? h(
          'dl',
          { class: 'fields' },
          Object.entries(contact.fields).map(([k, v]) => [
            h('dt', {}, k),
            h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v)),
          ]),
        )
      : null,
    h(
      'div',
      { class: 'tags' },
      c.tags.map((t) =>
        h(
          'span',
          { class: 'chip' },
          t.name,
          h(
            'button',
            {
              'aria-label': `Remove tag ${t.name}`,
              onclick: () => act(c.id, `tags/${t.id}`, null, undefined, false, 'DELETE'),
            },
            '×',
          ),
        ),
      ),
      state.tags.length ? tagSelect : null,
    ),
    h('ol', { class: 'thread', id: 'thread' }, c.messages.map(bubble)),
    composer,
    h(
      'section',
      { class: 'notes' },
      h('h3', {}, 'Notes'),
      h(
        'ul',
        {},
        c.notes.map((n) => h('li', {}, h('p', {}, n.body), h('span', { class: 'meta' }, `${n.by} · ${when(n.at)}`))),
      ),
      h(
        'form',
        {
          class: 'note-form',
          onsubmit: async (ev) => {
            ev.preventDefault();
            if (!note.value.trim()) return;
            try {
              await api('POST', `/api/conversations/${c.id}/notes`, { body: note.value });
            } catch (e) {
              say(noteStatus, errorText(e), 'error');
              return;
            }
            await loadConversation(c.id);
            const saved = document.getElementById('note-status');
            if (saved) say(saved, 'Saved.', 'success');
          },
        },
        note,
        h('div', { class: 'row' }, h('button', { type: 'submit', id: 'save-note' }, 'Save note'), noteStatus),
      ),
    ),
  );
}

async function act(id, what, message, body, leave, method = 'POST') {
  try {
    await api(method, `/api/conversations/${id}/${what}`, body);
    await refreshInbox();
    if (leave) go(href('inbox'));
    else await loadConversation(id);
    if (message) flash(message, 'success'); // once the view shows what it says
  } catch (e) {
    flash(errorText(e));
  }
}

// The canned responses or tags a conversation's menus offer: the org's,
// and those of the outreach campaign it came from (settings.js manages
// them; retired ones and closed campaigns' never reach these lists).
function ofCampaign(list, c) {
  return list.filter((x) => !x.campaign_id || x.campaign_id === c.campaign_id);
}

// A menu entry: a campaign's own carry its name.
function sharedLabel(x, text) {
  return x.campaign ? `${x.campaign}: ${text}` : text;
}

// --- team (leads) ---
async function teamPane() {
  const pane = h('section', { class: 'team' }, h('h2', {}, 'Team'));
  let pool, all, users;
  try {
    [pool, all, users] = await Promise.all([
      api('GET', '/api/conversations/pool'),
      api('GET', '/api/conversations/all'),
      api('GET', '/api/users'),
    ]);
  } catch (e) {
    pane.append(errorBox(errorText(e)));
    return pane;
  }
  pane.append(
    h('p', {}, h('strong', {}, pool.waiting), ' waiting for a volunteer.'),
    h('h3', {}, 'Who holds what'),
    h(
      'ul',
      { class: 'list' },
      pool.holders.length
        ? pool.holders.map((u) =>
            h(
              'li',
              { class: 'item' },
              h('span', { class: 'name' }, u.display_name || u.email),
              h('span', { class: 'badge' }, u.open),
            ),
          )
        : h('li', { class: 'empty' }, 'Nobody holds a conversation.'),
    ),
    h('h3', {}, 'Open conversations'),
    h(
      'ul',
      { class: 'list' },
      all.map((c) => {
        // Picking a name only asks; the reassignment waits for "Yes".
        const ask = h('div', { class: 'confirm assign-confirm', hidden: true });
        const sel = h(
          'select',
          {
            'aria-label': `Assign ${contactName(c)}`,
            'data-conversation': c.id,
            onchange: () => {
              const u = users.find((x) => String(x.id) === sel.value);
              if (!u) {
                ask.hidden = true;
                return;
              }
              const to = u.display_name || u.email;
              replace(
                ask,
                h(
                  'p',
                  {},
                  `Reassign ${contactName(c)} to ${to}?`,
                  c.assignee ? ` ${c.assignee.display_name} will no longer have it.` : '',
                ),
                h(
                  'button',
                  {
                    class: 'primary',
                    'data-confirm': 'assign',
                    onclick: async () => {
                      try {
                        await api('POST', `/api/conversations/${c.id}/assign`, { user_id: u.id });
                        flash(`Reassigned ${contactName(c)} to ${to}.`, 'success');
                        refreshTeam(true);
                      } catch (e) {
                        flash(errorText(e));
                      }
                    },
                  },
                  `Yes, reassign to ${to}`,
                ),
                h(
                  'button',
                  {
                    onclick: () => {
                      sel.value = '';
                      ask.hidden = true;
                    },
                  },
                  'Cancel',
                ),
              );
              ask.hidden = false;
            },
          },
          h('option', { value: '' }, c.assignee ? c.assignee.display_name : 'Unassigned'),
          users
            .filter((u) => !u.disabled && (!c.assignee || u.id !== c.assignee.id))
            .map((u) => h('option', { value: u.id }, `→ ${u.display_name || u.email}`)),
        );
        return h(
          'li',
          { class: 'item' },
          h(
            'a',
            { href: href('conversation', { id: c.id }) },
            h('span', { class: 'name' }, contactName(c)),
            h('span', { class: 'preview' }, c.last_message ? c.last_message.body : ''),
          ),
          sel,
          ask,
        );
      }),
    ),
  );
  if (state.me.role === 'admin') pane.append(inviteForm());
  return pane;
}

// The team pane again, in place (the page's message stays). A live update
// waits while the lead is confirming a reassignment.
async function refreshTeam(force) {
  if (!force && document.querySelector('.assign-confirm:not([hidden])')) return;
  const pane = await teamPane();
  const detail = document.getElementById('detail');
  if (detail && here().name === 'team') replace(detail, pane);
}

function inviteForm() {
  const email = h('input', { id: 'invite-for', type: 'email', placeholder: 'new.volunteer@example.org' });
  const role = h(
    'select',
    { id: 'invite-role', 'aria-label': 'Role' },
    ['volunteer', 'lead', 'admin'].map((r) => h('option', { value: r }, r)),
  );
  const out = h('div', { class: 'invite-out' });
  return h(
    'form',
    {
      class: 'invite',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const r = await api('POST', '/api/invites', { email: email.value || undefined, role: role.value });
          replace(
            out,
            h('p', {}, 'Send this link to the new member of the team (it works once, for 7 days):'),
            h('input', { readonly: true, value: r.url, id: 'invite-url', onfocus: (e) => e.target.select() }),
          );
        } catch (e) {
          replace(out, errorBox(errorText(e)));
        }
      },
    },
    h('h3', {}, 'Invite someone'),
    h('div', { class: 'row' }, email, role, h('button', { class: 'primary', type: 'submit' }, 'Create link')),
    out,
  );
}

// --- router ---
async function ensureMe() {
  if (state.me) return true;
  try {
    const r = await api('GET', '/api/me');
    setCsrf(r.csrf_token);
    if (r.stage && r.stage !== 'full') {
      state.pending = { stage: r.stage, user: r.user };
      return false;
    }
    // national: the org may have chapters; acting: the chapter this
    // national admin acts in now (chapters.js), shown on every page.
    state.me = { ...r.user, national: r.national, acting: r.acting };
    return true;
  } catch {
    return false;
  }
}

async function render() {
  const fragment = location.hash;
  // An invite link is #token=...: the fragment never reaches a server or
  // its logs, and the page sends the token only in a POST body.
  const pre = route(fragment);
  if (pre.name === 'invite') return invitePage(pre.params.token);
  const ok = pre.name !== 'login' && (await ensureMe());
  if (!ok && pre.name !== 'login' && state.pending) {
    disconnect();
    return secondStep();
  }
  if (!ok) {
    disconnect();
    loginPage();
    const kept = takeFlash();
    if (kept) root.querySelector('form').prepend(kept);
    return;
  }
  connect();
  const r = here();
  state.current = r.name === 'conversation' ? r.params.id : null;
  const flashArea = h('div', { id: 'flash' }, takeFlash());
  if (r.view === 'leads' || r.view === 'settings') {
    const main = h('main', { class: 'leads-main' }, h('p', { class: 'loading' }, 'Loading…'));
    const nav = r.view === 'leads' ? leadNav(r) : settingsNav(r, state.me);
    replace(root, header(), flashArea, nav, main);
    const content = await (r.view === 'leads' ? leadPage(r, state.me) : settingsPage(r, state.me));
    if (location.hash === fragment) replace(main, content);
    return;
  }
  if (r.view === 'review') {
    const main = h('main', { class: 'leads-main' }, h('p', { class: 'loading' }, 'Loading…'));
    replace(root, header(), flashArea, main);
    const content = await reviewPage();
    if (location.hash === fragment) replace(main, content);
    return;
  }
  if (r.view === 'account') {
    const main = h('main', { class: 'leads-main' }, h('p', { class: 'loading' }, 'Loading…'));
    replace(root, header(), flashArea, main);
    const content = await accountPage(state.me, () => {
      state.me = null; // the stage may have changed (two-factor login turned off)
      render();
    });
    if (location.hash === fragment) replace(main, content);
    return;
  }
  if (r.view === 'admin') {
    const main = h('main', { class: 'leads-main' }, h('p', { class: 'loading' }, 'Loading…'));
    replace(root, header(), flashArea, adminNav(r, state.me), main);
    const content = await adminPage(r, state.me);
    if (location.hash === fragment) replace(main, content);
    return;
  }
  const detail = h(
    'div',
    { id: 'detail', class: 'detail' },
    h('div', { class: 'placeholder' }, h('p', {}, 'Pick a conversation on the left, or tap “Get more”.')),
  );
  const layout = h('div', { class: 'layout' }, inboxPane(), detail);
  replace(root, header(), flashArea, layout);
  refreshInbox();
  if (r.name === 'inbox') return;
  layout.classList.add('has-detail');
  if (r.name === 'conversation') loadConversation(r.params.id);
  else if (r.name === 'team') replace(detail, await teamPane());
  else if (r.view === 'outreach') replace(detail, await outreachPane(state.me, r));
}

window.addEventListener('hashchange', render);
render();
