// SPDX-License-Identifier: AGPL-3.0-or-later
// dom.js — building the page without HTML strings: h() makes elements and
// inserts every string as a text node, so a member's "<script>" is shown
// as those characters and never parsed. innerHTML is not used anywhere.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso),
    now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

export function contactName(c) {
  const name = [c.first_name, c.last_name].filter(Boolean).join(' ');
  return name || c.phone || 'Unknown member';
}
