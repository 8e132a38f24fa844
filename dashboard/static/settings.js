// SPDX-License-Identifier: AGPL-3.0-or-later
// settings.js — an org's settings pages: the organisation (#/settings,
// admins: name, HELP replies in English and Spanish, texting hours, the
// idle-release time, the per-volunteer conversation cap, the phone region
// numbers without +country are read in, whether admins and
// leads must use two-factor login) and its shared
// texts (#/settings/texts, leads and admins: canned responses and tags,
// for the whole org or one outreach campaign; created, edited, retired
// and restored). The server checks everything (schema/025, and the HELP
// replies by lib/compliance as keyword confirmations are) and audits every
// change; these pages show its sentence when it refuses. Every string
// goes in through h() as text. The privacy page (#/settings/privacy,
// admins) is privacy.js.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { errorText, errorBox, say, segmentCounter } from './notice.js';
import { href } from './routes.js';
import { privacyPage } from './privacy.js';

/** The sub-navigation of the settings pages, the page at r marked. */
export function settingsNav(r, me) {
  const link = (name, text) => h('a', { href: href(name), 'aria-current': r.name === name ? 'page' : undefined }, text);
  return h(
    'nav',
    { class: 'subnav wrap', 'aria-label': 'Settings' },
    me.role === 'admin' ? link('settings', 'Organisation') : null,
    link('texts', 'Canned responses & tags'),
    me.role === 'admin' ? link('privacy', 'Privacy') : null,
  );
}

/** The page of route r (view 'settings' in routes.js) for the user me. */
export async function settingsPage(r, me) {
  if (r.name === 'texts' || me.role !== 'admin') return textsPage();
  if (r.name === 'privacy') return privacyPage();
  return orgPage();
}

function page(title, ...children) {
  return h('section', { class: 'leads settings' }, h('h2', {}, title), ...children);
}

function field(id, label, input, hint) {
  return [h('label', { for: id }, label), input, hint ? h('p', { class: 'muted hint' }, hint) : null];
}

function hourSelect(id, from, to, value) {
  const hours = [];
  for (let i = from; i <= to; i++) hours.push(i);
  return h(
    'select',
    { id },
    hours.map((n) => h('option', { value: n, selected: n === value }, `${String(n).padStart(2, '0')}:00`)),
  );
}

// --- the organisation ---

const HELP_RULE =
  'A HELP reply must name the organisation, say how often messages come (e.g. "4 msgs/mo"), say "Msg&data rates may apply" and mention HELP and STOP — the rule keyword confirmations follow. Leave it empty for the standard reply.';

async function orgPage() {
  const el = page('Organisation');
  let s;
  try {
    s = await api('GET', '/api/settings');
  } catch (e) {
    el.append(errorBox(errorText(e)));
    return el;
  }
  const name = h('input', { id: 'set-name', required: true, maxlength: 200, value: s.name });
  const help = h('textarea', { id: 'set-help', maxlength: 1600, rows: 4, value: s.help_text || '' });
  const helpEs = h('textarea', { id: 'set-help-es', maxlength: 1600, rows: 4, value: s.help_text_es || '' });
  const start = hourSelect('set-start', 8, 20, s.texting_hours_start);
  const end = hourSelect('set-end', 9, 21, s.texting_hours_end);
  const release = h('input', {
    id: 'set-release',
    type: 'number',
    inputmode: 'numeric',
    min: 5,
    max: 10080,
    value: s.release_after_minutes ?? '',
    placeholder: 'the server default',
  });
  const cap = h('input', {
    id: 'set-cap',
    type: 'number',
    inputmode: 'numeric',
    min: 1,
    max: 500,
    required: true,
    value: s.volunteer_max_conversations,
  });
  const region = h('input', {
    id: 'set-region',
    maxlength: 2,
    size: 4,
    autocapitalize: 'characters',
    autocomplete: 'off',
    spellcheck: false,
    value: s.phone_region || '',
    placeholder: s.default_phone_region,
  });
  const regionNow = h('p', { class: 'muted hint', id: 'set-region-now' });
  const showRegion = (r) =>
    replace(
      regionNow,
      r
        ? `Numbers without +country are read as ${r}.`
        : `Numbers without +country are read as ${s.default_phone_region}, the server’s default.`,
    );
  showRegion(s.phone_region);
  const msg = h('div', { id: 'settings-message' });
  const form = h(
    'form',
    {
      class: 'card stack',
      id: 'settings-form',
      // The server is the judge of every value: the browser's own checks
      // would hide its sentences.
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const saved = await api('POST', '/api/settings', {
            name: name.value,
            help_text: help.value,
            help_text_es: helpEs.value,
            texting_hours_start: start.value,
            texting_hours_end: end.value,
            release_after_minutes: release.value,
            volunteer_max_conversations: cap.value,
            // Empty: back to the server's default; the server judges the rest.
            phone_region: region.value.trim().toUpperCase() || 'default',
          });
          name.value = saved.name;
          region.value = saved.phone_region || '';
          showRegion(saved.phone_region);
          say(msg, 'Settings saved.', 'success');
        } catch (e) {
          say(msg, errorText(e), 'error');
        }
      },
    },
    field('set-name', 'Organisation name', name),
    field('set-help', 'HELP reply (English)', help, HELP_RULE),
    helpCounter(help, 'set-help-count'),
    field('set-help-es', 'HELP reply (Spanish)', helpEs, 'Sent to members who write AYUDA. The same rule, in Spanish.'),
    helpCounter(helpEs, 'set-help-es-count'),
    h(
      'fieldset',
      { class: 'hours' },
      h('legend', {}, 'Texting hours, in each member’s own time'),
      h('div', { class: 'row' }, field('set-start', 'From', start), field('set-end', 'Until', end)),
      h(
        'p',
        { class: 'muted hint' },
        'Blasts are sent only within these hours, and new outreach campaigns start with them. Never wider than 08:00–21:00 (20:00 where state law says so), which every message keeps.',
      ),
    ),
    field(
      'set-release',
      'Release idle conversations after (minutes)',
      release,
      'A conversation a volunteer leaves untouched this long goes back to the pool. Empty: the server’s default.',
    ),
    field('set-cap', 'Most open conversations per volunteer', cap, 'From 1 to 500.'),
    field(
      'set-region',
      'Phone region (country code, e.g. MX, GB, US)',
      region,
      'Numbers written without +country in imports and numbers typed in the dashboard are read as this country’s. Empty: the server’s default.',
    ),
    regionNow,
    msg,
    h('button', { class: 'primary', type: 'submit' }, 'Save settings'),
  );
  el.append(form, await twoFactorSetting());
  return el;
}

