// SPDX-License-Identifier: AGPL-3.0-or-later
// new_admin.mjs — issue #19's "Done means", in a real browser
// (playwright-core driving Debian's chromium headless) against a stack
// started by ops/run: an admin who never used a terminal logs in for the
// first time (enrolling her authenticator: oathtool computes the codes
// from the key the page shows), adds a Twilio number pointed at the
// carrier simulator and sees a test message delivered; invites a lead and
// two volunteers, who each accept in a browser of their own and set a
// password (the lead enrols two-factor login too); moves in a Spoke
// opt-out list and an Action Network people export through the Move in
// page with its preview. The lead then imports an audience that includes
// numbers from both imports, sends a blast from the new number and
// watches it finish: the counts she is shown leave every opted-out number
// out. At 1280 px, with the key screens again at 390 px. Run by
// tests/integration/test_new_admin_browser.sh, which checks the database
// and the simulator's record; screenshots go to SCREENSHOTS.
import { check, launchChromium, phonePage } from './harness.mjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const SIM = process.env.SIM;
const SID = process.env.ACCOUNT_SID;
const TOKEN = process.env.AUTH_TOKEN;
const FIX = process.env.FIXTURES;
if (!BASE || !SHOTS || !SIM || !SID || !TOKEN || !FIX)
  throw new Error('DASH, SCREENSHOTS, SIM, ACCOUNT_SID, AUTH_TOKEN and FIXTURES must be set');
mkdirSync(SHOTS, { recursive: true });

const ADMIN = 'admin@demo.test'; // what ops/run prints; password tocsin-demo
const NUMBER = '+14155550199';
const LEAD = 'rosa.lead@demo.test';
const VOLS = ['sam.vol@demo.test', 'tao.vol@demo.test'];
const PASSWORD = 'a long first password 7';
// The opt-out list a chapter brings from Spoke: three numbers, one bad row.
const OPT_OUTS = [
  'cell,createdAt,reason',
  '+14155558101,2024-03-01T17:02:11.000Z,texted STOP',
  '+14155558102,2024-03-02T09:15:40.000Z,',
  '(415) 555-8103,2024-03-04T12:30:00.000Z,asked in reply',
  'not a number,2024-03-05T10:00:00.000Z,manual',
  '',
].join('\r\n');
// The lead's audience: four members who may be texted, two numbers from
// the opt-out list and the two Action Network marked unsubscribed.
const AUDIENCE = [
  'phone,first_name',
  '+14155558201,Ana',
  '+14155558202,Ben',
  '(415) 555-8203,Cy',
  '+14155557301,Grace',
  '+14155558101,Oli',
  '415-555-8103,Pat',
  '+14155557302,Hugo',
  '+1 415 555 7306,Lena',
  '',
].join('\n');
const BODY = 'Hi {first_name|friend}, the tenants meeting is Thursday at 7. Reply STOP to opt out.';

/** oathtool's code for secret, now. */
const totp = (secret) => execFileSync('oathtool', ['--totp', '-b', secret]).toString().trim();

