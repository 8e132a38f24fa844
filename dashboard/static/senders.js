// SPDX-License-Identifier: AGPL-3.0-or-later
// senders.js — an admin's Senders page (#/senders): the numbers and short
// codes the org texts from, each with its carrier, rate, account limit and
// state; adding one with its carrier credentials (sealed by the server,
// never shown again: replaced, not edited); disabling and enabling; a test
// message to a number the admin types, watched until the carrier delivers
// or refuses it (in the carrier's own words); and the webhook URLs to paste
// into the carrier's console, with copy buttons. The checks are the
// server's (dashboard/api_senders.c); this page only explains them.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { errorText, noticeNode } from './notice.js';

const POLL_MS = 1000;
const POLL_GIVE_UP_MS = 3 * 60 * 1000;

// The carriers' codes for credentials they do not accept: said plainly
// next to their own words.
const BAD_CREDENTIALS = { twilio: ['20003'], telnyx: ['10009'] };

function errorBox(id) {
  return h('p', { class: 'error', role: 'alert', id });
}

function field(id, label, input, help) {
  input.id = id;
  return [h('label', { for: id }, label), input, help ? h('p', { class: 'muted help' }, help) : null];
}

/** Builds the page. */
export async function sendersPage() {
  const el = h('section', { class: 'leads admin senders' }, h('h2', {}, 'Senders'));
  const err = errorBox('senders-error');
  const holder = h('div', { class: 'stack', id: 'senders-body' });
  const refresh = async () => {
    try {
      replace(err);
      replace(holder, view(await api('GET', '/api/senders/manage'), refresh));
    } catch (e) {
      replace(err, errorText(e));
    }
  };
  el.append(
    h(
      'p',
      { class: 'muted' },
      'The numbers and short codes this organisation texts from. A carrier secret typed here is sealed at once and never shown again; to change it, replace it.',
    ),
    err,
    holder,
  );
  await refresh();
  return el;
}

function view(data, refresh) {
  return [
    webhooksCard(data.webhooks),
    h(
      'div',
      { class: 'stack', id: 'senders-list' },
      data.senders.length
        ? data.senders.map((s) => senderCard(s, refresh))
        : h('p', { class: 'muted' }, 'No sender yet: add the number or short code your carrier gave you below.'),
    ),
    addCard(data.sealing_key_ready, refresh),
  ];
}

// --- webhook URLs ---
function copyRow(id, label, url) {
  const input = h('input', { id, readonly: true, value: url, class: 'link-once', onfocus: (e) => e.target.select() });
  const said = h('span', { class: 'muted', role: 'status' });
  const button = h(
    'button',
    {
      type: 'button',
      'aria-label': `Copy ${label}`,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(url);
        } catch {
          input.select(); // no clipboard permission: selected, for Ctrl+C
          replace(said, 'Selected: press Ctrl+C (⌘C) to copy.');
          return;
        }
        replace(said, 'Copied.');
      },
    },
    'Copy',
  );
  return h(
    'div',
    { class: 'stack copy' },
    h('label', { for: id }, label),
    h('div', { class: 'row' }, input, button),
    said,
  );
}

function webhooksCard(w) {
  return h(
    'details',
    { class: 'card stack', id: 'senders-webhooks' },
    h('summary', {}, 'Webhook URLs for the carrier’s console'),
    h('h3', {}, 'Twilio'),
    h(
      'p',
      { class: 'muted' },
      'On the number (Phone Numbers → Manage → the number → Messaging), or on its Messaging Service: “A message comes in” → Webhook, HTTP POST:',
    ),
    copyRow('webhook-twilio-inbound', 'A message comes in', w.twilio.inbound),
    h(
      'p',
      { class: 'muted' },
      'Delivery receipts come back by themselves (every message names this URL); set it as the status callback too if the console asks for one:',
    ),
    copyRow('webhook-twilio-status', 'Status callback URL', w.twilio.status),
    h('h3', {}, 'Telnyx'),
    h(
      'p',
      { class: 'muted' },
      'On the number’s Messaging Profile: “Send a webhook to this URL” (inbound messages and delivery receipts both come here):',
    ),
    copyRow('webhook-telnyx', 'Webhook URL', w.telnyx.webhook),
  );
}

// --- one sender ---
function facts(s) {
  const kind = { short_code: 'short code', long_code: 'number', toll_free: 'toll-free number' }[s.kind] || s.kind;
  return [
    `${s.provider === 'twilio' ? 'Twilio' : 'Telnyx'} ${kind}`,
    `${Number(s.messages_per_second)} messages a second`,
    s.account_limit ? `account limit ${Number(s.account_limit)} a second` : null,
    s.account_sid ? `account ${s.account_sid}` : null,
  ]
    .filter(Boolean)
    .join(' · ');
}