// "Require two-factor login for admins and leads" (schema 030), saved
// when it is changed.
async function twoFactorSetting() {
  const msg = h('div', { id: 'two-factor-setting-message' });
  const box = h('input', { type: 'checkbox', id: 'set-two-factor' });
  const card = h(
    'div',
    { class: 'card stack', id: 'two-factor-setting' },
    h('h3', {}, 'Two-factor login'),
    h('label', { class: 'check' }, box, ' Require it for admins and leads'),
    h(
      'p',
      { class: 'muted hint' },
      'An admin or lead without it is asked to set up an authenticator app right after her password, and can do nothing else until she has. Volunteers may turn it on for themselves.',
    ),
    msg,
  );
  try {
    box.checked = (await api('GET', '/api/settings/two-factor')).require_two_factor;
  } catch (e) {
    say(msg, errorText(e), 'error');
  }
  box.addEventListener('change', async () => {
    try {
      const r = await api('POST', '/api/settings/two-factor', { required: box.checked });
      box.checked = r.require_two_factor;
      say(msg, r.require_two_factor ? 'Two-factor login is required.' : 'Two-factor login is optional.', 'success');
    } catch (e) {
      box.checked = !box.checked;
      say(msg, errorText(e), 'error');
    }
  });
  return card;
}

function helpCounter(box, id) {
  return segmentCounter(box, { id }).el;
}

// --- canned responses and tags ---

async function textsPage() {
  const el = page('Canned responses & tags');
  const body = h('div', { class: 'stack' }, h('p', { class: 'loading' }, 'Loading…'));
  el.append(
    h(
      'p',
      { class: 'muted' },
      'Volunteers pick these while they answer. A retired one leaves their menus; conversations already tagged keep the tag.',
    ),
    h('div', { id: 'texts-message' }),
    body,
  );
  const draw = async (message) => {
    let canned, tags, campaigns;
    try {
      [canned, tags, campaigns] = await Promise.all([
        api('GET', '/api/canned-responses/all'),
        api('GET', '/api/tags/all'),
        api('GET', '/api/outreach/campaigns'),
      ]);
    } catch (e) {
      replace(body, errorBox(errorText(e)));
      return;
    }
    const open = campaigns.filter((c) => c.state !== 'closed');
    replace(body, cannedSection(canned, open, draw), tagSection(tags, open, draw));
    if (message) say(document.getElementById('texts-message'), message, 'success');
  };
  await draw();
  return el;
}

function scopeSelect(id, campaigns, value) {
  return h(
    'select',
    { id },
    h('option', { value: '' }, 'The whole organisation'),
    campaigns.map((c) => h('option', { value: c.id, selected: c.id === value }, `Campaign: ${c.name}`)),
  );
}

function scopeText(x) {
  return x.campaign ? `Campaign: ${x.campaign}` : 'Whole organisation';
}

// Retire or restore x (kind: 'canned-responses' or 'tags'), then redraw.
function lifeButton(kind, x, label, draw, err) {
  const verb = x.retired_at ? 'restore' : 'retire';
  return h(
    'button',
    {
      type: 'button',
      'data-action': verb,
      onclick: async () => {
        try {
          await api('POST', `/api/${kind}/${x.id}/${verb}`);
          await draw(`${label} ${verb === 'retire' ? 'retired' : 'restored'}.`);
        } catch (e) {
          say(err, errorText(e), 'error');
        }
      },
    },
    x.retired_at ? 'Restore' : 'Retire',
  );
}

