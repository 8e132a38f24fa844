// SPDX-License-Identifier: AGPL-3.0-or-later
// chapters.js — a national admin's Chapters page (#/chapters): her org's
// chapters (members, senders, people, admins, the region their numbers
// are read in), a chapter created, its first admin invited (the link
// shown once), and entering a chapter, which asks for a reason and a
// window and is recorded in both orgs; and the banner every page shows
// while she acts in one, with "Leave". The rules are the server's
// (schema/functions/chapters.sql); entering or leaving reloads the app,
// so nothing of one org stays on screen in the other.
import { api } from './api.js';
import { h, replace, when } from './dom.js';
import { errorText, showLink } from './notice.js';
import { href } from './routes.js';

const WINDOWS = [30, 60, 120, 240]; // minutes; the server takes 5 to 240
let windowEnd = null; // the timer that starts over when the window ends

function errorBox(id) {
  return h('p', { class: 'error', role: 'alert', id });
}

// The app starts over in the org the session now resolves to.
function startOver() {
  location.hash = href('inbox');
  location.reload();
}

/** The banner of a session acting in a chapter (me.acting from /api/me),
 * or null; when the window ends the app starts over at home. */
export function actingBanner(me) {
  const a = me && me.acting;
  clearTimeout(windowEnd);
  if (!a) return null;
  const left = new Date(a.until).getTime() - Date.now();
  windowEnd = setTimeout(startOver, Math.max(0, Math.min(left + 1000, 2 ** 31 - 1)));
  const err = h('span', { class: 'error', role: 'alert' });
  return h(
    'div',
    { class: 'acting-banner', id: 'acting-banner', role: 'status' },
    h(
      'span',
      {},
      'Acting in ',
      h('strong', {}, a.org.name),
      ` as national admin of ${a.home}, until ${when(a.until)} — `,
    ),
    h(
      'button',
      {
        type: 'button',
        id: 'acting-leave',
        class: 'link',
        onclick: async () => {
          replace(err);
          try {
            await api('POST', '/api/chapters/leave');
            startOver();
          } catch (e) {
            replace(err, errorText(e));
          }
        },
      },
      'leave',
    ),
    err,
  );
}

/** The Chapters page of a national admin. */
export async function chaptersPage() {
  const holder = h('ul', { class: 'list', id: 'chapters' });
  const err = errorBox('chapters-error');
  const linkOut = h('div', { id: 'chapter-link', role: 'status' });
  const refresh = async () => {
    try {
      const d = await api('GET', '/api/chapters');
      replace(
        holder,
        d.chapters.length
          ? d.chapters.map((c) => chapterItem(c, d.default_phone_region, linkOut, refresh))
          : h('li', { class: 'muted' }, 'No chapters yet.'),
      );
    } catch (e) {
      replace(err, errorText(e));
    }
  };
  const el = h(
    'section',
    { class: 'leads admin' },
    h('h2', {}, 'Chapters'),
    h(
      'p',
      { class: 'muted' },
      'Each chapter runs itself: its own members, senders, people and settings. You see its data only after entering it, with a reason recorded here and in the chapter.',
    ),
    createCard(refresh),
    err,
    linkOut,
    h('div', { class: 'card stack' }, h('h3', {}, 'Your chapters'), holder),
  );
  await refresh();
  return el;
}

