// SPDX-License-Identifier: AGPL-3.0-or-later
// account.js — a person's own login: the second step of a login (a code
// from the authenticator app, or a recovery code), enrolling an
// authenticator (a QR code drawn here from the modules the server sends,
// the secret as text, then a first code, then the ten recovery codes shown
// once), and the Account page (#/account): two-factor login on or off,
// new recovery codes, and her sessions — device, address, when each
// began and was last used — any of which she ends, or all but this one. The server decides and
// audits everything (dashboard/api_two_factor.c, api_sessions.c).
import { api } from './api.js';
import { h, replace } from './dom.js';
import { errorText, errorBox } from './notice.js';

const SVG = 'http://www.w3.org/2000/svg';
const QUIET = 4; // modules of white around a QR code, as the standard asks

/** An SVG of a QR code: size × size modules, '1' dark, row by row. */
export function qrSvg(size, modules) {
  const svg = document.createElementNS(SVG, 'svg');
  const full = size + 2 * QUIET;
  svg.setAttribute('viewBox', `0 0 ${full} ${full}`);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code for your authenticator app');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const bg = document.createElementNS(SVG, 'rect');
  bg.setAttribute('width', String(full));
  bg.setAttribute('height', String(full));
  bg.setAttribute('fill', '#fff');
  const d = [];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) if (modules[y * size + x] === '1') d.push(`M${x + QUIET} ${y + QUIET}h1v1h-1z`);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d.join(''));
  path.setAttribute('fill', '#000');
  svg.append(bg, path);
  return svg;
}

function codeInput(id) {
  return h('input', {
    id,
    name: 'code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    pattern: '[0-9 ]{6,7}',
    maxlength: 7,
    required: true,
    class: 'code',
  });
}

/** The login's second step (stage 'code'): a code, or a recovery code.
 * done(result) gets the server's answer once the session is a full one,
 * or done(null, why) when the login must start over. */
export function codeForm(done) {
  const code = codeInput('login-code');
  const recovery = h('input', {
    id: 'login-recovery',
    autocomplete: 'off',
    autocapitalize: 'none',
    spellcheck: 'false',
    maxlength: 40,
    placeholder: 'xxxx-xxxx-xxxx-xxxx',
  });
  const err = errorBox();
  let useRecovery = false;
  const codePart = h(
    'div',
    { class: 'stack' },
    h('label', { for: 'login-code' }, 'Code from your authenticator app'),
    code,
  );
  const recoveryPart = h(
    'div',
    { class: 'stack', hidden: true },
    h('label', { for: 'login-recovery' }, 'One of your recovery codes'),
    recovery,
  );
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'link',
      id: 'use-recovery',
      onclick: () => {
        useRecovery = !useRecovery;
        codePart.hidden = useRecovery;
        recoveryPart.hidden = !useRecovery;
        code.required = !useRecovery;
        recovery.required = useRecovery;
        toggle.textContent = useRecovery ? 'Use a code from the app instead' : 'Lost your phone? Use a recovery code';
        (useRecovery ? recovery : code).focus();
      },
    },
    'Lost your phone? Use a recovery code',
  );
  const form = h(
    'form',
    {
      class: 'card login',
      id: 'code-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        try {
          const body = useRecovery ? { recovery_code: recovery.value.trim() } : { code: code.value.trim() };
          done(await api('POST', '/api/login/code', body));
        } catch (e) {
          // Too many codes, or the few minutes are over: the login starts again.
          if (e.status === 401 && e.code !== 'invalid_code') done(null, errorText(e));
          else replace(err, errorText(e));
        }
      },
    },
    h('h1', {}, 'Two-factor login'),
    h('p', { class: 'muted' }, 'Your password was right. Now type the 6-digit code your authenticator app shows.'),
    codePart,
    recoveryPart,
    err,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'),
    toggle,
  );
  setTimeout(() => code.focus(), 0);
  return form;
}

/** Enrolling an authenticator: the QR code and the secret, then a first
 * code; then the recovery codes, shown once. done() runs when she has
 * seen them. intro: the sentence above (why she is asked). */