function cannedSection(list, campaigns, draw) {
  let editing = null;
  const title = h('input', { id: 'canned-title', required: true, maxlength: 100, placeholder: 'Thanks' });
  const text = h('textarea', { id: 'canned-body', required: true, maxlength: 1600, rows: 3 });
  const counter = segmentCounter(text, { id: 'canned-count' });
  const scope = scopeSelect('canned-scope', campaigns, null);
  const err = h('div', { id: 'canned-message' });
  const heading = h('h3', {}, 'New canned response');
  const form = h(
    'form',
    {
      class: 'card stack',
      id: 'canned-form',
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await api('POST', editing ? `/api/canned-responses/${editing}` : '/api/canned-responses', {
            title: title.value,
            body: text.value,
            campaign_id: scope.value,
          });
          await draw(`Canned response “${title.value.trim()}” saved.`);
        } catch (e) {
          say(err, errorText(e), 'error');
        }
      },
    },
    heading,
    field('canned-title', 'Title', title),
    field('canned-body', 'Text', text),
    counter.el,
    field('canned-scope', 'For', scope),
    err,
    h('button', { class: 'primary', type: 'submit' }, 'Save response'),
  );
  const fill = (r) => {
    editing = r.id;
    title.value = r.title;
    text.value = r.body;
    scope.value = r.campaign_id ? String(r.campaign_id) : '';
    counter.update();
    replace(heading, `Edit “${r.title}”`);
    form.scrollIntoView?.({ block: 'nearest' });
    title.focus();
  };
  return h(
    'section',
    { class: 'stack', id: 'canned' },
    h('h3', {}, 'Canned responses'),
    h(
      'ul',
      { class: 'list' },
      list.length
        ? list.map((r) =>
            h(
              'li',
              { class: `item shared${r.retired_at ? ' retired' : ''}`, 'data-id': r.id },
              h(
                'div',
                { class: 'grow' },
                h('span', { class: 'name' }, r.title),
                h('span', { class: 'muted' }, ` · ${scopeText(r)}${r.retired_at ? ' · retired' : ''}`),
                h('p', { class: 'reply' }, r.body),
              ),
              h(
                'div',
                { class: 'actions' },
                r.retired_at ? null : h('button', { type: 'button', onclick: () => fill(r) }, 'Edit'),
                lifeButton('canned-responses', r, `Canned response “${r.title}”`, draw, err),
              ),
            ),
          )
        : h('li', { class: 'empty' }, 'No canned responses yet.'),
    ),
    form,
  );
}

function tagSection(list, campaigns, draw) {
  let editing = null;
  const name = h('input', { id: 'tag-name', required: true, maxlength: 64, placeholder: 'needs a ride' });
  const scope = scopeSelect('tag-scope', campaigns, null);
  const err = h('div', { id: 'tag-message' });
  const heading = h('h3', {}, 'New tag');
  const form = h(
    'form',
    {
      class: 'card stack',
      id: 'tag-form',
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await api('POST', editing ? `/api/tags/${editing}` : '/api/tags', {
            name: name.value,
            campaign_id: scope.value,
          });
          await draw(`Tag “${name.value.trim()}” saved.`);
        } catch (e) {
          say(err, errorText(e), 'error');
        }
      },
    },
    heading,
    field('tag-name', 'Name', name),
    field('tag-scope', 'For', scope),
    err,
    h('button', { class: 'primary', type: 'submit' }, 'Save tag'),
  );
  const fill = (t) => {
    editing = t.id;
    name.value = t.name;
    scope.value = t.campaign_id ? String(t.campaign_id) : '';
    replace(heading, `Rename “${t.name}”`);
    form.scrollIntoView?.({ block: 'nearest' });
    name.focus();
  };
  const used = (n) => `${n} conversation${n === 1 ? '' : 's'}`;
  return h(
    'section',
    { class: 'stack', id: 'tags' },
    h('h3', {}, 'Tags'),
    h(
      'ul',
      { class: 'list' },
      list.length
        ? list.map((t) =>
            h(
              'li',
              { class: `item shared${t.retired_at ? ' retired' : ''}`, 'data-id': t.id },
              h(
                'div',
                { class: 'grow' },
                h('span', { class: 'name' }, t.name),
                h(
                  'span',
                  { class: 'muted' },
                  ` · ${scopeText(t)} · ${used(t.conversations)}${t.retired_at ? ' · retired' : ''}`,
                ),
              ),
              h(
                'div',
                { class: 'actions' },
                t.retired_at ? null : h('button', { type: 'button', onclick: () => fill(t) }, 'Rename'),
                lifeButton('tags', t, `Tag “${t.name}”`, draw, err),
              ),
            ),
          )
        : h('li', { class: 'empty' }, 'No tags yet.'),
    ),
    form,
  );
}
