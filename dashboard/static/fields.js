// SPDX-License-Identifier: AGPL-3.0-or-later
// fields.js — a script's {field} and {field|fallback} filled in for a
// contact, the way the server renders it (tocsin_blast_render, schema
// 006): field names are case-insensitive, a value is cut at 100
// characters, an empty one gives the fallback (or nothing). For previews
// only: what is sent is always rendered by the server.

const FIELD = /\{([A-Za-z_][A-Za-z0-9_]{0,63})(?:\|([^{}|]*))?\}/g;

/** text with every field of contact ({first_name: ..., ...}) filled in. */
export function fillFields(text, contact) {
  return text.replace(FIELD, (_, name, fallback) => {
    const v = [...String(contact[name.toLowerCase()] ?? '')].slice(0, 100).join('');
    return v || fallback || '';
  });
}

/** Why the server would refuse text as a script, or null
 * (tocsin_outreach_script_error, schema 010). */
export function scriptError(text) {
  if (!text.length || [...text].length > 1600) return 'must be 1 to 1600 characters';
  if (/[{}]/.test(text.replace(FIELD, ''))) return 'braces are for fields only: {name} or {name|fallback}';
  return null;
}
