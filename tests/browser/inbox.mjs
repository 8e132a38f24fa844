// SPDX-License-Identifier: AGPL-3.0-or-later
// inbox.mjs — a volunteer's day in a real browser (playwright-core driving
// Debian's chromium headless): log in, get conversations, see a member's
// "<img onerror>" name shown as text, answer one with a canned response
// (its {first_name} filled in), watch it go from waiting to sending and,
// released by a worker, back to waiting, and a new reply arrive, all
// without reloading,
// opt a member out through the confirm step. Screenshots at phone and
// desktop widths go to SCREENSHOTS. Run by
// tests/integration/test_dashboard_browser.sh, which checks the database.
import { check, launchChromium, phonePage } from './harness.mjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const PSQL = '/usr/lib/postgresql/15/bin/psql';
if (!BASE || !SHOTS) throw new Error('DASH and SCREENSHOTS must be set');
mkdirSync(SHOTS, { recursive: true });

const sql = (q) =>
  execFileSync(PSQL, ['-XqAt', '-v', 'ON_ERROR_STOP=1', process.env.TOCSIN_DATABASE_URL, '-c', q], {
    encoding: 'utf8',
  }).trim();

const problems = [];
async function logIn(page, email, password = 'tocsin-demo') {
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

async function newPage(width, height, who) {
  const page = await (await browser.newContext({ viewport: { width, height } })).newPage();
  page.on('pageerror', (e) => problems.push(`${who} page error: ${e.message}`));
  return page;
}

const browser = await launchChromium();
try {
  const page = await phonePage(browser, problems);

  await page.goto(`${BASE}/`);
  await logIn(page, 'vol1@demo.test');
  await page.waitForSelector('text=My conversations');
  check(await page.isVisible('text=No conversations assigned to you'), 'an empty inbox says what to do');

  await page.click('#get-more');
  await page.waitForSelector('#inbox-list a[data-conversation]');
  const items = await page.$$('#inbox-list a[data-conversation]');
  check(items.length === 3, `"Get more" claimed the 3 waiting conversations (${items.length})`);
  const listText = await page.textContent('#inbox-list');
  check(listText.includes('<img src=x onerror=window.__xss=1>'), "a member's markup is shown as text");
  check((await page.$('#inbox-list img')) === null, 'and never becomes an element');
  await page.screenshot({ path: `${SHOTS}/dashboard-inbox-phone.png`, fullPage: true });

  // Answer Ana with the canned response.
  await page.click('#inbox-list a:has-text("Ana")');
  await page.waitForSelector('#reply');
  await page.selectOption('#canned', { label: 'Thanks' });
  const draft = await page.inputValue('#reply');
  check(draft === 'Thanks Ana, see you Saturday!', `canned response filled in: "${draft}"`);
  check((await page.textContent('#counter')).includes('GSM-7 · 1 text'), 'live segment counter');
  await page.fill('#reply', `${draft} 😀`);
  check((await page.textContent('#counter')).includes('UCS-2'), 'the counter switches to UCS-2 for an emoji');
  await page.fill('#reply', draft);
  await page.click('#send');
  await page.waitForSelector('.msg.out >> text=waiting to send');
  check(
    sql(`SELECT count(*) FROM messages WHERE body = 'Thanks Ana, see you Saturday!' AND state = 'queued'`) === '1',
    'the reply is queued for the worker',
  );

  // The worker takes it (claim, then the stamp before the carrier
  // request): the open conversation shows it sending, live. Released (a
  // worker stopping), it is back in the outbox and shows waiting again,
  // live too (the requeue's status event).
  const sender = sql('SELECT id FROM senders LIMIT 1');
  const taken = sql(`SELECT string_agg(id::text, ',') FROM tocsin_claim(${sender}, 'browser-worker', 100, now(), 60)`);
  sql(`SELECT count(*) FROM tocsin_mark_going(ARRAY[${taken}]::bigint[], 'browser-worker')`);
  await page.waitForSelector('.msg.out >> text=sending', { timeout: 60000 });
  sql(`SELECT tocsin_release_claims(ARRAY[${taken}]::bigint[], 'browser-worker')`);
  await page.waitForSelector('.msg.out >> text=waiting to send', { timeout: 60000 });
  check(true, 'the answer showed sending, then waiting to send again after a release, without a reload');

  // A new member reply shows up without a reload.
  const conv = sql(
    "SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE ct.first_name = 'Ana'",
  );
  sql(
    `SELECT tocsin_receive_inbound('twilio', 'SMlive1', ${sender}, '+14155550201', 'Great, I will bring a friend', 0, 'reply', NULL, false, NULL, NULL, NULL)`,
  );
  await page.waitForSelector('.msg.in >> text=Great, I will bring a friend', { timeout: 60000 });
  check(true, `a new reply appears in conversation ${conv} live`);
  await page.screenshot({ path: `${SHOTS}/dashboard-conversation-phone.png`, fullPage: true });

  // A reply that reads like an opt-out gets a banner; "Not an opt-out"
  // clears the flag and opts nobody out.
  await page.goto(`${BASE}/#/`);
  await page.click('#inbox-list a:has-text("Bo")');
  await page.waitForSelector('#likely-optout');
  await page.screenshot({ path: `${SHOTS}/dashboard-likely-optout-phone.png`, fullPage: true });
  await page.click('#likely-optout >> text=Not an opt-out');
  await page.waitForSelector('text=Kept: not an opt-out.');
  await page.waitForSelector('#likely-optout', { state: 'detached', timeout: 60000 }).catch(() => {});
  check(!(await page.isVisible('#likely-optout')), 'the likely opt-out banner goes away when kept');

  // Desktop: two panes.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${BASE}/#/`);
  await page.waitForSelector('#inbox-list a[data-conversation]');
  await page.screenshot({ path: `${SHOTS}/dashboard-inbox-desktop.png` });
  await page.click('#inbox-list a:has-text("onerror")');
  await page.waitForSelector('#reply');
  check(await page.isVisible('#inbox-list'), 'desktop shows the list beside the conversation');
  const thread = await page.textContent('#thread');
  check(thread.includes('<script>window.__xss=2</script>'), "a member's script is shown as text");
  check(await page.evaluate(() => window.__xss === undefined), 'and never runs');
  await page.screenshot({ path: `${SHOTS}/dashboard-conversation-desktop.png` });

  // Opt-out with a confirm step; nothing is sent.
  await page.click('.menu summary');
  await page.click('#optout');
  check(await page.isVisible('#optout-confirm'), 'opt-out asks to confirm');
  await page.click('#optout-yes');
  await page.waitForSelector('text=opted out');
  check(sql("SELECT source FROM opt_outs WHERE phone = '+14155550202'") === 'volunteer', 'the opt-out is recorded');
  check(await page.isDisabled('#send'), 'and the composer is closed for this member');

  // A lead sees the pool and who holds what.
  const lead = await newPage(1280, 800, 'lead');
  await lead.goto(`${BASE}/`);
  await logIn(lead, 'lead@demo.test');
  await lead.click('nav >> text=Team');
  await lead.waitForSelector('text=Who holds what');
  check((await lead.textContent('.team')).includes('Val Volunteer'), 'the team view shows who holds conversations');
  await lead.screenshot({ path: `${SHOTS}/dashboard-team-desktop.png` });

  // An admin makes an invite link; a newcomer opens it, sets her own
  // password and logs in.
  const admin = await newPage(1280, 800, 'admin');
  await admin.goto(`${BASE}/`);
  await logIn(admin, 'admin@demo.test');
  await admin.click('nav >> text=Team');
  await admin.fill('#invite-for', 'newcomer@demo.test');
  await admin.click('form.invite button[type=submit]');
  const link = await (await admin.waitForSelector('#invite-url')).inputValue();
  check(link.startsWith(`${BASE}/#token=`), 'the admin gets an invite link (token in the fragment)');
  const newcomer = await newPage(390, 844, 'newcomer');
  await newcomer.goto(link);
  await newcomer.fill('#name', 'Nia Newcomer');
  await newcomer.fill('#new-password', 'my own long password');
  await newcomer.click('button[type=submit]');
  await newcomer.waitForSelector('text=Your account is ready');
  await logIn(newcomer, 'newcomer@demo.test', 'my own long password');
  await newcomer.waitForSelector('text=My conversations');
  check(true, 'the newcomer set her password through the link and logged in');

  check(problems.length === 0, `no dialogs, page errors or CSP violations (${problems.join('; ')})`);
} finally {
  await browser.close();
}