function senderCard(s, refresh) {
  const err = errorBox();
  const pane = h('div', { class: 'stack pane' });
  const open = (build) => () => {
    replace(err);
    replace(
      pane,
      build(s, refresh, () => replace(pane)),
    );
  };
  const toggle = h(
    'button',
    {
      type: 'button',
      class: s.state === 'disabled' ? 'primary' : undefined,
      onclick: async () => {
        replace(err);
        toggle.disabled = true;
        try {
          await api('POST', `/api/senders/${s.id}/${s.state === 'disabled' ? 'enable' : 'disable'}`);
          await refresh();
        } catch (e) {
          replace(err, errorText(e));
          toggle.disabled = false;
        }
      },
    },
    s.state === 'disabled' ? 'Enable' : 'Disable',
  );
  return h(
    'div',
    { class: `card stack sender ${s.state}`, 'data-sender': s.address },
    h(
      'div',
      { class: 'head' },
      h('strong', { class: 'address' }, s.address),
      h('span', { class: `state state-${s.state}` }, s.state),
    ),
    h('p', { class: 'muted' }, facts(s)),
    s.state === 'disabled'
      ? h(
          'p',
          { class: 'muted' },
          'Nothing is sent through it; messages already queued wait. Members can still text it (STOP works).',
        )
      : null,
    h(
      'div',
      { class: 'row actions' },
      h('button', { type: 'button', onclick: open(testForm), disabled: s.state === 'disabled' }, 'Send a test message'),
      h('button', { type: 'button', onclick: open(credentialsForm) }, 'Replace credentials'),
      h('button', { type: 'button', onclick: open(rateForm) }, 'Change rate'),
      toggle,
    ),
    err,
    pane,
  );
}

function formCard(title, onsubmit, ...children) {
  return h(
    'form',
    {
      class: 'stack inner',
      onsubmit: async (ev) => {
        ev.preventDefault();
        await onsubmit();
      },
    },
    h('h3', {}, title),
    ...children,
  );
}

function credentialsForm(s, refresh, close) {
  const twilio = s.provider === 'twilio';
  const secret = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false' });
  const pk = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const err = errorBox();
  return formCard(
    'Replace credentials',
    async () => {
      replace(err);
      try {
        await api('POST', `/api/senders/${s.id}/credentials`, {
          secret: secret.value,
          telnyx_public_key: twilio ? undefined : pk.value || undefined,
        });
        secret.value = '';
        await refresh();
      } catch (e) {
        replace(err, errorText(e));
      }
    },
    field(
      `cred-secret-${s.id}`,
      twilio ? 'New auth token' : 'New API key',
      secret,
      'The old one is overwritten; neither is ever shown.',
    ),
    twilio ? null : field(`cred-pk-${s.id}`, 'New public key (optional)', pk, 'Leave empty to keep the current one.'),
    err,
    h(
      'div',
      { class: 'row' },
      h('button', { class: 'primary', type: 'submit' }, 'Save credentials'),
      h('button', { type: 'button', onclick: close }, 'Cancel'),
    ),
  );
}

function rateForm(s, refresh, close) {
  const rate = h('input', { type: 'text', inputmode: 'decimal', value: String(Number(s.messages_per_second)) });
  const limit = h('input', {
    type: 'text',
    inputmode: 'decimal',
    value: s.account_limit ? String(Number(s.account_limit)) : '',
  });
  const err = errorBox();
  return formCard(
    'Change rate',
    async () => {
      replace(err);
      try {
        await api('POST', `/api/senders/${s.id}`, {
          messages_per_second: rate.value,
          account_limit: s.account_sid ? limit.value : undefined,
        });
        await refresh();
      } catch (e) {
        replace(err, errorText(e));
      }
    },
    field(
      `rate-${s.id}`,
      'Messages a second',
      rate,
      'What the carrier allows this number (a short code: often 100; a 10DLC number: its campaign’s rate).',
    ),
    s.account_sid
      ? field(
          `limit-${s.id}`,
          'Account limit (a second, 0 for none)',
          limit,
          'Shared by every sender on this carrier account.',
        )
      : null,
    err,
    h(
      'div',
      { class: 'row' },
      h('button', { class: 'primary', type: 'submit' }, 'Save'),
      h('button', { type: 'button', onclick: close }, 'Cancel'),
    ),
  );
}

/** What the admin is told about a test message's state. */
export function testStateText(m, provider) {
  switch (m.state) {
    case 'queued':
      return 'Queued: waiting for the worker to send it…';
    case 'sending':
      return 'Sending to the carrier…';
    case 'sent':
      return 'The carrier accepted it; waiting for its delivery receipt…';
    case 'delivered':
      return `Delivered to ${m.to}.`;
    case 'suppressed':
      return `Not sent: ${m.error_message || 'the recipient opted out'}.`;
    case 'unknown':
      return 'The carrier did not answer clearly; it may have been sent. Check the phone.';
    default: {
      const bad = (BAD_CREDENTIALS[provider] || []).includes(m.error_code);
      const words = m.error_message ? `“${m.error_message}”` : 'no reason given';
      return `The carrier refused it: ${words}${m.error_code ? ` (error ${m.error_code})` : ''}.${
        bad ? ' The credentials are wrong: replace them.' : ''
      }`;
    }
  }
}

