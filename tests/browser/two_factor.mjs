// SPDX-License-Identifier: AGPL-3.0-or-later
// two_factor.mjs — two-factor login and the sessions screen in a real
// browser (playwright-core driving Debian's chromium headless), once at
// phone width (390 px, the admin) and once at desktop width (1280 px, the
// lead), in an org that requires it: the password leads to enrolment and
// nothing else (another page's address shows enrolment again); the QR code
// is drawn and read back by zbarimg as the otpauth URI carrying the key the
// page shows as text, and oathtool computes from that key the code
// that turns it on, the ten recovery codes are shown once; the next login
// asks for a code (oathtool's) and the one after takes a recovery code;
// the Account page lists this session and another one (an iPhone's, made
// through the API) and ends the other, which is then logged out. Then the
// admin logs the lead out everywhere and resets her two-factor login on
// People, and makes it optional for the org on Settings.
// Screenshots go to SCREENSHOTS.
import { check, launchChromium, phonePage, sql } from './harness.mjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'playwright-core';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
if (!BASE || !SHOTS || !process.env.PSQL) throw new Error('DASH, SCREENSHOTS and PSQL must be set');
mkdirSync(SHOTS, { recursive: true });

/** oathtool's code for secret at the step `steps` from now. */
const totp = (secret, steps = 0) =>
  execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${Math.floor(Date.now() / 1000) + 30 * steps}`])
    .toString()
    .trim();

const problems = [];
const noSideScroll = async (p, width, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= width, `no horizontal scroll at ${width} px on ${what} (${w})`);
};

async function password(p, email) {
  await p.goto(`${BASE}/#/login`);
  await p.fill('#email', email);
  await p.fill('#password', 'tocsin-demo');
  await p.click('form.login button[type=submit]');
}

async function logOut(p) {
  await p.click('.top nav >> text=Log out');
  await p.waitForSelector('#email');
}

async function walk(p, email, size, width) {
  const id = sql(`SELECT id FROM users WHERE email = '${email}'`);
  // --- enrolment, and nothing else until it is done ---
  await password(p, email);
  await p.waitForSelector('#enrol svg.qr');
  const box = await (await p.$('#enrol svg.qr')).boundingBox();
  check(box && box.width >= 150 && box.width <= width, `the QR code is drawn (${box && Math.round(box.width)} px)`);
  const dark = await p.$eval('#enrol svg.qr path', (n) => (n.getAttribute('d').match(/M/g) || []).length);
  check(dark > 200, `it has dark modules (${dark})`);
  await noSideScroll(p, width, 'enrolment');
  await p.screenshot({ path: `${SHOTS}/dashboard-two-factor-enrol-${size}.png`, fullPage: true });
  await p.goto(`${BASE}/#/people`);
  await p.reload();
  await p.waitForSelector('#enrol svg.qr');
  check((await p.$('.top')) === null, 'another page’s address shows enrolment again, no menu');
  const secret = (await p.inputValue('#enrol-secret')).replace(/ /g, '');
  check(/^[A-Z2-7]{32}$/.test(secret), 'the key is shown as text');
  // The QR code as a camera sees it: zbarimg reads the otpauth URI back.
  const qrPng = `${SHOTS}/dashboard-two-factor-qr-${size}.png`;
  await (await p.$('#enrol svg.qr')).screenshot({ path: qrPng });
  const uri = execFileSync('zbarimg', ['--nodbus', '--raw', '-q', qrPng]).toString().trim();
  check(
    uri.startsWith('otpauth://totp/Tocsin%20%28') && uri.includes(`secret=${secret}&`) && uri.includes('digits=6'),
    `the QR code reads back (zbarimg) as the otpauth URI with the key shown (${uri.length} characters)`,
  );
  check(sql(`SELECT confirmed_at IS NULL FROM user_totp WHERE user_id = ${id}`) === 't', 'not on before a code');
  await p.fill('#enrol-code', '000000');
  await p.click('#enrol button[type=submit]');
  await p.waitForSelector('#enrol .error >> text=wrong code');
  check(true, 'a wrong first code is refused with the server’s sentence');
  await p.fill('#enrol-code', totp(secret));
  await p.click('#enrol button[type=submit]');
  await p.waitForSelector('#recovery-codes li');
  const codes = await p.$$eval('#recovery-codes li', (l) => l.map((n) => n.textContent.trim()));
  check(codes.length === 10 && new Set(codes).size === 10, 'ten recovery codes, shown once');
  await noSideScroll(p, width, 'the recovery codes');
  await p.screenshot({ path: `${SHOTS}/dashboard-two-factor-recovery-${size}.png`, fullPage: true });
  await p.click('#recovery-done');
  await p.waitForSelector('.top a.who');
  check(
    sql(`SELECT count(*) FROM audit_events WHERE action = 'two_factor.enrol' AND user_id = ${id}`) === '1',
    'enrolment audited',
  );

  // --- a login with oathtool's code ---
  await logOut(p);
  await password(p, email);
  await p.waitForSelector('#code-form');
  await noSideScroll(p, width, 'the code step');
  await p.screenshot({ path: `${SHOTS}/dashboard-two-factor-code-${size}.png`, fullPage: true });
  await p.fill('#login-code', totp(secret, 1));
  await p.click('#code-form button[type=submit]');
  await p.waitForSelector('.top a.who');
  check(true, 'a login with a code from the app');

  // --- a login with a recovery code ---
  await logOut(p);
  await password(p, email);
  await p.waitForSelector('#code-form');
  await p.click('#use-recovery');
  await p.fill('#login-recovery', codes[0]);
  await p.click('#code-form button[type=submit]');
  await p.waitForSelector('.top a.who');
  check(
    sql(`SELECT count(*) FROM recovery_codes WHERE user_id = ${id} AND used_at IS NOT NULL`) === '1',
    'a login with a recovery code, which is used up',
  );

  // --- the Account page: another session (an iPhone's), ended from here ---
  const phone = await request.newContext({
    baseURL: BASE,
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  });
  const l = await phone.post('/api/login', { data: { email, password: 'tocsin-demo' } });
  check(l.status() === 202, 'the other device’s password');
  const csrf = (await l.json()).csrf_token;
  const c = await phone.post('/api/login/code', {
    data: { recovery_code: codes[1] },
    headers: { 'X-CSRF-Token': csrf },
  });
  check(c.status() === 200, 'and its recovery code');
  await p.click('.top a.who');
  await p.waitForSelector('#session-list li >> text=Safari on iOS');
  const rows = await p.$$eval('#session-list li', (items) => items.map((n) => n.textContent));
  check(rows.length === 2 && rows[0].includes('this device'), 'two sessions, this one first and marked');
  check(rows[1].includes('127.0.0.1'), 'with the address');
  await noSideScroll(p, width, 'the Account page');
  await p.screenshot({ path: `${SHOTS}/dashboard-account-${size}.png`, fullPage: true });
  await p.click('#session-list li:has-text("Safari on iOS") button.end-session');
  // The page is drawn again from the server's list.
  await p.waitForFunction(() => {
    const items = document.querySelectorAll('#session-list li');
    return items.length === 1 && items[0].textContent.includes('this device');
  });
  check(true, 'the other session is gone from the list');
  check((await phone.get('/api/me')).status() === 401, 'and the iPhone is logged out');
  check(
    sql(`SELECT count(*) FROM audit_events WHERE action = 'session.end' AND user_id = ${id}`) === '1',
    'ending it is audited',
  );
  await phone.dispose();
  check((await p.textContent('#two-factor')).includes('8 recovery codes left'), 'the page counts the codes left');
  await p.click('#recovery-renew-open');
  await p.fill('#renew-code', codes[2]);
  await p.click('#recovery-renew button[type=submit]');
  await p.waitForSelector('#recovery-codes li');
  const renewed = await p.$$eval('#recovery-codes li', (items) => items.map((n) => n.textContent.trim()));
  check(renewed.length === 10 && !renewed.includes(codes[3]), 'new recovery codes, for one of the old ones');
  await p.click('#recovery-done');
  await p.waitForSelector('#two-factor-state >> text=10 recovery codes left');
  check(true, 'and ten are left');
}

