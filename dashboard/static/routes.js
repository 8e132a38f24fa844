// SPDX-License-Identifier: AGPL-3.0-or-later
// routes.js — the web app's one route table: every page's URL fragment,
// which module draws it, which top-bar section it belongs to and who may
// open it; route() reads a fragment through the table and href() builds
// one from it, so no other file writes "#/..." by hand. A fragment never
// reaches the server: an invite's token (#token=...) stays out of every
// log. No DOM here (tests/unit/routes.test.mjs runs it under node).

// path: the fragment, with :id (digits) or :token (base64url) parameters.
// view: the module that draws it (app.js's inbox and team, outreach.js,
// leads.js, admin.js, settings.js, review.js, account.js, or the logged-out pages). section: the
// top-bar link it sits under. lead: only leads and admins open it (others
// get the inbox); admin: only admins (admin.js's pages). parent: the page a
// sub-page's sub-navigation marks.
const TABLE = [
  { name: 'invite', path: '#token=:token', view: 'public' },
  { name: 'login', path: '#/login', view: 'public' },
  { name: 'inbox', path: '#/', view: 'inbox', section: 'inbox' },
  { name: 'conversation', path: '#/c/:id', view: 'inbox', section: 'inbox' },
  { name: 'team', path: '#/team', view: 'inbox', section: 'team', lead: true },
  { name: 'review', path: '#/review', view: 'review', section: 'review', lead: true },
  { name: 'outreach', path: '#/outreach', view: 'outreach', section: 'outreach' },
  { name: 'campaign', path: '#/outreach/:id', view: 'outreach', section: 'outreach' },
  { name: 'campaign-send', path: '#/outreach/:id/send', view: 'outreach', section: 'outreach' },
  { name: 'blasts', path: '#/blasts', view: 'leads', section: 'blasts', lead: true },
  { name: 'blast-new', path: '#/blasts/new', view: 'leads', section: 'blasts', lead: true, parent: 'blasts' },
  { name: 'blast', path: '#/blasts/:id', view: 'leads', section: 'blasts', lead: true, parent: 'blasts' },
  { name: 'lists', path: '#/lists', view: 'leads', section: 'blasts', lead: true },
  { name: 'keywords', path: '#/keywords', view: 'leads', section: 'blasts', lead: true },
  { name: 'stats', path: '#/stats', view: 'leads', section: 'blasts', lead: true },
  { name: 'opt-outs', path: '#/opt-outs', view: 'admin', section: 'org', lead: true },
  { name: 'move-in', path: '#/move-in', view: 'admin', section: 'org', lead: true },
  { name: 'people', path: '#/people', view: 'admin', section: 'org', admin: true },
  { name: 'senders', path: '#/senders', view: 'admin', section: 'org', admin: true },
  { name: 'sso', path: '#/sso', view: 'admin', section: 'org', admin: true, parent: 'people' },
  { name: 'chapters', path: '#/chapters', view: 'admin', section: 'org', admin: true },
  { name: 'audit', path: '#/audit', view: 'admin', section: 'org', admin: true },
  { name: 'settings', path: '#/settings', view: 'settings', section: 'settings', lead: true },
  { name: 'texts', path: '#/settings/texts', view: 'settings', section: 'settings', lead: true },
  { name: 'account', path: '#/account', view: 'account', section: 'account' },
];

const PARAMS = { id: '(\\d{1,15})', token: '([A-Za-z0-9_-]{1,200})' };
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const ROUTES = TABLE.map((r) => {
  const names = [];
  const source = r.path
    .split(/(:[a-z]+)/)
    .map((part) => {
      if (!part.startsWith(':')) return escape(part);
      names.push(part.slice(1));
      return PARAMS[part.slice(1)];
    })
    .join('');
  return Object.freeze({ ...r, names, pattern: new RegExp(`^${source}$`) });
});
const BY_NAME = new Map(ROUTES.map((r) => [r.name, r]));
const INBOX = BY_NAME.get('inbox');

/** The route of hash (location.hash): { name, view, section, lead, parent,
 * params } with numeric ids; an empty or unknown fragment is the inbox.
 * isLead: whether the user may open lead pages (a lead page is the inbox
 * for anyone else, as is a page of no known name); isAdmin: admin pages
 * likewise (by default as isLead). */
export function route(hash, isLead = true, isAdmin = isLead) {
  const h = hash || '#/';
  for (const r of ROUTES) {
    const m = r.pattern.exec(h);
    if (!m) continue;
    if ((r.lead && !isLead) || (r.admin && !isAdmin)) break;
    const params = {};
    r.names.forEach((n, i) => {
      params[n] = n === 'id' ? Number(m[i + 1]) : m[i + 1];
    });
    return { ...r, params };
  }
  return { ...INBOX, params: {} };
}

/** The fragment of the route called name, with its parameters
 * ({ id: 12 }); throws on an unknown name or a missing or malformed
 * parameter, so a typo fails where it is made. */
export function href(name, params = {}) {
  const r = BY_NAME.get(name);
  if (!r) throw new Error(`no route ${name}`);
  const out = r.path.replace(/:([a-z]+)/g, (_, p) => {
    const v = String(params[p] ?? '');
    if (!new RegExp(`^${PARAMS[p]}$`).test(v)) throw new Error(`route ${name}: bad ${p} "${v}"`);
    return v;
  });
  return out;
}

/** Whether the page at hash is the route called name or one of its
 * sub-pages (for aria-current in a navigation). */
export function isAt(hash, name, isLead = true) {
  const r = route(hash, isLead);
  return r.name === name || r.parent === name;
}
