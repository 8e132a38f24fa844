// SPDX-License-Identifier: AGPL-3.0-or-later
// sso_settings.js — an admin's single sign-on page (#/sso, under Org): the
// org's OpenID provider (issuer, client id, client secret), on or off,
// with the redirect address to register at the provider and the sign-in
// link to hand out. The secret is write-only: the server says only
// whether one is set, so the field stays empty and an empty field keeps
// it. The server checks every value and audits every change
// (dashboard/api_sso.c); this page shows its sentence when it refuses.
import { api } from './api.js';
import { h } from './dom.js';
import { errorText, errorBox, say } from './notice.js';

function field(id, label, input, hint) {
  return [h('label', { for: id }, label), input, hint ? h('p', { class: 'muted hint' }, hint) : null];
}

function copyable(id, label, value) {
  return [
    h('label', { for: id }, label),
    h('input', { id, readonly: true, value, onfocus: (ev) => ev.target.select() }),
  ];
}

/** The page: a section with the form, or the error that kept it away. */
export async function ssoPage() {
  const el = h('section', { class: 'leads settings' }, h('h2', {}, 'Single sign-on'));
  let s;
  try {
    s = await api('GET', '/api/sso');
  } catch (e) {
    el.append(errorBox(errorText(e)));
    return el;
  }
  const enabled = h('input', { id: 'sso-enabled', type: 'checkbox', checked: s.enabled });
  const issuer = h('input', {
    id: 'sso-issuer',
    type: 'url',
    maxlength: 500,
    value: s.issuer || '',
    placeholder: 'https://login.example.org',
  });
  const clientId = h('input', { id: 'sso-client-id', maxlength: 255, value: s.client_id || '' });
  const secret = h('input', {
    id: 'sso-secret',
    type: 'password',
    maxlength: 500,
    autocomplete: 'new-password',
    placeholder: s.client_secret_set ? 'stored — leave empty to keep it' : 'none stored',
  });
  const clear = h('input', { id: 'sso-clear', type: 'checkbox' });
  const msg = h('div', { id: 'sso-message' });
  const form = h(
    'form',
    {
      class: 'card stack',
      id: 'sso-form',
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const saved = await api('POST', '/api/sso', {
            enabled: enabled.checked,
            issuer: issuer.value.trim(),
            client_id: clientId.value.trim(),
            client_secret: secret.value,
            clear_secret: clear.checked,
          });
          secret.value = '';
          clear.checked = false;
          secret.placeholder = saved.client_secret_set ? 'stored — leave empty to keep it' : 'none stored';
          say(msg, saved.enabled ? 'Single sign-on saved and on.' : 'Single sign-on saved; it is off.', 'success');
        } catch (e) {
          say(msg, errorText(e), 'error');
        }
      },
    },
    h(
      'p',
      { class: 'muted' },
      'People sign in with your organisation’s own login (OpenID Connect). Someone signs in only if the provider has verified their email address and it is the address of an account here, or of an invite not yet used.',
    ),
    h('label', { class: 'check', for: 'sso-enabled' }, enabled, 'Let people sign in this way'),
    field('sso-issuer', 'Issuer', issuer, 'The provider’s address, exactly as its discovery document names it.'),
    field('sso-client-id', 'Client id', clientId),
    field(
      'sso-secret',
      'Client secret',
      secret,
      'Never shown again once saved. A provider that allows a public client with PKCE needs none.',
    ),
    h('label', { class: 'check', for: 'sso-clear' }, clear, 'Remove the stored secret'),
    copyable('sso-redirect', 'Redirect address to register at the provider', s.redirect_uri),
    copyable('sso-link', 'Sign-in link to share', new URL(s.login_url, location.href).href),
    msg,
    h('button', { class: 'primary', type: 'submit' }, 'Save single sign-on'),
  );
  el.append(form);
  return el;
}
