// SPDX-License-Identifier: AGPL-3.0-or-later
// sso.mjs — single sign-on in a real browser (playwright-core driving
// Debian's chromium headless, 390 px) against a real OpenID provider
// (oidc-provider, started by tests/integration/test_sso_browser.sh): the
// admin sets the provider on Settings → Single sign-on (a plain-http
// issuer off loopback refused with the server's sentence, then saved; the
// secret never shown again); a lead has no such page; a volunteer signs in
// from the login page through the provider's login form and lands in her
// inbox with a working session; a person whose address the provider has
// not verified sees a page saying so; a replayed callback is refused.
// Screenshots go to SCREENSHOTS.
import { check, launchChromium, phonePage, logIn, sql } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const OP = process.env.OP;
const SHOTS = process.env.SCREENSHOTS;
if (!BASE || !OP || !SHOTS || !process.env.PSQL) throw new Error('DASH, OP, SCREENSHOTS and PSQL must be set');
mkdirSync(SHOTS, { recursive: true });

const problems = [];
const noSideScroll = async (p, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= 390, `no horizontal scroll at 390 px on ${what} (${w})`);
  const nav = await p.$('.subnav');
  if (!nav) return;
  const [sw, cw] = await nav.evaluate((n) => [n.scrollWidth, n.clientWidth]);
  check(sw <= cw, `the sub-nav fits at 390 px on ${what} (${sw} in ${cw})`);
};

/** From the login page of a fresh phone, through the provider's login
 * form as account, back to the dashboard; returns the page and the
 * callback URL the provider sent it to. */
async function signIn(account, expected = /401/) {
  // The provider's development pages ask for web fonts (no network here)
  // and a favicon it lacks: console errors that are not ours, so 404s are
  // checked by origin instead.
  const p = await phonePage(browser, problems, new RegExp(`${expected.source}|ERR_NAME_NOT_RESOLVED|404`));
  let callback = null;
  p.on('request', (r) => {
    if (r.url().startsWith(`${BASE}/sso/callback?`)) callback = r.url();
  });
  p.on('response', (r) => {
    if (r.url().startsWith(BASE) && r.status() === 404) problems.push(`404 for ${r.url()}`);
  });
  await p.goto(`${BASE}/`);
  await p.waitForSelector('#sso-org');
  await noSideScroll(p, 'the login page');
  await p.screenshot({ path: `${SHOTS}/sso-login-page-phone.png`, fullPage: true });
  await p.fill('#sso-org', 'demo');
  await p.click('form.sso button[type=submit]');
  await p.waitForURL(`${OP}/interaction/**`);
  await p.fill('input[name=login]', account);
  await p.fill('input[name=password]', 'anything');
  await p.screenshot({ path: `${SHOTS}/sso-provider-login-phone.png`, fullPage: true });
  await p.click('button[type=submit]');
  await p.waitForURL((u) => u.href.startsWith(BASE));
  return { p, callback: () => callback };
}

const browser = await launchChromium();
try {
  // --- the admin's page ---
  const admin = await phonePage(browser, problems, /401|400/);
  await logIn(admin, BASE, 'admin@demo.test', '.top nav >> text=Org');
  await admin.click('.top nav >> text=Org');
  await admin.click('.subnav >> text=People');
  await admin.click('#people-sso');
  await admin.waitForSelector('#sso-form');
  await noSideScroll(admin, 'the single sign-on page');
  check(
    (await admin.getAttribute('.subnav >> text=People', 'aria-current')) === 'page',
    'the sub-navigation marks People, whose page it belongs to',
  );
  check(
    (await admin.inputValue('#sso-redirect')) === `${BASE}/sso/callback`,
    'the page shows the redirect address to register',
  );
  await admin.check('#sso-enabled');
  await admin.fill('#sso-issuer', 'http://login.example.org');
  await admin.fill('#sso-client-id', 'tocsin');
  await admin.fill('#sso-secret', 'tocsin-test-secret-0123456789');
  await admin.click('#sso-form button[type=submit]');
  await admin.waitForSelector('#sso-message .error');
  const refused = (await admin.textContent('#sso-message')).trim();
  check(refused.includes('https://'), `a plain-http issuer is refused, saying why: "${refused}"`);
  await admin.fill('#sso-issuer', OP);
  await admin.click('#sso-form button[type=submit]');
  await admin.waitForSelector('#sso-message >> text=saved and on');
  check((await admin.inputValue('#sso-secret')) === '', 'the secret field is emptied once saved');
  check(
    (await admin.getAttribute('#sso-secret', 'placeholder')).includes('stored'),
    'and says a secret is stored, without showing it',
  );
  await admin.screenshot({ path: `${SHOTS}/sso-settings-phone.png`, fullPage: true });
  await admin.reload();
  await admin.waitForSelector('#sso-form');
  check((await admin.inputValue('#sso-issuer')) === OP, 'the issuer is kept');
  check((await admin.isChecked('#sso-enabled')) === true, 'and it is on');
  check(sql('SELECT enabled FROM org_sso') === 't', 'the database agrees');

  // --- a lead has no such page ---
  const lead = await phonePage(browser, problems);
  await logIn(lead, BASE, 'lead@demo.test', '.top nav >> text=Settings');
  await lead.goto(`${BASE}/#/opt-outs`);
  await lead.waitForSelector('.subnav >> text=Opt-outs');
  check((await lead.$('.subnav >> text=People')) === null, 'a lead has no People page, so no way to single sign-on');
  await lead.goto(`${BASE}/#/sso`);
  await lead.waitForSelector('text=My conversations');
  check((await lead.$('#sso-form')) === null, 'nor the page at its address: she gets her inbox');

  // --- a volunteer signs in through the provider ---
  const { p: vol, callback } = await signIn('vol1', /401|400/);
  await vol.waitForSelector('text=My conversations');
  check(true, 'the volunteer lands in her inbox');
  const me = await vol.evaluate(async () => (await fetch('/api/me')).json());
  check(me.user.email === 'vol1@demo.test', `signed in as herself (${me.user.email})`);
  await noSideScroll(vol, 'the inbox after single sign-on');
  await vol.screenshot({ path: `${SHOTS}/sso-signed-in-phone.png`, fullPage: true });

  // The same callback again: the state is spent.
  const again = await vol.goto(callback());
  check(again.status() === 400, `a replayed callback is refused (${again.status()})`);
  check(
    (await vol.textContent('#sso-reason')).length > 20,
    `with a reason: "${(await vol.textContent('#sso-reason')).trim()}"`,
  );

  // --- an address the provider has not verified ---
  const { p: unverified } = await signIn('unverified', /401|403|400/);
  await unverified.waitForSelector('#sso-reason');
  const reason = (await unverified.textContent('#sso-reason')).trim();
  check(reason.includes('not verified'), `an unverified address is refused, saying why: "${reason}"`);
  await noSideScroll(unverified, 'the refusal page');
  await unverified.screenshot({ path: `${SHOTS}/sso-refused-phone.png`, fullPage: true });
  await unverified.click('text=Back to the login page');
  await unverified.waitForSelector('#sso-org');
  check((await unverified.inputValue('#sso-org')) === 'demo', 'the login page remembers the organisation');
} finally {
  await browser.close();
}
check(problems.length === 0, `no page errors (${problems.join('; ')})`);