export async function enrolCard(intro, done) {
  const card = h('div', { class: 'card stack enrol', id: 'enrol' });
  let e;
  try {
    e = await api('POST', '/api/two-factor/enrol');
  } catch (err) {
    replace(card, h('h2', {}, 'Set up two-factor login'), errorBox(errorText(err)));
    return card;
  }
  const code = codeInput('enrol-code');
  const err = errorBox();
  const form = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        try {
          const r = await api('POST', '/api/two-factor/enrol/confirm', { code: code.value.trim() });
          replace(card, recoveryCodes(r.recovery_codes, done));
        } catch (x) {
          replace(err, errorText(x));
        }
      },
    },
    h('label', { for: 'enrol-code' }, 'Then type the 6-digit code the app shows'),
    code,
    err,
    h('button', { type: 'submit', class: 'primary' }, 'Turn on two-factor login'),
  );
  replace(
    card,
    h('h2', {}, 'Set up two-factor login'),
    h('p', {}, intro),
    h(
      'ol',
      { class: 'steps' },
      h('li', {}, 'Open an authenticator app on your phone (Google Authenticator, Aegis, 1Password, …).'),
      h('li', {}, 'Scan this QR code with it, or type the key below.'),
    ),
    qrSvg(e.qr.size, e.qr.modules),
    h('label', { for: 'enrol-secret' }, 'Key (if you cannot scan)'),
    h('input', {
      id: 'enrol-secret',
      readonly: true,
      value: e.secret.replace(/(.{4})/g, '$1 ').trim(),
      class: 'secret',
      onfocus: (ev) => ev.target.select(),
    }),
    form,
  );
  setTimeout(() => code.focus(), 0);
  return card;
}

function recoveryCodes(codes, done, title = 'Two-factor login is on') {
  return [
    h('h2', {}, title),
    h(
      'p',
      {},
      'Keep these recovery codes somewhere safe (printed, or in a password manager). Each logs you in once if you lose your phone. They are shown only now.',
    ),
    h(
      'ul',
      { class: 'recovery-codes', id: 'recovery-codes' },
      codes.map((c) => h('li', {}, h('code', {}, c))),
    ),
    h('button', { type: 'button', class: 'primary', id: 'recovery-done', onclick: () => done() }, 'I have kept them'),
  ];
}

// --- the Account page ---

function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
}

/** The Account page for the user me; rerender() draws it again. */
export async function accountPage(me, rerender) {
  const el = h('section', { class: 'leads account' }, h('h2', {}, 'Account'));
  const err = errorBox();
  el.append(err);
  try {
    const [tf, s] = await Promise.all([api('GET', '/api/two-factor'), api('GET', '/api/sessions')]);
    el.append(
      me.acting ? actingTwoFactorCard(tf, me) : twoFactorCard(tf, rerender),
      sessionsCard(s.sessions, rerender),
    );
  } catch (e) {
    replace(err, errorText(e));
  }
  return el;
}

function enrolledText(tf) {
  return `On since ${when(tf.enrolled_at)}. ${tf.recovery_codes_left} recovery code${tf.recovery_codes_left === 1 ? '' : 's'} left.`;
}

/** Her own account's two-factor login, read only while she acts in a
 * chapter: the server refuses changes there (409 acting_in_chapter). */
function actingTwoFactorCard(tf, me) {
  return h(
    'div',
    { class: 'card stack', id: 'two-factor' },
    h('h3', {}, 'Two-factor login'),
    h('p', { id: 'two-factor-state' }, tf.enrolled ? enrolledText(tf) : 'Off.'),
    h(
      'p',
      { class: 'flash warning', id: 'two-factor-acting' },
      `You are acting in ${me.acting.org.name}. Your two-factor login belongs to your account in ${me.acting.home}: leave the chapter to change it.`,
    ),
  );
}