const browser = await launchChromium();
try {
  const admin = await phonePage(browser, problems, /40[19]/);
  await walk(admin, 'admin@demo.test', 'phone', 390);
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const lead = await desk.newPage();
  lead.on('pageerror', (e) => problems.push(`desktop page error: ${e.message}`));
  lead.on('console', (m) => {
    if (m.type() === 'error' && !/40[19]/.test(m.text())) problems.push(`desktop console: ${m.text()}`);
  });
  await walk(lead, 'lead@demo.test', 'desktop', 1280);

  // --- the admin, on her phone: the lead's sessions and two-factor login on
  // People, then the org's requirement on Settings ---
  const leadId = sql(`SELECT id FROM users WHERE email = 'lead@demo.test'`);
  await admin.goto(`${BASE}/#/people`);
  const row = `#people-users li[data-user="${leadId}"]`;
  await admin.waitForSelector(`${row} >> text=two-factor on`);
  await admin.click(`${row} button.end-sessions`);
  await admin.waitForSelector(`${row} button.end-sessions`, { state: 'detached' });
  check(
    sql(`SELECT count(*) FROM sessions WHERE user_id = ${leadId}`) === '0',
    'the admin logs the lead out everywhere',
  );
  await lead.reload();
  await lead.waitForSelector('#email');
  check(true, 'and the lead’s open page goes back to the login');
  await noSideScroll(admin, 390, 'People');
  await admin.screenshot({ path: `${SHOTS}/dashboard-people-two-factor-phone.png`, fullPage: true });
  await admin.click(`${row} button.reset-two-factor`);
  await admin.waitForSelector(`${row} >> text=no two-factor`);
  check(
    sql(`SELECT count(*) FROM user_totp WHERE user_id = ${leadId}`) === '0',
    'the admin resets the lead’s two-factor login',
  );
  await admin.goto(`${BASE}/#/settings`);
  await admin.waitForSelector('#set-two-factor');
  check(await admin.isChecked('#set-two-factor'), 'Settings shows the requirement on');
  await admin.uncheck('#set-two-factor');
  await admin.waitForSelector('#two-factor-setting-message >> text=optional');
  check(sql(`SELECT require_two_factor FROM orgs WHERE slug = 'demo'`) === 'f', 'the admin makes it optional');
  await password(lead, 'lead@demo.test');
  await lead.waitForSelector('.top a.who');
  check(true, 'and the lead logs in with her password alone');
  check(problems.length === 0, `no page errors (${problems.join('; ')})`);
} finally {
  await browser.close();
}
