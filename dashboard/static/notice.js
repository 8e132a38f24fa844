// SPDX-License-Identifier: AGPL-3.0-or-later
// notice.js — what the app tells the person, in one style everywhere: an
// error's sentence (the server's own, or the network's), a message of one
// of three kinds (success: it worked; warning: it did not happen, and why;
// error: it failed), shown either at the top of the page (flash(), kept
// until dismissed or the next page) or next to what was used (say()); and
// the live segment counter under every message box.
import { ApiError } from './api.js';
import { h, replace } from './dom.js';
import { countSms, unitsLeft } from './sms.js';

/** The sentence for a thrown value: an ApiError's message is the
 * server's (or "Cannot reach the server..."). */
export function errorText(e) {
  return e instanceof ApiError ? e.message : String(e);
}

// success and warning look different (green, amber); an error is red text
// read out at once (role alert).
const CLASS = { success: 'flash success', warning: 'flash warning', error: 'error' };

/** A message node of kind 'success', 'warning' (the default) or 'error';
 * with dismiss, a × button that removes it. Null for no text. */
export function noticeNode(text, kind = 'warning', { dismiss = false } = {}) {
  if (!text) return null;
  if (!CLASS[kind]) throw new Error(`no notice kind ${kind}`);
  const p = h(
    'p',
    { class: CLASS[kind], role: kind === 'error' ? 'alert' : 'status', 'data-kind': kind },
    h('span', {}, text),
    dismiss
      ? h('button', { type: 'button', class: 'link dismiss', 'aria-label': 'Dismiss', onclick: () => p.remove() }, '×')
      : null,
  );
  return p;
}

/** Shows text of kind in el (a form's own message line), replacing what
 * was there, and scrolls it into view (a phone's screen may have moved
 * on); no text clears it. */
export function say(el, text, kind = 'warning') {
  replace(el, noticeNode(text, kind));
  if (text) el.scrollIntoView?.({ block: 'nearest' });
}

/** A line for an error (empty: a form's, filled when something fails;
 * hidden while empty). */
export function errorBox(text) {
  return h('p', { class: 'error', role: 'alert' }, text);
}

// The page's message, kept for the next page when there is no page to
// show it on yet (after an invite is accepted, the login page shows it).
let kept = null;

/** The page's message at the top (#flash), dismissable; with
 * { next: true }, or when no page shows one yet, on the next page drawn
 * (after a form that redraws its page). */
export function flash(text, kind = 'warning', { next = false } = {}) {
  const el = next ? null : document.getElementById('flash');
  if (el) replace(el, noticeNode(text, kind, { dismiss: true }));
  else kept = { text, kind };
}

/** The message kept for the next page, once (null when none). */
export function takeFlash() {
  const k = kept;
  kept = null;
  return k ? noticeNode(k.text, k.kind, { dismiss: true }) : null;
}

/** The counter's line for text: "31 characters · GSM-7 · 1 text · 129
 * left" (lib/sms's rules: sms.js). */
export function counterText(text) {
  const info = countSms(text);
  const texts = `${info.segments} text${info.segments === 1 ? '' : 's'}`;
  return `${info.chars} characters · ${info.encoding} · ${texts} · ${unitsLeft(info)} left`;
}

/** A live counter for box (a textarea): a <p class="counter"> that
 * follows its input, with prefix before the figures; update() redraws it
 * after a change made from code. */
export function segmentCounter(box, { id, prefix = '' } = {}) {
  const el = h('p', { class: 'counter', id, 'aria-live': 'polite' });
  const update = () => replace(el, `${prefix}${counterText(box.value)}`);
  box.addEventListener('input', update);
  update();
  return { el, update };
}

/** A link shown once in out (an invite, a password reset): the admin
 * copies it and passes it on. */
export function showLink(out, text, url) {
  replace(
    out,
    h(
      'div',
      { class: 'card stack' },
      h('p', {}, text),
      h('input', {
        readonly: true,
        value: url,
        class: 'link-once',
        'aria-label': 'The link',
        onfocus: (e) => e.target.select(),
      }),
      h('p', { class: 'muted' }, 'It is shown only now. It works once, for 7 days.'),
    ),
  );
}
