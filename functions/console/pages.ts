/**
 * The console's pages, server-rendered from the service's models. Every value goes through `html` (escaped); the
 * only script is the confirmation of a redrive, and it and the stylesheet carry the response's CSP nonce.
 */
import type { SagaStatus } from '../../shared/runtime/engine/types';
import type { RedriveResult } from '../../shared/runtime/redrive';
import type { DeadLetter } from '../../shared/runtime/store/dead-letters';
import { Html, html, pathOf, prettyJson, query } from './html';
import type { SagaDetail, SagaRow } from './service';
import { formatDuration, layoutTimeline, percentOf, type Bar, type Marker, type Timeline } from './timeline';
import type { TraceView } from '../../shared/runtime/telemetry/trace-view';
import { layoutWaterfall, type WaterfallRow } from './waterfall';

export type Section = 'sagas' | 'failed' | 'dead-letters' | 'metrics';

export interface Frame {
  nonce: string;
  project: string;
}

const STYLE = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:8px 16px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;padding:4px 8px;border-radius:4px}
header a.active{background:#57606a}
header .brand{font-weight:600;margin-right:8px}
header form{margin-left:auto;display:flex;gap:4px}
header .project{color:#afb8c1;font-size:12px}
main{padding:16px;max-width:1200px}
h1{font-size:20px;margin:0 0 12px}
h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.mono,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
pre{background:#fff;border:1px solid #d0d7de;padding:8px;overflow:auto;max-height:360px;white-space:pre-wrap;word-break:break-all;font-size:12px}
a{color:#0969da}
form.filters{display:flex;gap:8px;align-items:end;flex-wrap:wrap;margin-bottom:12px}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:#57606a}
form.inline{display:inline}
input,select,button{font:inherit;padding:3px 6px}
button{cursor:pointer;border:1px solid #8c959f;border-radius:4px;background:#fff}
button.danger{border-color:#cf222e;color:#cf222e}
.badge{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;background:#eaeef2;white-space:nowrap}
.s-SUCCEEDED,.s-APPROVED,.s-CONFIRMED,.s-COMPENSATED{background:#dafbe1;color:#116329}
.s-ABORTED,.s-REJECTED,.s-FAILED,.s-TIMED_OUT,.s-COMPENSATION_FAILED{background:#ffebe9;color:#a40e26}
.s-STARTED,.s-RUNNING,.s-COMPENSATING,.s-PENDING{background:#fff8c5;color:#7d4e00}
.s-SKIPPED{background:#eaeef2;color:#57606a}
.badge.redriven{background:#ddf4ff;color:#0550ae}
.notice{background:#ddf4ff;border:1px solid #54aeff;padding:8px 12px;margin-bottom:12px}
.todo{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;margin:8px 0}
.error{background:#ffebe9;border:1px solid #ff8182;padding:12px}
.pager{margin:10px 0;display:flex;gap:12px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 12px}
dl.facts dt{color:#57606a}
dl.facts dd{margin:0}
.timeline{background:#fff;border:1px solid #d0d7de;padding:8px 12px}
.timeline .axis{display:flex;justify-content:space-between;margin-left:200px;color:#57606a;font-size:11px;border-bottom:1px solid #d0d7de}
.timeline .lane{display:flex;align-items:center;border-bottom:1px dashed #eaeef2}
.timeline .lane-label{width:200px;flex:none;padding:2px 8px 2px 0;font-size:12px}
.timeline .lane-label small{display:block;color:#57606a}
.timeline .track{flex:1;height:28px}
.timeline .lane.parallel .lane-label b::after{content:" \\2225";color:#8250df}
.bar{stroke:#fff;stroke-width:1}
.bar.forward{fill:#54aeff}
.bar.forward.o-SUCCEEDED{fill:#2da44e}
.bar.forward.o-FAILED,.bar.forward.o-TIMED_OUT{fill:#cf222e}
.bar.compensation{fill:#bf8700}
.bar.compensation.o-COMPENSATED{fill:#8250df}
.bar.compensation.o-COMPENSATION_FAILED{fill:#a40e26}
.bar.open{opacity:.6}
.marker{fill:#1f2328;stroke:#fff;stroke-width:1}
.marker.m-dead-lettered{fill:#cf222e}
.marker.m-skipped{fill:#8c959f}
.legend{font-size:12px;color:#57606a;margin-top:6px}
.legend i{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
.legend .l-f{background:#2da44e}.legend .l-x{background:#cf222e}.legend .l-c{background:#8250df}.legend .l-r{background:#54aeff}
.parallel-note{color:#8250df;margin:4px 0}
.waterfall{background:#fff;border:1px solid #d0d7de;padding:8px 12px}
.waterfall .axis{display:flex;justify-content:space-between;margin-left:340px;color:#57606a;font-size:11px;border-bottom:1px solid #d0d7de}
.waterfall .span{display:flex;align-items:center;border-bottom:1px dashed #eaeef2}
.waterfall .span-label{width:340px;flex:none;padding:1px 8px 1px 0;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.waterfall .span-label small{color:#57606a}
.waterfall .track{flex:1;height:16px}
${Array.from({ length: 13 }, (_, d) => `.waterfall .d-${d}{padding-left:${d * 12}px}`).join('\n')}
.sbar{fill:#54aeff}
.sbar.k-SERVER{fill:#2da44e}.sbar.k-CONSUMER{fill:#8250df}.sbar.k-PRODUCER{fill:#bf8700}.sbar.k-CLIENT{fill:#0969da}
.sbar.st-ERROR{fill:#cf222e}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:0 0 14px}
.card{background:#fff;border:1px solid #d0d7de;padding:8px 14px;min-width:120px}
.card.alert{border-color:#cf222e;background:#ffebe9}
.card-value{font-size:22px;font-weight:600}
.card-label{font-size:12px;color:#57606a}
`;

/**
 * A redrive form asks for confirmation (window.confirm) and then sets its `confirm` field; without JavaScript the
 * server answers a confirmation page instead.
 */
const SCRIPT = `
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    const field = form.querySelector('input[name="confirm"]');
    if (field) field.value = 'yes';
  });
}
`;

export const SAGA_STATUSES: readonly SagaStatus[] = [
  'STARTED',
  'COMPENSATING',
  'SUCCEEDED',
  'ABORTED',
  'FAILED',
];

export function page(frame: Frame, title: string, active: Section | null, body: Html): string {
  const nav = (section: Section, href: string, label: string): Html =>
    html`<a href="${href}" class="${section === active ? 'active' : ''}">${label}</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · saga console</title>
        <style nonce="${frame.nonce}">
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <span class="brand">Saga console</span>
          ${nav('sagas', '/', 'Sagas')}${nav('failed', '/failed', 'Failed')}${nav('dead-letters', '/dead-letters', 'Dead letters')}${nav('metrics', '/metrics', 'Metrics')}
          <span class="project">project ${frame.project}</span>
          <form method="get" action="/" role="search">
            <input name="id" placeholder="saga id" aria-label="find a saga by id" size="38" /><button
              type="submit"
            >
              Find
            </button>
          </form>
        </header>
        <main>${body}</main>
        <script nonce="${frame.nonce}">
          ${new Html(SCRIPT)};
        </script>
      </body>
    </html> `.value;
}

const badge = (status: string | null | undefined): Html =>
  status ? html`<span class="badge s-${status}">${status}</span>` : html`-`;

/** The resource's business status (order APPROVED, trip CONFIRMED, …) when its view has one. */
function resourceStatus(row: SagaRow): string | null {
  const s = row.resource?.status;
  return typeof s === 'string' ? s : null;
}

function sagaLink(sagaId: string, text: string = sagaId): Html {
  return html`<a class="mono" href="${pathOf('/sagas/', sagaId)}">${text}</a>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Sagas

export interface ListModel {
  rows: SagaRow[];
  next: string | null;
  types: readonly string[];
  type?: string;
  status?: SagaStatus;
  version?: number;
  limit: number;
  after?: string;
}

function sagaTable(rows: readonly SagaRow[], empty: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table class="sagas">
    <thead>
      <tr>
        <th>saga</th>
        <th>type</th>
        <th>v</th>
        <th>created</th>
        <th>status</th>
        <th>saga status</th>
        <th>awaiting</th>
        <th>reason</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-saga-id="${r.saga.sagaId}" data-type="${r.saga.type}">
            <td>${sagaLink(r.saga.sagaId)}</td>
            <td>${r.saga.type}</td>
            <td>${r.saga.version}</td>
            <td class="mono">${r.saga.createdAt}</td>
            <td>${badge(resourceStatus(r))}</td>
            <td>${badge(r.saga.status)}</td>
            <td>${r.saga.currentSteps.join(', ') || '-'}</td>
            <td>${r.saga.failedReason ?? r.saga.failureReason ?? ''}</td>
          </tr> `,
      )}
    </tbody>
  </table>`;
}

export function listPage(frame: Frame, m: ListModel): string {
  const filters = {
    type: m.type,
    status: m.status,
    version: m.version,
    limit: m.limit === 25 ? undefined : m.limit,
  };
  const option = (value: string, selected: boolean, label: string = value): Html =>
    html`<option value="${value}" ${selected ? html` selected` : ''}>${label}</option>`;
  const body = html`<h1>Sagas</h1>
    <form class="filters" method="get" action="/">
      <label
        >type<select name="type">
          ${option('', !m.type, 'every type')}${m.types.map((t) => option(t, t === m.type))}
        </select></label
      >
      <label
        >status<select name="status">
          ${option('', !m.status, 'any status')}${SAGA_STATUSES.map((s) => option(s, s === m.status))}
        </select></label
      >
      <label
        >version (with a type)<input
          type="number"
          name="version"
          min="1"
          max="1000"
          value="${m.version ?? ''}"
          size="4"
      /></label>
      <label
        >per page<input type="number" name="limit" min="1" max="200" value="${m.limit}" size="4"
      /></label>
      <button type="submit">Filter</button> <a href="/">reset</a>
    </form>
    ${sagaTable(m.rows, 'No sagas match.')}
    <div class="pager">
      ${m.after ? html`<a href="/${query(filters)}">« first page</a>` : ''}
      ${m.next ? html`<a rel="next" class="next" href="/${query({ ...filters, after: m.next })}">next page »</a>` : ''}
    </div>`;
  return page(frame, 'Sagas', 'sagas', body);
}

// ---------------------------------------------------------------------------------------------------------------
// One saga

function timelineHtml(t: Timeline): Html {
  const span = t.endMs - t.startMs;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => html`<span>${formatDuration(span * f)}</span>`);
  const bar = (b: Bar): Html => {
    const x = percentOf(t, b.startMs);
    const width = Math.max(percentOf(t, b.endMs) - x, 0.6);
    const title = `${b.step} ${b.kind}: ${b.outcome}${b.reason ? ` (${b.reason})` : ''}, ${formatDuration(
      b.endMs - b.startMs,
    )}${b.open ? ' so far' : ''}${b.attempts > 1 ? `, ${b.attempts} attempts` : ''}${
      b.overlaps.length > 0 ? `; in parallel with ${b.overlaps.join(', ')}` : ''
    }`;
    return html`<rect
      class="bar ${b.kind} o-${b.outcome}${b.open ? ' open' : ''}"
      data-kind="${b.kind}"
      data-outcome="${b.outcome}"
      data-start-ms="${b.startMs - t.startMs}"
      data-end-ms="${b.endMs - t.startMs}"
      data-overlaps="${b.overlaps.join(' ')}"
      x="${x.toFixed(3)}%"
      width="${Math.min(width, 100 - x).toFixed(3)}%"
      y="${b.kind === 'forward' ? 3 : 15}"
      height="10"
      rx="2"
      ><title>${title}</title></rect
    >`;
  };
  const marker = (k: Marker): Html =>
    html`<circle
      class="marker m-${k.kind}"
      data-kind="${k.kind}"
      cx="${percentOf(t, k.atMs).toFixed(3)}%"
      cy="14"
      r="4"
      ><title>
        ${k.type}${k.reason ? ` (${k.reason})` : ''} at +${formatDuration(k.atMs - t.startMs)}
      </title></circle
    >`;
  const parallelOf = new Map(t.parallel.flatMap((g) => g.map((s) => [s, g] as const)));
  const lanes = t.lanes.map((l) => {
    const group = parallelOf.get(l.step);
    const runs = [
      l.forwardRuns > 0 ? `${l.forwardRuns} forward` : null,
      l.compensationAttempts > 0
        ? `${l.compensationAttempts} compensation attempt${l.compensationAttempts > 1 ? 's' : ''}`
        : null,
    ].filter((x) => x !== null);
    return html`<div
      class="lane${group ? ' parallel' : ''}"
      data-step="${l.step}"
      data-status="${l.status}"
      data-parallel="${group ? group.filter((s) => s !== l.step).join(' ') : ''}"
    >
      <div class="lane-label">
        <b>${l.step}</b> ${badge(l.status)}<small>${runs.join(' · ') || 'not run'}</small>
      </div>
      <svg class="track" width="100%" height="28" role="img" aria-label="${l.step}">
        ${l.bars.map(bar)}${l.markers.map(marker)}
      </svg>
    </div>`;
  });
  return html`<section class="timeline" data-span-ms="${span}">
    <div class="axis">${ticks}</div>
    ${lanes}
    <div class="legend">
      <i class="l-f"></i>forward succeeded<i class="l-r"></i>running<i class="l-x"></i>failed / timed out<i
        class="l-c"
      ></i
      >compensated · upper row forward, lower row compensation · dots: queued, dead-lettered, re-issued,
      skipped
    </div>
    ${t.parallel.map((g) => html`<p class="parallel-note">Ran in parallel: ${g.join(' ∥ ')}</p>`)}
  </section>`;
}

/** The saga's trace: locally a waterfall of its spans; in the cloud a link to Cloud Trace (and its log filter). */
function traceHtml(t: TraceView | null): Html {
  if (!t) return html`<p class="no-trace">No trace: tracing was off when this saga started.</p>`;
  const facts = html`<dl class="facts">
    <dt>trace id</dt>
    <dd class="mono trace-id">${t.traceId}</dd>
    <dt>Cloud Trace</dt>
    <dd><a href="${t.cloudTraceUrl}" rel="noreferrer">open this trace</a></dd>
    <dt>Cloud Logging</dt>
    <dd class="mono">${t.logFilter}</dd>
  </dl>`;
  if (t.spans === null) return facts;
  if (t.spans.length === 0) {
    return html`${facts}
      <p class="no-trace">No spans of this trace in the local span files (yet).</p>`;
  }
  const w = layoutWaterfall(t.spans);
  const span = w.endMs - w.startMs;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => html`<span>${formatDuration(span * f)}</span>`);
  const row = (r: WaterfallRow): Html => {
    const s = r.span;
    const title = `${s.name} (${s.service}): ${formatDuration(r.durationMs)} at +${formatDuration(
      s.startMs - w.startMs,
    )}${s.status === 'ERROR' ? `, error${s.statusMessage ? `: ${s.statusMessage}` : ''}` : ''}`;
    return html`<div
      class="span"
      data-span-id="${s.spanId}"
      data-parent-id="${s.parentSpanId ?? ''}"
      data-service="${s.service}"
      data-name="${s.name}"
      data-kind="${s.kind}"
      data-start-ms="${(s.startMs - w.startMs).toFixed(1)}"
      data-duration-ms="${r.durationMs.toFixed(1)}"
    >
      <div class="span-label d-${Math.min(r.depth, 12)}" title="${title}">
        ${s.name} <small>${s.service} · ${formatDuration(r.durationMs)}</small>
      </div>
      <svg class="track" width="100%" height="16" role="img" aria-label="${s.name}">
        <rect
          class="sbar k-${s.kind} st-${s.status}"
          x="${r.offsetPct.toFixed(3)}%"
          width="${Math.max(r.widthPct, 0.3).toFixed(3)}%"
          y="3"
          height="10"
          rx="2"
        >
          <title>${title}</title>
        </rect>
      </svg>
    </div>`;
  };
  return html`${facts}
    <section class="waterfall" data-trace-id="${t.traceId}" data-span-ms="${span.toFixed(1)}">
      <div class="axis">${ticks}</div>
      ${w.rows.map(row)}
      <div class="legend">
        ${w.rows.length} spans from ${w.services.join(', ')} · green: api request, purple: message handled,
        amber: publish, blue: Firestore, red: error
      </div>
    </section>`;
}

function deadLetterTable(list: readonly DeadLetter[], back: { saga?: string }): Html {
  if (list.length === 0) return html`<p class="empty">No dead letters.</p>`;
  return html`<table class="dead-letters">
    <thead>
      <tr>
        <th>id</th>
        <th>source topic</th>
        <th>saga</th>
        <th>reason</th>
        <th>deliveries</th>
        <th>recorded at</th>
        <th>redriven</th>
        <th></th>
      </tr>
    </thead>
    <tbody>
      ${list.map((d) => {
        const redriven = d.redrivenAt !== null;
        return html`<tr
            id="dl-${d.id}"
            data-dead-letter-id="${d.id}"
            class="${redriven ? 'redriven' : 'not-redriven'}"
          >
            <td class="mono">${d.id}</td>
            <td>${d.sourceTopic}</td>
            <td>${d.sagaId ? sagaLink(d.sagaId) : '-'}</td>
            <td>${d.reason}${d.detail ? html`<br /><small>${d.detail.slice(0, 300)}</small>` : ''}</td>
            <td>${d.deliveryCount ?? '-'}</td>
            <td class="mono">${d.recordedAt}</td>
            <td class="state">
              ${redriven ? html`<span class="badge redriven">redriven</span> <span class="mono">${d.redrivenAt}</span>${d.redriveCount > 1 ? ` (${d.redriveCount}×)` : ''}` : html`<span class="badge">not redriven</span>`}
            </td>
            <td>${redriveForm(d, back)}</td>
          </tr>
          <tr class="message">
            <td colspan="8">
              <details>
                <summary>message</summary>
                <pre class="data">${d.data}</pre>
                <pre class="attributes">${prettyJson(d.attributes)}</pre>
              </details>
            </td>
          </tr> `;
      })}
    </tbody>
  </table>`;
}

function redriveForm(d: DeadLetter, back: { saga?: string }): Html {
  const again = d.redrivenAt !== null;
  const message = `${again ? 'Redrive again' : 'Redrive'} dead letter ${d.id}: republish it to ${d.sourceTopic}?`;
  return html`<form
    class="inline redrive"
    method="post"
    action="/dead-letters/redrive"
    data-confirm="${message}"
  >
    <input
      type="hidden"
      name="id"
      value="${d.id}"
    />${again ? html`<input type="hidden" name="force" value="yes" />` : ''}
    ${back.saga ? html`<input type="hidden" name="saga" value="${back.saga}" />` : ''}<input
      type="hidden"
      name="confirm"
      value=""
    />
    <button type="submit" class="${again ? '' : 'danger'}">${again ? 'redrive again' : 'redrive'}</button>
  </form>`;
}

const WHAT_TO_DO = html`<div class="todo">
  <b>What to do.</b> A compensation could not complete after its attempts ran out, so the saga stopped and an
  operator is needed. Find the cause: the saga's history (on its page), the participant function's logs, and
  the compensation's dead letters. Fix it (e.g. bring the participant back, restore a deleted document), then
  <b>redrive the compensation's dead letter</b>. When the participant confirms the compensation, the saga
  resumes compensating the remaining steps and ends ABORTED (its order or trip REJECTED). Redriving is safe:
  consumers deduplicate, so a message that was in fact processed changes nothing.
</div>`;

export function sagaPage(frame: Frame, d: SagaDetail, nowMs: number): string {
  const s = d.saga;
  const timeline = layoutTimeline(s.steps, s.history, nowMs);
  const t0 = timeline.startMs;
  const resource = d.resource
    ? Object.fromEntries(Object.entries(d.resource).filter(([k]) => k !== 'saga'))
    : null;
  const headline = d.api
    ? html`${d.api.what} <span class="mono">${s.sagaId}</span> ${badge(resourceStatus(d))}`
    : html`saga <span class="mono">${s.sagaId}</span>`;
  const lanes = new Map(timeline.lanes.map((l) => [l.step, l]));
  const body = html`<h1>${headline}</h1>
    <dl class="facts">
      <dt>type</dt>
      <dd>${s.type} v${s.version}</dd>
      <dt>saga status</dt>
      <dd>${badge(s.status)}</dd>
      <dt>awaiting</dt>
      <dd>${s.currentSteps.join(', ') || '-'}</dd>
      <dt>created</dt>
      <dd class="mono">${s.createdAt}</dd>
      <dt>updated</dt>
      <dd class="mono">${s.updatedAt}</dd>
      ${
        s.failureReason
          ? html`<dt>failure reason</dt>
              <dd>${s.failureReason}</dd>`
          : ''
      }
      ${
        s.failedReason
          ? html`<dt>failed reason</dt>
              <dd class="failed-reason">${s.failedReason}</dd>`
          : ''
      }
    </dl>
    ${s.status === 'FAILED' ? WHAT_TO_DO : ''}
    <h2>Timeline</h2>
    ${timelineHtml(timeline)}
    <h2>Trace</h2>
    ${traceHtml(d.trace)}
    <h2>Steps</h2>
    <table class="steps">
      <thead>
        <tr>
          <th>step</th>
          <th>status</th>
          <th>attempts</th>
          <th>forward</th>
          <th>compensation attempts</th>
          <th>forward run</th>
        </tr>
      </thead>
      <tbody>
        ${s.steps.map((st) => {
          const l = lanes.get(st.name);
          const fwd = l?.bars.find((b) => b.kind === 'forward');
          return html`<tr data-step="${st.name}">
            <td>${st.name}</td>
            <td>${badge(st.status)}</td>
            <td>${st.attempts}</td>
            <td>${l?.forwardRuns ?? 0}</td>
            <td>${l?.compensationAttempts ?? 0}</td>
            <td>${fwd ? `${formatDuration(fwd.endMs - fwd.startMs)}${fwd.open ? ' so far' : ''}` : '-'}</td>
          </tr> `;
        })}
      </tbody>
    </table>
    <h2>Dead letters</h2>
    ${deadLetterTable(d.deadLetters, { saga: s.sagaId })}
    ${d.deadLetters.length > 0 ? html`<p><a href="/dead-letters${query({ saga: s.sagaId })}">this saga's dead letters</a></p>` : ''}
    <h2>Data</h2>
    <pre class="json" id="saga-data">${prettyJson(d.data)}</pre>
    ${
      resource
        ? html`<h2>${d.api?.what ?? 'resource'} view</h2>
            <pre class="json" id="resource-view">${prettyJson(resource)}</pre>`
        : ''
    }
    <h2>History</h2>
    <table class="history">
      <thead>
        <tr>
          <th>at</th>
          <th>+</th>
          <th>event</th>
          <th>step</th>
          <th>reason</th>
        </tr>
      </thead>
      <tbody>
        ${s.history.map(
          (h) =>
            html`<tr>
              <td class="mono">${h.at}</td>
              <td class="mono">${formatDuration(Math.max(0, Date.parse(h.at) - t0))}</td>
              <td>${h.type}</td>
              <td>${h.step ?? ''}</td>
              <td>${h.reason ?? ''}</td>
            </tr> `,
        )}
      </tbody>
    </table>`;
  return page(frame, `saga ${s.sagaId}`, null, body);
}

// ---------------------------------------------------------------------------------------------------------------
// Dead letters

export interface DeadLettersModel {
  items: DeadLetter[];
  next: string | null;
  after?: string;
  /** Only this saga's records (not paged). */
  saga?: string;
  limit: number;
  /** What a redrive just did. */
  results?: RedriveResult[];
}

function resultsNotice(results: readonly RedriveResult[]): Html {
  const redriven = results.filter((r) => r.result === 'redriven').length;
  const others = results.filter((r) => r.result !== 'redriven');
  return html`<div class="notice redrive-results">
    <b>Redrive:</b>
    ${results.length === 0 ? 'nothing to redrive' : `${redriven} redriven`}${others.length > 0 ? `, ${others.length} not` : ''}.
    ${
      others.length > 0
        ? html`<ul>
            ${others.map((r) => html`<li><span class="mono">${r.id}</span>: ${r.result}${r.detail ? ` (${r.detail})` : ''}</li>`)}
          </ul>`
        : ''
    }
  </div>`;
}

export function deadLettersPage(frame: Frame, m: DeadLettersModel): string {
  const notRedriven = m.items.filter((d) => d.redrivenAt === null).length;
  const body = html`<h1>Dead letters${m.saga ? html` of saga ${sagaLink(m.saga)}` : ''}</h1>
    ${m.results ? resultsNotice(m.results) : ''}
    <p>
      Messages whose delivery attempts ran out, or that can never be processed. Redrive republishes the
      original message to its source topic, with its ordering key; consumers deduplicate, so redriving is
      safe.
    </p>
    <form
      class="inline redrive-all"
      method="post"
      action="/dead-letters/redrive"
      data-confirm="Redrive every dead letter not redriven yet (on every page)?"
    >
      <input type="hidden" name="all" value="yes" /><input type="hidden" name="confirm" value="" />
      <button type="submit" class="danger">redrive all not redriven</button>
    </form>
    ${m.saga ? html` <a href="/dead-letters">every dead letter</a>` : ''}
    <p>${m.items.length} shown${m.saga ? '' : ' on this page'}, ${notRedriven} not redriven.</p>
    ${deadLetterTable(m.items, m.saga ? { saga: m.saga } : {})}
    <div class="pager">
      ${m.after ? html`<a href="/dead-letters${query({ limit: m.limit === 50 ? undefined : m.limit })}">« first page</a>` : ''}
      ${m.next ? html`<a rel="next" class="next" href="/dead-letters${query({ limit: m.limit === 50 ? undefined : m.limit, after: m.next })}">next page »</a>` : ''}
    </div>`;
  return page(frame, 'Dead letters', 'dead-letters', body);
}

/** Without JavaScript a redrive form arrives unconfirmed: this page asks, and posts again confirmed. */
export function confirmPage(
  frame: Frame,
  what: { all: true } | { id: string; force: boolean; record: DeadLetter | null },
  saga?: string,
): string {
  const question =
    'all' in what
      ? 'Redrive every dead letter not redriven yet?'
      : `Redrive dead letter ${what.id}${what.record ? ` to ${what.record.sourceTopic}` : ''}?`;
  const body = html`<h1>Confirm redrive</h1>
    <p>${question}</p>
    <form method="post" action="/dead-letters/redrive">
      ${'all' in what ? html`<input type="hidden" name="all" value="yes" />` : html`<input type="hidden" name="id" value="${what.id}" />${what.force ? html`<input type="hidden" name="force" value="yes" />` : ''}`}
      ${saga ? html`<input type="hidden" name="saga" value="${saga}" />` : ''}
      <input type="hidden" name="confirm" value="yes" /><button type="submit" class="danger">Redrive</button>
      <a href="/dead-letters">cancel</a>
    </form>`;
  return page(frame, 'Confirm redrive', 'dead-letters', body);
}

// ---------------------------------------------------------------------------------------------------------------
// Failed sagas

export interface FailedModel {
  rows: { row: SagaRow; deadLetters: DeadLetter[] }[];
  next: string | null;
  after?: string;
}

export function failedPage(frame: Frame, m: FailedModel): string {
  const body = html`<h1>Failed sagas</h1>
    ${WHAT_TO_DO}
    ${
      m.rows.length === 0
        ? html`<p class="empty">No saga is FAILED.</p>`
        : m.rows.map(({ row, deadLetters }) => {
            const s = row.saga;
            const stuck = s.steps.filter((x) => x.status === 'COMPENSATION_FAILED').map((x) => x.name);
            const pending = deadLetters.filter((d) => d.redrivenAt === null);
            return html`<section class="failed" data-saga-id="${s.sagaId}">
              <h2>${row.api?.what ?? 'saga'} ${sagaLink(s.sagaId)} <small>${s.type} v${s.version}</small></h2>
              <dl class="facts">
                <dt>failed reason</dt>
                <dd class="failed-reason">${s.failedReason ?? '-'}</dd>
                <dt>compensation stuck at</dt>
                <dd>${stuck.join(', ') || '-'}</dd>
                <dt>why it compensated</dt>
                <dd>${s.failureReason ?? '-'}</dd>
                <dt>updated</dt>
                <dd class="mono">${s.updatedAt}</dd>
                <dt>dead letters</dt>
                <dd>${deadLetters.length} (${pending.length} not redriven)</dd>
              </dl>
              ${deadLetters.length > 0 ? deadLetterTable(deadLetters, { saga: s.sagaId }) : html`<p>No dead letter recorded for it: look at its history and the function logs.</p>`}
            </section>`;
          })
    }
    <div class="pager">
      ${m.after ? html`<a href="/failed">« first page</a>` : ''}
      ${m.next ? html`<a rel="next" class="next" href="/failed${query({ after: m.next })}">next page »</a>` : ''}
    </div>`;
  return page(frame, 'Failed sagas', 'failed', body);
}

// ---------------------------------------------------------------------------------------------------------------

export function errorPage(frame: Frame, status: number, title: string, message: string): string {
  return page(
    frame,
    `${status} ${title}`,
    null,
    html`<div class="error" data-status="${status}">
      <h1>${status} ${title}</h1>
      <p>${message}</p>
      <p><a href="/">back to the sagas</a></p>
    </div>`,
  );
}