// A short name from a name: "North East!" -> "north-east".
function slugOf(name) {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

function createCard(refresh) {
  const name = h('input', { id: 'chapter-name', maxlength: 200, required: true, placeholder: 'North East Chapter' });
  const slug = h('input', { id: 'chapter-slug', maxlength: 63, required: true, placeholder: 'north-east' });
  const region = h('input', {
    id: 'chapter-region',
    maxlength: 2,
    autocapitalize: 'characters',
    autocomplete: 'off',
    spellcheck: false,
    placeholder: 'MX',
  });
  let slugTouched = false;
  name.addEventListener('input', () => {
    if (!slugTouched) slug.value = slugOf(name.value);
  });
  slug.addEventListener('input', () => {
    slugTouched = true;
  });
  const err = errorBox('chapter-create-error');
  return h(
    'form',
    {
      class: 'card stack',
      id: 'chapter-create',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        try {
          // Empty: the server's default region (the field is left out).
          const code = region.value.trim().toUpperCase();
          await api('POST', '/api/chapters', { name: name.value, slug: slug.value, phone_region: code || undefined });
          name.value = '';
          slug.value = '';
          region.value = '';
          slugTouched = false;
          await refresh();
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    h('h3', {}, 'Create a chapter'),
    h('label', { for: 'chapter-name' }, 'Name'),
    name,
    h('label', { for: 'chapter-slug' }, 'Short name (lower-case letters, digits and dashes)'),
    slug,
    h('label', { for: 'chapter-region' }, 'Phone region (optional)'),
    region,
    h(
      'p',
      { class: 'muted hint' },
      'The country whose numbers written without +country the chapter’s imports read, e.g. MX or PR. Empty: the server’s default.',
    ),
    err,
    h('button', { class: 'primary', type: 'submit' }, 'Create chapter'),
  );
}

// Which region a chapter reads numbers without +country in: its own, or
// the server's default (dflt) when it has none.
function regionText(c, dflt) {
  return c.phone_region
    ? `Phone region ${c.phone_region}`
    : `Phone region ${dflt || 'of the server'} (the server’s default)`;
}

function chapterItem(c, dflt, linkOut, refresh) {
  const err = errorBox();
  const invite = inviteForm(c, linkOut, refresh, err);
  const enter = enterForm(c, err);
  const toggle = (form) => () => {
    invite.hidden = form !== invite || !invite.hidden;
    enter.hidden = form !== enter || !enter.hidden;
    if (!form.hidden) form.querySelector('input, textarea').focus();
  };
  const admins = c.admins.length
    ? c.admins.map((a) => a.display_name || a.email).join(', ')
    : c.admin_invites
      ? 'no admin yet (invite pending)'
      : 'no admin yet';
  return h(
    'li',
    { class: 'item person', 'data-chapter': c.id },
    h(
      'div',
      { class: 'grow' },
      h('span', { class: 'name' }, c.name),
      h('span', { class: 'muted' }, ` · ${c.slug}`),
      h(
        'p',
        { class: 'muted' },
        `${c.members} members · ${c.senders} senders · ${c.people} people · admins: ${admins}`,
      ),
      h('p', { class: 'muted chapter-region' }, regionText(c, dflt)),
    ),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', class: 'invite-admin', onclick: toggle(invite) }, 'Invite an admin'),
      h('button', { type: 'button', class: 'enter', onclick: toggle(enter) }, 'Enter chapter'),
    ),
    invite,
    enter,
    err,
  );
}

// A chapter's hidden form (invite, enter): run() on submit, its error
// shown in err.
function chapterForm(err, run, ...children) {
  return h(
    'form',
    {
      class: 'confirm stack',
      hidden: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        try {
          await run();
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    ...children,
  );
}

function inviteForm(c, linkOut, refresh, err) {
  const email = h('input', {
    type: 'email',
    class: 'invite-email',
    'aria-label': `Email of ${c.name}'s admin`,
    placeholder: 'chapter.admin@example.org',
  });
  return chapterForm(
    err,
    async () => {
      const r = await api('POST', `/api/chapters/${c.id}/invites`, { email: email.value || undefined });
      showLink(linkOut, `Send this link to ${r.email || 'the new admin'}: it makes them an admin of ${c.name}.`, r.url);
      linkOut.scrollIntoView({ block: 'nearest' });
      await refresh();
    },
    email,
    h('button', { class: 'primary', type: 'submit' }, 'Create invite link'),
  );
}

function enterForm(c, err) {
  const reason = h('textarea', {
    class: 'enter-reason',
    maxlength: 500,
    'aria-label': `Why you are entering ${c.name}`,
    placeholder: 'Why you are entering (recorded in both organisations)',
  });
  const minutes = h(
    'select',
    { class: 'enter-minutes', 'aria-label': 'For how long' },
    WINDOWS.map((m) => h('option', { value: m, selected: m === 60 }, m < 60 ? `${m} minutes` : `${m / 60} h`)),
  );
  return chapterForm(
    err,
    async () => {
      await api('POST', `/api/chapters/${c.id}/enter`, { reason: reason.value, minutes: Number(minutes.value) });
      startOver();
    },
    h(
      'p',
      {},
      `You will act in ${c.name} as one of its admins until you leave or the time runs out. Its admins see your visit.`,
    ),
    reason,
    minutes,
    h('button', { class: 'primary enter-yes', type: 'submit' }, `Enter ${c.name}`),
  );
}