const problems = [];
const watch = (p, expected = /40[01]/) => {
  p.on('dialog', (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error' && !expected.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return p;
};
const desktop = async (browser) =>
  watch(await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage());
const noSideScroll = async (p, width, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= width, `no horizontal scroll at ${width} px on ${what} (${w})`);
};
/** The same session at 390 px: the page at hash, once ready shows. */
async function atPhone(browser, from, hash, ready, shot) {
  const p = await phonePage(browser, problems, /40[01]/);
  await p.context().addCookies(await from.context().cookies());
  await p.goto(`${BASE}/${hash}`);
  await p.waitForSelector(ready);
  await noSideScroll(p, 390, hash);
  await p.screenshot({ path: `${SHOTS}/${shot}.png`, fullPage: true });
  await p.context().close();
}

/** Logs p in as email; if two-factor login is owed, enrols with
 * oathtool's code and dismisses the recovery codes. */
async function logIn(p, email, password) {
  await p.goto(`${BASE}/#/login`);
  await p.fill('#email', email);
  await p.fill('#password', password);
  await p.click('form.login button[type=submit]');
  await p.waitForSelector('#enrol svg.qr, .top a.who');
  if (await p.$('#enrol svg.qr')) {
    const secret = (await p.inputValue('#enrol-secret')).replace(/ /g, '');
    await p.fill('#enrol-code', totp(secret));
    await p.click('#enrol button[type=submit]');
    await p.waitForSelector('#recovery-codes li');
    check((await p.$$('#recovery-codes li')).length === 10, `${email} enrolled two-factor login: ten recovery codes`);
    await p.click('#recovery-done');
    await p.waitForSelector('.top a.who');
    return true;
  }
  return false;
}

/** On People, invites email as role; returns the link the page shows. */
async function invite(admin, email, role) {
  await admin.fill('#people-email', email);
  await admin.selectOption('#people-role', role);
  await admin.click('#people-invite button[type=submit]');
  await admin.waitForSelector(`#people-link >> text=${email}`);
  const url = await admin.inputValue('#people-link .link-once');
  check(/#token=[A-Za-z0-9_-]{40,}$/.test(url), `an invite link for ${email} (${role})`);
  await admin.waitForSelector(`#people-invites >> text=${email}`);
  return url;
}

/** In a browser of its own, email accepts the invite at url. */
async function accept(browser, url, email, role, name, width) {
  const p = width === 390 ? await phonePage(browser, problems, /4\d\d/) : await desktop(browser);
  await p.goto(url);
  await p.waitForSelector('text=Join ');
  const says = await p.textContent('body');
  check(says.includes(`invited as ${role} (${email})`), `${email} sees her role and address on the invite`);
  await p.fill('#name', name);
  await p.fill('#new-password', PASSWORD);
  await p.click('button[type=submit]');
  await p.waitForSelector('text=Your account is ready');
  return p;
}

/** Chooses a file on the Move in page, checks the preview, imports it
 * (into list when given) and returns the report's counts line. */
async function moveIn(p, name, text, preset, list) {
  // A fresh page: after an import the Move in page still shows the last
  // file's preview, which the checks below would read before this one's.
  await p.goto(`${BASE}/#/move-in`);
  await p.reload();
  await p.waitForSelector('#movein-file');
  await p.setInputFiles('#movein-file', { name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  await p.waitForSelector('#movein-rows');
  check((await p.$eval('#movein-preset', (s) => s.value)) === preset, `${name} is detected as ${preset}`);
  if (list) await p.fill('#movein-list', list);
  return p;
}

const browser = await launchChromium();
try {
  // --- 1. first login, a sender, a test message ---
  const admin = await desktop(browser);
  check(await logIn(admin, ADMIN, 'tocsin-demo'), 'the admin is asked to enrol at her first login');
  await admin.click('.top nav >> text=Org');
  await admin.click('.subnav >> text=Senders');
  await admin.waitForSelector('#sender-add');
  await admin.fill('#sender-address', '(415) 555-0199');
  await admin.fill('#sender-sid', SID);
  await admin.fill('#sender-secret', TOKEN);
  await admin.fill('#sender-rate', '5');
  await admin.click('#sender-add summary');
  await admin.fill('#sender-base-url', SIM);
  await admin.click('#sender-add button[type=submit]');
  const NEW = `[data-sender="${NUMBER}"]`;
  await admin.waitForSelector(NEW);
  check(true, 'the Twilio number is added');
  await admin.click(`${NEW} >> text=Send a test message`);
  await admin.fill(`${NEW} input[type=tel]`, '(415) 555-0123');
  await admin.click(`${NEW} form button[type=submit]`);
  await admin.waitForSelector(`${NEW} [data-state=delivered]`, { timeout: 60000 });
  check(
    (await admin.textContent(`${NEW} [data-state=delivered]`)).includes('Delivered to +14155550123'),
    'the test message is shown delivered',
  );
  await noSideScroll(admin, 1280, 'the Senders page');
  await admin.screenshot({ path: `${SHOTS}/new-admin-senders-desktop.png`, fullPage: true });
  await atPhone(browser, admin, '#/senders', NEW, 'new-admin-senders-phone');

  // --- 2. a lead and two volunteers ---
  await admin.click('.subnav >> text=People');
  await admin.waitForSelector('#people-users');
  const leadUrl = await invite(admin, LEAD, 'lead');
  const volUrls = [];
  for (const v of VOLS) volUrls.push(await invite(admin, v, 'volunteer'));
  await admin.screenshot({ path: `${SHOTS}/new-admin-people-desktop.png`, fullPage: true });
  const lead = await accept(browser, leadUrl, LEAD, 'lead', 'Rosa', 1280);
  check(await logIn(lead, LEAD, PASSWORD), 'the lead enrols two-factor login at her first login');
  await lead.waitForSelector('.top nav >> text=Blasts');
  for (const [i, url] of volUrls.entries()) {
    const vol = await accept(browser, url, VOLS[i], 'volunteer', ['Sam', 'Tao'][i], 390);
    check(!(await logIn(vol, VOLS[i], PASSWORD)), `${VOLS[i]} logs in with a password alone`);
    await vol.waitForSelector('text=My conversations');
    check(!(await vol.isVisible('.top nav >> text=Blasts')), `${VOLS[i]} is a volunteer: no Blasts`);
    await noSideScroll(vol, 390, `${VOLS[i]}'s inbox`);
    if (i === 0) {
      await vol.screenshot({ path: `${SHOTS}/new-admin-volunteer-phone.png`, fullPage: true });
      // Hostile: a volunteer typing an admin's address gets her inbox, and
      // the API refuses her the admin's call outright.
      await vol.goto(`${BASE}/#/senders`);
      await vol.waitForSelector('text=My conversations');
      check((await vol.$('#sender-add')) === null, 'a volunteer opening #/senders gets her inbox');
      const r = await vol.request.get(`${BASE}/api/senders/manage`);
      check(r.status() === 403, `a volunteer asking for the senders' settings gets ${r.status()}`);
      // Replayed: the lead's invite link, already used, opens nothing.
      await vol.goto(leadUrl);
      await vol.waitForSelector('text=expired or was already used');
      check(true, 'an invite link already used is refused in words');
    }
    await vol.context().close();
  }
  await admin.reload();
  await admin.waitForSelector('#people-users');
  for (const e of [LEAD, ...VOLS]) await admin.waitForSelector(`#people-users >> text=${e}`);
  check((await admin.$('#people-invites')) === null, 'no invite left pending: all three accepted');
  await atPhone(browser, admin, '#/people', '#people-users', 'new-admin-people-phone');

  // --- 3. moving in: the opt-out list, then Action Network ---
  await moveIn(admin, 'spoke-opt-outs.csv', OPT_OUTS, 'spoke_opt_outs');
  let rows = await admin.$$eval('#movein-rows tbody tr', (trs) => trs.map((t) => t.textContent));
  check(
    rows.length === 4 && /\+14155558103/.test(rows[2]) && /invalid/.test(rows[3]),
    `the opt-outs previewed: ${rows.join(' / ')}`,
  );
  await admin.screenshot({ path: `${SHOTS}/new-admin-optouts-preview-desktop.png`, fullPage: true });
  await admin.click('#movein-import');
  await admin.waitForSelector('#movein-counts', { timeout: 60000 });
  const optCounts = await admin.textContent('#movein-counts');
  check(
    /^4 rows: .*3 newly opted out, 0 already opted out, 1 invalid\.$/.test(optCounts),
    `the opt-out list's report: ${optCounts}`,
  );

  await moveIn(
    admin,
    'an-people.csv',
    readFileSync(`${FIX}/action_network.csv`, 'utf8'),
    'action_network',
    'Action Network members',
  );
  rows = await admin.$$eval('#movein-rows tbody tr', (trs) => trs.map((t) => t.textContent));
  check(/\+14155557302.*opt-out/.test(rows[1]), `an unsubscribed member is previewed as an opt-out: ${rows[1]}`);
  await admin.screenshot({ path: `${SHOTS}/new-admin-an-preview-desktop.png`, fullPage: true });
  await atPhone(browser, admin, '#/move-in', '#movein-file', 'new-admin-move-in-phone');
  await admin.click('#movein-import');
  await admin.waitForSelector('#movein-counts', { timeout: 60000 });
  const anCounts = await admin.textContent('#movein-counts');
  check(
    anCounts === '6 rows: 2 new contacts, 2 newly opted out, 0 already opted out, 2 invalid.',
    `the Action Network report: ${anCounts}`,
  );
  await admin.screenshot({ path: `${SHOTS}/new-admin-an-import-desktop.png`, fullPage: true });

  // --- 4. the lead: an audience with opted-out numbers in it, a blast ---
  await lead.click('.top nav >> text=Blasts');
  await lead.click('.subnav >> text=Audiences');
  await lead.waitForSelector('#import-file');
  await lead.fill('#import-list', 'Tenants meeting');
  await lead.setInputFiles('#import-file', {
    name: 'tenants.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(AUDIENCE),
  });
  await lead.click('#import-report >> xpath=.. >> button[type=submit]');
  await lead.waitForSelector('#import-report >> text=rows:', { timeout: 30000 });
  const audience = await lead.textContent('#import-report');
  check(
    /8 rows: \d+ new, \d+ updated, 0 rejected, 4 added to the list, 4 still opted out/.test(audience),
    `the audience's report: the four opted-out numbers are not added (${audience.trim()})`,
  );
  await lead.click('.subnav >> text=Blasts');
  await lead.click('text=New blast');
  await lead.waitForSelector('#blast-body');
  const from = await lead.locator('#blast-sender option', { hasText: NUMBER }).getAttribute('value');
  await lead.selectOption('#blast-sender', from);
  const list = await lead.locator('#blast-list option', { hasText: 'Tenants meeting' }).getAttribute('value');
  await lead.selectOption('#blast-list', list);
  await lead.fill('#blast-body', BODY);
  await lead.waitForSelector('#blast-recipients >> text=/^4/');
  const recipients = await lead.textContent('#blast-recipients');
  check(recipients === '4', `the lead is shown 4 recipients: ${recipients}`);
  await lead.click('#blast-submit');
  await lead.waitForSelector('#blast-confirm:not([hidden])');
  const q = await lead.textContent('#blast-confirm-q');
  check(q === 'Send this blast to 4 people now?', `the confirm: ${q}`);
  await lead.screenshot({ path: `${SHOTS}/new-admin-blast-confirm-desktop.png`, fullPage: true });
  await lead.click('#blast-confirm-yes');
  await lead.waitForSelector('#blast-progress #blast-state');
  const id = Number(lead.url().match(/#\/blasts\/(\d+)$/)[1]);
  await lead.waitForSelector('#blast-state >> text=Done', { timeout: 60000 }).catch(async (e) => {
    throw new Error(
      `the blast did not finish; the page says: ${await lead.textContent('#blast-progress')}; ${e.message}`,
    );
  });
  await lead.waitForSelector('[data-counter=delivered] dd >> text=/^4$/', { timeout: 60000 });
  const figures = await lead.$$eval('[data-counter]', (ds) =>
    Object.fromEntries(ds.map((d) => [d.dataset.counter, d.querySelector('dd').textContent])),
  );
  check(
    figures.sent === '4' && figures.delivered === '4' && !figures.failed,
    `the lead sees ${JSON.stringify(figures)}`,
  );
  await noSideScroll(lead, 1280, 'the finished blast');
  await lead.screenshot({ path: `${SHOTS}/new-admin-blast-done-desktop.png`, fullPage: true });
  await atPhone(browser, lead, `#/blasts/${id}`, '#blast-state >> text=Done', 'new-admin-blast-done-phone');
  console.log(`BLAST_ID=${id}`);

  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
console.log('new_admin.mjs: ok');
