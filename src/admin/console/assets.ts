/**
 * The console's only script and stylesheet, served from its own origin (the CSP allows nothing
 * else: no inline code). The script follows `/console/events` (SSE) and swaps in each live
 * section's new HTML (rendered and escaped by the server); the approvals are merged by id, so a
 * form being filled in (a deny reason) is kept while others come and go. Without the script the
 * console still works: forms post, pages reload.
 */

/** console.js */
export const SCRIPT = `'use strict';
(function () {
  var live = document.getElementById('live');
  if (!document.querySelector('[data-live]') || typeof EventSource === 'undefined') return;
  var source = new EventSource('/console/events');
  function merge(section, fresh) {
    var kept = new Map();
    Array.prototype.forEach.call(section.children, function (child) {
      if (child.dataset.key) kept.set(child.dataset.key, child);
    });
    var next = Array.prototype.map.call(fresh.children, function (child) {
      return (child.dataset.key && kept.get(child.dataset.key)) || child;
    });
    section.replaceChildren.apply(section, next);
  }
  source.addEventListener('sections', function (event) {
    var sections = JSON.parse(event.data);
    Object.keys(sections).forEach(function (id) {
      var section = document.getElementById(id);
      if (!section) return;
      var template = document.createElement('template');
      template.innerHTML = sections[id];
      if (section.hasAttribute('data-keyed')) merge(section, template.content);
      else section.replaceChildren(template.content);
    });
    document.body.dataset.updated = String(Date.now());
  });
  source.addEventListener('open', function () { if (live) { live.hidden = false; live.textContent = 'live'; live.className = 'live'; } });
  source.addEventListener('error', function () { if (live) { live.hidden = false; live.textContent = 'reconnecting…'; live.className = 'live off'; } });
  source.addEventListener('logout', function () { source.close(); window.location.reload(); });
})();
`;

/** console.css */
export const STYLE = `:root { font-family: system-ui, sans-serif; color: #1b1f24; background: #f6f7f9; }
body { margin: 0 auto; max-width: 1100px; padding: 0 1rem 3rem; }
header { display: flex; gap: 1.5rem; align-items: center; border-bottom: 1px solid #d0d4da; }
header h1 { font-size: 1.2rem; margin: .8rem 0; }
nav { display: flex; gap: 1rem; align-items: center; flex: 1; }
nav a[aria-current] { font-weight: bold; }
form.inline { display: inline; margin-left: auto; }
.live { font-size: .8rem; color: #1a7f37; }
.live.off { color: #9a6700; }
.flash { background: #dafbe1; border: 1px solid #1a7f37; padding: .5rem .8rem; border-radius: 4px; }
.error { background: #ffebe9; border: 1px solid #cf222e; padding: .5rem .8rem; border-radius: 4px; }
.empty { color: #57606a; }
.health.ok strong { color: #1a7f37; }
.health.degraded strong { color: #cf222e; }
article.approval { background: #fff; border: 1px solid #d0d4da; border-left: 4px solid #9a6700; border-radius: 4px; padding: .6rem 1rem; margin: .8rem 0; }
article.approval h3 { margin: .2rem 0; font-size: 1.05rem; }
.kind { font-size: .8rem; color: #57606a; font-weight: normal; }
.meta { color: #57606a; font-size: .85rem; margin: .2rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dt { color: #57606a; }
dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #f6f8fa; padding: .5rem; overflow: auto; max-height: 24rem; white-space: pre-wrap; overflow-wrap: anywhere; }
form.answer { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .5rem; }
form.answer .deny { background: #cf222e; color: #fff; border-color: #a40e26; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
button { padding: .3rem .7rem; border: 1px solid #8c959f; border-radius: 4px; background: #f6f8fa; cursor: pointer; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eaeef2; vertical-align: top; overflow-wrap: anywhere; }
td.state.ready { color: #1a7f37; }
td.state.failed, td.state.restarting { color: #cf222e; }
.unconfined { color: #cf222e; }
`;

/** favicon.svg (without one the browser asks the admin API for /favicon.ico, which refuses it). */
export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1a7f37"/><path d="M4 8.5l2.5 2.5L12 5" stroke="#fff" stroke-width="2" fill="none"/></svg>`;
