// SPDX-License-Identifier: AGPL-3.0-or-later
// senders.mjs — an admin's Senders page in a real browser (playwright-core
// driving Debian's chromium headless), at phone (390 px) and desktop
// (1280 px) widths: the webhook URLs shown for the public URL with a copy
// button; a bad number refused with the server's sentence; a Twilio number
// added (the secret typed once and never shown again); a test message
// watched until the simulator delivers it; the credentials replaced with
// a wrong token and the next test shown failing in the carrier's own words;
// disabled and enabled. The database is checked by
// tests/integration/test_dashboard_senders_browser.sh and here through
// psql. Screenshots go to SCREENSHOTS.
import { check, launchChromium, phonePage, logIn, sql } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const SIM = process.env.SIM;
const SID = process.env.ACCOUNT_SID;
const TOKEN = process.env.AUTH_TOKEN;
if (!BASE || !SHOTS || !SIM || !SID || !TOKEN || !process.env.PSQL)
  throw new Error('DASH, SCREENSHOTS, SIM, ACCOUNT_SID, AUTH_TOKEN and PSQL must be set');
mkdirSync(SHOTS, { recursive: true });

const problems = [];
const noSideScroll = async (p, width, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= width, `no horizontal scroll at ${width} px on ${what} (${w})`);
};
const NEW = '[data-sender="+14155550199"]';
// Every input's value on the page: the secret must be in none of them once saved.
const inputValues = (p) => p.$$eval('input, textarea', (els) => els.map((e) => e.value));

const browser = await launchChromium();
try {
  const admin = await phonePage(browser, problems, /40[019]/);
  await logIn(admin, BASE, 'admin@demo.test', '.top nav >> text=Org');
  await admin.click('.top nav >> text=Org');
  await admin.click('.subnav >> text=Senders');
  await admin.waitForSelector('[data-sender="24680"]');
  check(
    (await admin.textContent('[data-sender="24680"]')).includes('Twilio short code'),
    'the demo short code is listed with its carrier',
  );
  await noSideScroll(admin, 390, 'the Senders page');

  // --- webhook URLs ---
  await admin.click('#senders-webhooks summary');
  check(
    (await admin.inputValue('#webhook-twilio-inbound')) === 'https://texts.example.org/twilio/inbound',
    'the Twilio inbound URL is built from the public URL',
  );
  check(
    (await admin.inputValue('#webhook-telnyx')) === 'https://texts.example.org/telnyx/webhook',
    'the Telnyx webhook URL too',
  );
  await admin.click('button[aria-label="Copy A message comes in"]');
  await admin.waitForSelector('#senders-webhooks .copy [role=status] >> text=/Copied|Selected/');
  check(true, 'the copy button answers');
  await noSideScroll(admin, 390, 'the webhook URLs');

  // --- a bad number, then a good one ---
  await admin.fill('#sender-address', '555');
  await admin.fill('#sender-sid', SID);
  await admin.fill('#sender-secret', TOKEN);
  await admin.fill('#sender-rate', '5');
  await admin.click('#sender-add summary');
  await admin.fill('#sender-base-url', SIM);
  await admin.click('#sender-add button[type=submit]');
  await admin.waitForSelector('#sender-add-error >> text=invalid phone number');
  check(true, `a bad number is refused: "${(await admin.textContent('#sender-add-error')).trim()}"`);
  check(sql('SELECT count(*) FROM senders') === '1', 'and nothing was added');

  await admin.fill('#sender-address', '(415) 555-0199');
  await admin.click('#sender-add button[type=submit]');
  await admin.waitForSelector(NEW);
  check(true, 'the number is added and listed in E.164');
  check(!(await inputValues(admin)).includes(TOKEN), 'the token is in no field once saved');
  check(sql("SELECT left(credentials_sealed, 3) FROM senders WHERE address = '+14155550199'") === 'v3.', 'sealed (v3)');
  await admin.screenshot({ path: `${SHOTS}/dashboard-senders-phone.png`, fullPage: true });

  // --- a test message, delivered ---
  await admin.click(`${NEW} >> text=Send a test message`);
  await admin.fill(`${NEW} input[type=tel]`, '(415) 555-0123');
  await admin.click(`${NEW} form button[type=submit]`);
  await admin.waitForSelector(`${NEW} [data-state=delivered]`, { timeout: 60000 });
  check(
    (await admin.textContent(`${NEW} [data-state=delivered]`)).includes('Delivered to +14155550123'),
    'the test message is shown delivered',
  );
  await noSideScroll(admin, 390, 'a delivered test message');
  await admin.screenshot({ path: `${SHOTS}/dashboard-senders-test-phone.png`, fullPage: true });

  // --- a wrong token: the carrier's own words ---
  await admin.click(`${NEW} >> text=Replace credentials`);
  await admin.fill(`${NEW} input[type=password]`, '00000000000000000000000000000000');
  await admin.click(`${NEW} form button[type=submit]`);
  await admin.waitForFunction(() => !document.querySelector('[data-sender="+14155550199"] input[type=password]'));
  check(
    sql("SELECT count(*) FROM audit_events WHERE action = 'sender.credentials'") === '1',
    'the credentials were replaced',
  );
  await admin.click(`${NEW} >> text=Send a test message`);
  await admin.fill(`${NEW} input[type=tel]`, '(415) 555-0124');
  await admin.click(`${NEW} form button[type=submit]`);
  await admin.waitForSelector(`${NEW} [data-state=failed]`, { timeout: 60000 });
  const refused = await admin.textContent(`${NEW} [data-state=failed]`);
  check(
    refused.includes('“Authenticate”') && refused.includes('20003') && refused.includes('credentials are wrong'),
    `the carrier's refusal in its own words: "${refused}"`,
  );
  await admin.screenshot({ path: `${SHOTS}/dashboard-senders-refused-phone.png`, fullPage: true });

  // --- disable, enable ---
  await admin.click(`${NEW} >> text=Disable`);
  await admin.waitForSelector(`${NEW}.disabled >> text=Enable`);
  check(
    (await admin.$(`${NEW} button:has-text("Send a test message")[disabled]`)) !== null,
    'no test message from a disabled sender',
  );
  await admin.click(`${NEW} >> text=Enable`);
  await admin.waitForSelector(`${NEW}.enabled`);
  check(true, 'disabled and enabled again');

  // --- desktop ---
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const desk = await context.newPage();
  desk.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await logIn(desk, BASE, 'admin@demo.test', '.top nav >> text=Org');
  await desk.goto(`${BASE}/#/senders`);
  await desk.waitForSelector(NEW);
  await noSideScroll(desk, 1280, 'the Senders page');
  await desk.screenshot({ path: `${SHOTS}/dashboard-senders-desktop.png`, fullPage: true });

  // --- a lead is not shown the page ---
  const lead = await phonePage(browser, problems, /40[13]/);
  await logIn(lead, BASE, 'lead@demo.test', '.top nav >> text=Blasts');
  await lead.goto(`${BASE}/#/senders`);
  await lead.waitForSelector('text=My conversations');
  check((await lead.$('#sender-add')) === null, 'a lead opening #/senders gets the inbox');

  check(problems.length === 0, `no page errors (${problems.join('; ')})`);
} finally {
  await browser.close();
}
console.log('senders.mjs: ok');
