/* SPDX-License-Identifier: AGPL-3.0-or-later
 * phones_page.c — the simulator's "phones" web page at /sim/: a person
 * picks a number, texts the short code, and watches that number's thread
 * (what it sent and everything it received), like a phone. Plain HTML and
 * JavaScript kept in this file; message text is only ever inserted with
 * textContent, never as HTML. */
#include "sim.h"

static const char page[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Carrier simulator: phones</title>\n<style>\n"
    "body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f2f2f7;color:#111}\n"
    "header{background:#222;color:#fff;padding:.6rem 1rem}header h1{font-size:1.1rem;margin:0}\n"
    "main{max-width:28rem;margin:0 auto;padding:1rem}\n"
    "label{display:block;font-size:.85rem;color:#555;margin-top:.6rem}\n"
    "input,textarea,select,button{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;"
    "border:1px solid #bbb;border-radius:8px}\n"
    "button{background:#0a7cff;color:#fff;border:0;margin-top:.6rem;cursor:pointer}\n"
    "#thread{margin-top:1rem;display:flex;flex-direction:column;gap:.4rem}\n"
    ".msg{max-width:80%;padding:.45rem .7rem;border-radius:14px;white-space:pre-wrap;word-wrap:break-word}\n"
    ".out{align-self:flex-end;background:#0a7cff;color:#fff}\n"
    ".in{align-self:flex-start;background:#e5e5ea}\n"
    ".meta{font-size:.7rem;opacity:.7;display:block}\n#status{font-size:.85rem;color:#a00;min-height:1.2em}\n"
    "</style>\n</head>\n<body>\n<header><h1>Carrier simulator &mdash; phones</h1></header>\n<main>\n"
    "<label for=\"number\">This phone's number</label>\n"
    "<input id=\"number\" value=\"+14155550123\" autocomplete=\"off\">\n"
    "<label for=\"to\">Texting</label><input id=\"to\" value=\"24680\">\n"
    "<label for=\"provider\">Carrier network</label>\n"
    "<select id=\"provider\"><option>twilio</option><option>telnyx</option></select>\n"
    "<label for=\"body\">Message</label><textarea id=\"body\" rows=\"2\">JOIN</textarea>\n"
    "<button id=\"send\">Send</button>\n<div id=\"status\" role=\"status\"></div>\n"
    "<section id=\"thread\" aria-live=\"polite\"></section>\n</main>\n<script type=\"module\">\n"
    "const $ = (id) => document.getElementById(id);\n"
    "async function refresh() {\n"
    "  const number = $('number').value.trim();\n"
    "  if (!number) return;\n"
    "  const r = await fetch('/sim/phones/' + encodeURIComponent(number));\n"
    "  if (!r.ok) return;\n"
    "  const data = await r.json();\n"
    "  const thread = $('thread');\n"
    "  thread.replaceChildren();\n"
    "  for (const m of data.messages) {\n"
    "    const div = document.createElement('div');\n"
    "    div.className = 'msg ' + (m.direction === 'inbound' ? 'out' : 'in');\n"
    "    div.textContent = m.body;\n"
    "    const meta = document.createElement('span');\n"
    "    meta.className = 'meta';\n"
    "    meta.textContent = (m.direction === 'inbound' ? 'to ' + m.to : 'from ' + m.from) + ' \\u00b7 ' + m.status;\n"
    "    div.append(meta);\n"
    "    thread.append(div);\n"
    "  }\n"
    "}\n"
    "$('send').addEventListener('click', async () => {\n"
    "  const payload = {from: $('number').value.trim(), to: $('to').value.trim(),\n"
    "                   body: $('body').value, provider: $('provider').value};\n"
    "  const r = await fetch('/sim/inbound', {method: 'POST', body: JSON.stringify(payload)});\n"
    "  const data = await r.json();\n"
    "  $('status').textContent = r.ok ? (data.gateway_status >= 300 ? 'the gateway answered ' + data.gateway_status : '')\n"
    "                                 : (data.error && data.error.message) || 'not sent';\n"
    "  if (r.ok && !data.gateway_status) $('status').textContent = 'gateway unreachable: ' + data.error;\n"
    "  $('body').value = '';\n"
    "  refresh();\n"
    "});\n"
    "$('number').addEventListener('change', refresh);\n"
    "setInterval(refresh, 1000);\n"
    "refresh();\n"
    "</script>\n</body>\n</html>\n";

static void phones_page(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_http_add_header(
        r, "Content-Security-Policy",
        "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'");
    tocsin_http_respond(r, 200, "text/html; charset=utf-8", page, sizeof page - 1);
}

void sim_phones_routes(struct sim *s)
{
    tocsin_http_route(s->http, "GET", "/sim/", phones_page, s);
    tocsin_http_route(s->http, "GET", "/", phones_page, s);
}