function twoFactorCard(tf, rerender) {
  const card = h('div', { class: 'card stack', id: 'two-factor' }, h('h3', {}, 'Two-factor login'));
  if (!tf.enrolled) {
    card.append(
      h('p', {}, 'Off. With it on, logging in also takes a code from an app on your phone.'),
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          id: 'enrol-start',
          onclick: async () => {
            replace(card, await enrolCard('A stolen password alone will no longer open your account.', rerender));
          },
        },
        'Set up two-factor login',
      ),
    );
    return card;
  }
  const password = h('input', {
    id: 'off-password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const code = h('input', { id: 'off-code', autocomplete: 'one-time-code', required: true, maxlength: 40 });
  const err = errorBox();
  const off = h(
    'form',
    {
      class: 'stack',
      id: 'two-factor-off',
      hidden: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(err);
        const c = code.value.trim();
        try {
          await api('POST', '/api/two-factor/disable', {
            password: password.value,
            ...(/^[0-9 ]{6,7}$/.test(c) ? { code: c } : { recovery_code: c }),
          });
          rerender();
        } catch (e) {
          replace(err, errorText(e));
        }
      },
    },
    tf.required
      ? h(
          'p',
          { class: 'flash warning' },
          'Your organisation requires two-factor login for your role: you will set up a new authenticator right away.',
        )
      : null,
    h('label', { for: 'off-password' }, 'Your password'),
    password,
    h('label', { for: 'off-code' }, 'A code from the app, or a recovery code'),
    code,
    err,
    h('button', { type: 'submit', class: 'danger primary' }, 'Turn off two-factor login'),
  );
  const renewCode = h('input', { id: 'renew-code', autocomplete: 'one-time-code', required: true, maxlength: 40 });
  const renewErr = errorBox();
  const renew = h(
    'form',
    {
      class: 'stack',
      id: 'recovery-renew',
      hidden: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        replace(renewErr);
        const c = renewCode.value.trim();
        try {
          const r = await api(
            'POST',
            '/api/two-factor/recovery-codes',
            /^[0-9 ]{6,7}$/.test(c) ? { code: c } : { recovery_code: c },
          );
          replace(card, recoveryCodes(r.recovery_codes, rerender, 'New recovery codes'));
        } catch (e) {
          replace(renewErr, errorText(e));
        }
      },
    },
    h('p', { class: 'muted' }, 'Your old recovery codes stop working.'),
    h('label', { for: 'renew-code' }, 'A code from the app, or a recovery code'),
    renewCode,
    renewErr,
    h('button', { type: 'submit', class: 'primary' }, 'Make new recovery codes'),
  );
  card.append(
    h('p', { id: 'two-factor-state' }, enrolledText(tf)),
    h(
      'button',
      {
        type: 'button',
        id: 'recovery-renew-open',
        onclick: () => {
          renew.hidden = false;
          renewCode.focus();
        },
      },
      'New recovery codes…',
    ),
    renew,
    h(
      'button',
      {
        type: 'button',
        id: 'two-factor-off-open',
        onclick: () => {
          off.hidden = false;
          password.focus();
        },
      },
      'Turn off or move to another phone…',
    ),
    off,
  );
  return card;
}

function sessionsCard(sessions, rerender) {
  const err = errorBox();
  const act = async (fn) => {
    replace(err);
    try {
      await fn();
      rerender();
    } catch (e) {
      replace(err, errorText(e));
    }
  };
  const others = sessions.filter((s) => !s.current).length;
  return h(
    'div',
    { class: 'card stack', id: 'sessions' },
    h('h3', {}, 'Where you are logged in'),
    h(
      'ul',
      { class: 'list', id: 'session-list' },
      sessions.map((s) =>
        h(
          'li',
          { class: 'item session', 'data-session': s.id },
          h(
            'div',
            { class: 'grow' },
            h('span', { class: 'name' }, s.device),
            s.current ? h('span', { class: 'state state-completed' }, 'this device') : null,
            s.stage !== 'full' ? h('span', { class: 'state state-paused' }, 'code not yet given') : null,
            h(
              'p',
              { class: 'muted' },
              `${s.address || 'unknown address'} · since ${when(s.created_at)} · last used ${when(s.last_seen_at)}`,
            ),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'end-session',
              onclick: () =>
                act(async () => {
                  await api('POST', `/api/sessions/${s.id}/end`);
                  if (s.current) location.reload();
                }),
            },
            s.current ? 'Log out' : 'End',
          ),
        ),
      ),
    ),
    err,
    others
      ? h(
          'button',
          {
            type: 'button',
            id: 'logout-others',
            onclick: () => act(() => api('POST', '/api/logout-everywhere', { keep_this: true })),
          },
          `Log out everywhere else (${others})`,
        )
      : h('p', { class: 'muted' }, 'You are logged in nowhere else.'),
  );
}