function testForm(s, refresh, close) {
  const phone = h('input', { type: 'tel', autocomplete: 'off', placeholder: '(415) 555-0123' });
  const err = errorBox();
  const out = h('div', { class: 'stack', 'aria-live': 'polite' });
  const button = h('button', { class: 'primary', type: 'submit' }, 'Send');
  const watch = async (m) => {
    const started = Date.now();
    for (;;) {
      const final = ['delivered', 'failed', 'undelivered', 'suppressed', 'cancelled'].includes(m.state);
      const ok = m.state === 'delivered';
      replace(out, noticeNode(testStateText(m, s.provider), final ? (ok ? 'success' : 'error') : 'warning'));
      out.firstChild.id = `test-state-${s.id}`;
      out.firstChild.dataset.state = m.state;
      if (final || m.state === 'unknown' || Date.now() - started > POLL_GIVE_UP_MS || !out.isConnected) return;
      await new Promise((resolve) => {
        setTimeout(resolve, POLL_MS);
      });
      try {
        m = await api('GET', `/api/senders/${s.id}/tests/${m.id}`);
      } catch (e) {
        replace(err, errorText(e));
        return;
      }
    }
  };
  return formCard(
    'Send a test message',
    async () => {
      replace(err);
      replace(out);
      button.disabled = true;
      try {
        await watch(await api('POST', `/api/senders/${s.id}/test`, { phone: phone.value }));
      } catch (e) {
        replace(err, errorText(e));
      } finally {
        button.disabled = false;
      }
    },
    field(
      `test-phone-${s.id}`,
      'Text this number',
      phone,
      'Sent through the queue like any message (a number that opted out is refused). It says it is a test.',
    ),
    err,
    h('div', { class: 'row' }, button, h('button', { type: 'button', onclick: close }, 'Close')),
    out,
  );
}

// --- adding one ---
function addCard(ready, refresh) {
  const provider = h(
    'select',
    {},
    h('option', { value: 'twilio' }, 'Twilio'),
    h('option', { value: 'telnyx' }, 'Telnyx'),
  );
  const address = h('input', { type: 'text', autocomplete: 'off', placeholder: '+1 415 555 0100 or 24680' });
  const sid = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'AC…' });
  const secret = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false' });
  const pk = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const rate = h('input', { type: 'text', inputmode: 'decimal', value: '1' });
  const limit = h('input', { type: 'text', inputmode: 'decimal', placeholder: 'none' });
  const base = h('input', { type: 'url', autocomplete: 'off', placeholder: 'the carrier’s own' });
  const err = errorBox('sender-add-error');
  const secretLabel = h('label', { for: 'sender-secret' }, 'Auth token');
  const twilioOnly = h(
    'div',
    { class: 'stack' },
    field('sender-sid', 'Account SID', sid),
    field(
      'sender-limit',
      'Account limit (a second, optional)',
      limit,
      'Shared by every number on the account; leave empty for none.',
    ),
  );
  const telnyxOnly = h(
    'div',
    { class: 'stack', hidden: true },
    field(
      'sender-pk',
      'Public key',
      pk,
      'Telnyx portal → Keys & Credentials → Public Key: the gateway checks every webhook with it.',
    ),
  );
  provider.addEventListener('change', () => {
    const twilio = provider.value === 'twilio';
    twilioOnly.hidden = !twilio;
    telnyxOnly.hidden = twilio;
    replace(secretLabel, twilio ? 'Auth token' : 'API key');
  });
  const button = h('button', { class: 'primary', type: 'submit', disabled: !ready }, 'Add sender');
  secret.id = 'sender-secret';
  return h(
    'form',
    {
      class: 'card stack',
      id: 'sender-add',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        const twilio = provider.value === 'twilio';
        button.disabled = true;
        try {
          await api('POST', '/api/senders', {
            provider: provider.value,
            address: address.value,
            account_sid: twilio ? sid.value : undefined,
            secret: secret.value,
            telnyx_public_key: twilio ? undefined : pk.value,
            messages_per_second: rate.value,
            account_limit: twilio ? limit.value : undefined,
            base_url: base.value || undefined,
          });
          secret.value = '';
          await refresh();
        } catch (e) {
          replace(err, errorText(e));
        } finally {
          button.disabled = !ready;
        }
      },
    },
    h('h3', {}, 'Add a sender'),
    ready
      ? null
      : noticeNode(
          'Carrier credentials cannot be sealed yet: start the worker once so it publishes its sealing key, then reload this page.',
          'warning',
        ),
    field('sender-provider', 'Carrier', provider),
    field(
      'sender-address',
      'Number or short code',
      address,
      'A phone number (any format) or a 5 or 6 digit short code.',
    ),
    twilioOnly,
    secretLabel,
    secret,
    h('p', { class: 'muted help' }, 'Sealed as soon as it arrives; never shown again.'),
    telnyxOnly,
    field('sender-rate', 'Messages a second', rate, 'What the carrier allows this number.'),
    h(
      'details',
      {},
      h('summary', {}, 'Advanced'),
      field('sender-base-url', 'Carrier API URL', base, 'Only for the carrier simulator or a test carrier.'),
    ),
    err,
    button,
  );
}
