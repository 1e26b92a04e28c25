// @ts-check
// The console page: plain DOM code, polling once a second. It reads the public API through
// the console server (/api/...) and the local runner's executions (/executions), with the
// operator token the address carried after #token= (kept in this tab's session storage).
// Checked by tsc with this folder's tsconfig.json (DOM types), bundled by esbuild when served.
import { eventDetail, reasonCell, relativeTime } from '../../../../cli/format.ts';

/** @typedef {import('../../../../cli/format.ts').DomainStatus & { notices?: Notice[] }} DomainStatus */
/** @typedef {import('../../../../cli/format.ts').TimelineEvent} TimelineEvent */
/** @typedef {import('../../../../cli/format.ts').Database} Database */
/** @typedef {import('../../../../cli/format.ts').DatabaseCertificateStatus & { notices?: Notice[] }} DatabaseStatus */
/** @typedef {import('../../../../cli/format.ts').LimitsReport} LimitsReport */
/** @typedef {import('../types.ts').ExecutionSummary} ExecutionSummary */
/** @typedef {import('../types.ts').ExecutionDetail} ExecutionDetail */
/** @typedef {import('../types.ts').ExecutionStep} ExecutionStep */
/** @typedef {import('../types.ts').StateGraph} StateGraph */
/**
 * What the owners were told (GET /apps, and a domain's or database's status).
 * @typedef {{ notificationId: string, type: string, sentAt: string, daysLeft?: number, expiresAt?: string, certificateName?: string }} Notice
 */
/**
 * @typedef {{ app: string, enabled?: boolean, domains: DomainStatus[], databases: Array<{ database: Database, status?: DatabaseStatus }>, notices: Notice[] }} AppView
 */

const POLL_MS = 1000;
/** The API throttles each token (50 a second locally): a poll's reads stay under half of that, however many apps. */
const MS_PER_READ = 40;
const TOKEN_KEY = 'console-operator-token';
const SVG = 'http://www.w3.org/2000/svg';

/** How many requests the page made, for pacing the polls. */
let reads = 0;

const view = {
  token: '',
  /** @type {AppView[]} */
  apps: [],
  /** @type {ExecutionSummary[]} */
  executions: [],
  /** @type {StateGraph | undefined} */
  graph: undefined,
  /** @type {LimitsReport | undefined} */
  limits: undefined,
  /** @type {{ app: string, hostname: string } | undefined} */
  domain: undefined,
  /** @type {{ key: string, events: TimelineEvent[] } | undefined} */
  timeline: undefined,
  /** @type {string | undefined} */
  executionName: undefined,
  /** @type {ExecutionDetail | undefined} */
  execution: undefined,
  /** @type {number | undefined} which visit's input and output show; the last one unless picked */
  step: undefined,
  problem: '',
  /** @type {Date | undefined} */
  refreshedAt: undefined,
};

class RequestError extends Error {
  /** @param {string} path @param {number} status @param {string} message */
  constructor(path, status, message) {
    super(`${path} answered ${status}${message ? `: ${message}` : ''}`);
    this.status = status;
  }
}

/** @param {string} path */
async function request(path) {
  reads += 1;
  const response = await fetch(path, { headers: { authorization: `Bearer ${view.token}` } });
  const body = await response.json().catch(() => undefined);
  if (!response.ok) throw new RequestError(path, response.status, body?.error?.message ?? '');
  return body;
}

/** @param {string} value */
const segment = (value) => encodeURIComponent(value);

// ---- reading ----

async function refresh() {
  const [executions, listed, limits] = await Promise.all([request('/executions'), listApps(), request('/api/ca/limits')]);
  view.executions = executions;
  view.limits = limits;
  // Every app the API lists, and any an execution ran for.
  const names = [...new Set([...listed.map((app) => app.app), ...view.executions.map((execution) => execution.app)])].sort();
  const apps = await Promise.all(names.map((name) => readApp(name, listed.find((app) => app.app === name)?.notices ?? [])));
  view.apps = apps.filter((app) => app !== undefined);
  await refreshSelection();
  view.refreshedAt = new Date();
}

/**
 * Every app, for an operator; an API without that route leaves the apps to the executions.
 * @returns {Promise<Array<{ app: string, notices?: Notice[] }>>}
 */
async function listApps() {
  return (await unlessGone('/api/apps')) ?? [];
}

/** Undefined for a 404: what was listed a moment ago may be gone (a removed app or database). @param {string} path */
function unlessGone(path) {
  return request(path).catch((error) => {
    if (error instanceof RequestError && error.status === 404) return undefined;
    throw error;
  });
}

/** @param {string} app @param {Notice[]} notices @returns {Promise<AppView | undefined>} */
async function readApp(app, notices) {
  const [acm, databases = []] = await Promise.all([
    unlessGone(`/api/apps/${segment(app)}/acm`),
    /** @type {Promise<Database[] | undefined>} */ (unlessGone(`/api/apps/${segment(app)}/databases`)),
  ]);
  if (!acm) return undefined;
  const withStatus = await Promise.all(
    databases.map(async (database) => ({
      database,
      status: await unlessGone(`/api/apps/${segment(app)}/databases/${segment(database.database)}/enhanced-certificates`),
    })),
  );
  return { app, enabled: acm.enabled, domains: acm.domains, databases: withStatus, notices };
}

/** The selected domain's timeline and the selected execution, read again. */
async function refreshSelection() {
  const { domain, executionName } = view;
  const [events, execution, graph] = await Promise.all([
    domain && unlessGone(`/api/apps/${segment(domain.app)}/domains/${segment(domain.hostname)}/events`),
    executionName && request(`/executions/${segment(executionName)}`),
    view.graph ?? (executionName && request('/state-machine')),
  ]);
  if (domain && view.domain === domain) view.timeline = { key: domainKey(domain), events: events ?? [] };
  if (executionName && view.executionName === executionName) view.execution = execution;
  if (graph) view.graph = graph;
}

/** @param {{ app: string, hostname: string }} domain */
const domainKey = (domain) => `${domain.app}/${domain.hostname}`;

// ---- drawing ----

/**
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined>} [attributes]
 * @param {Array<Node | string | undefined | false>} children
 * @returns {HTMLElement}
 */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== false) element.append(child);
  return element;
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 * @param {Array<Node | string>} children
 */
function s(tag, attributes, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** Replaces a panel's body only when it would look different, so clicks and scrolling are not lost. */
function replaceBody(/** @type {string} */ id, /** @type {Array<Node | string>} */ nodes) {
  const body = /** @type {HTMLElement} */ (document.querySelector(`#${id} .body`));
  const fresh = document.createElement('div');
  fresh.append(...nodes);
  if (fresh.innerHTML !== body.innerHTML) body.replaceChildren(...fresh.childNodes);
}

/** @param {string} id @param {string} text */
function setSubject(id, text) {
  const subject = /** @type {HTMLElement} */ (document.querySelector(`#${id} .subject`));
  if (subject.textContent !== text) subject.textContent = text;
}

/** "3 minutes ago", "in about 5 years": the CLI's wording (date-fns), the ISO time on hover. */
function when(/** @type {string | undefined} */ iso, now = new Date()) {
  return iso ? h('time', { datetime: iso, title: iso }, relativeTime(iso, now, { addSuffix: true })) : '';
}

/** @param {string} status */
const badge = (status) => h('span', { class: 'status', 'data-status': status }, status);

/** The status word, and when the certificate served expires. */
function statusCell(/** @type {{ status: string, expiresAt?: string }} */ row) {
  return h('td', {}, badge(row.status), row.expiresAt && h('div', { class: 'expires muted' }, 'expires ', when(row.expiresAt)));
}

/** @param {string[]} headers @param {HTMLElement[]} rows */
const table = (headers, rows, className = '') => bodiesTable(headers, [h('tbody', {}, ...rows)], className);

/**
 * A domain's or a database's rows: its name, status, reason code and last update, then the message a person reads.
 * @param {Record<string, string | undefined>} attributes @param {HTMLElement} name
 * @param {{ status: string, reason?: string, rateLimitedUntil?: string, message?: string, lastUpdated?: string, expiresAt?: string }} row
 */
function statusRows(attributes, name, row) {
  return h(
    'tbody',
    attributes,
    h(
      'tr',
      {},
      name,
      statusCell(row),
      h('td', { class: 'nowrap' }, row.reason && h('span', { class: 'reason' }, reasonCell(/** @type {DomainStatus} */ (row)))),
      h('td', { class: 'updated' }, when(row.lastUpdated)),
    ),
    row.message && h('tr', { class: 'message-row' }, h('td', { colspan: 4, class: 'message' }, row.message)),
  );
}

/** @param {string[]} headers @param {HTMLElement[]} bodies */
const bodiesTable = (headers, bodies, className = '') =>
  h('table', { class: className }, h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', {}, header)))), ...bodies);

function renderApps() {
  if (view.apps.length === 0)
    return replaceBody('apps', [h('p', { class: 'muted' }, 'No apps yet. Add a domain: POST /apps/{app}/domains.')]);
  replaceBody(
    'apps',
    view.apps.map((app) =>
      h(
        'div',
        { class: 'app', 'data-app': app.app },
        h(
          'h3',
          {},
          app.app,
          ' ',
          h('span', { class: 'muted' }, app.enabled === false ? 'automated certificates off' : 'automated certificates on'),
        ),
        app.domains.length === 0
          ? h('p', { class: 'muted' }, 'No custom domains.')
          : bodiesTable(
              ['Domain', 'Status', 'Reason', 'Last updated'],
              app.domains.map((domain) =>
                statusRows(
                  {
                    class: `selectable${view.domain && domainKey(view.domain) === `${app.app}/${domain.hostname}` ? ' selected' : ''}`,
                    'data-app': app.app,
                    'data-hostname': domain.hostname,
                  },
                  h('td', { class: 'name' }, domain.hostname),
                  domain,
                ),
              ),
              'domains',
            ),
        app.databases.length > 0 &&
          bodiesTable(
            ['Database', 'Status', 'Reason', 'Last updated'],
            app.databases.map(({ database, status }) =>
              statusRows(
                { 'data-database': database.database },
                h(
                  'td',
                  { class: 'name', title: `${database.hostname}:${database.port}` },
                  database.database,
                  h('div', { class: 'muted host' }, database.hostname),
                ),
                status ?? { status: 'Disabled' },
              ),
            ),
            'databases',
          ),
      ),
    ),
  );
}

/** The DNS answers and the raw ACME problem an event kept, under its summary. */
function eventEvidence(/** @type {Record<string, unknown>} */ data) {
  const answers = /** @type {Array<{ name: string, type: string, data: string }> | undefined} */ (data.answers);
  return [
    Array.isArray(answers) &&
      h(
        'ul',
        { class: 'answers' },
        ...(answers.length
          ? answers.map((answer) => h('li', {}, h('code', {}, `${answer.name} ${answer.type} ${answer.data}`)))
          : [h('li', { class: 'muted' }, 'no answer')]),
      ),
    data.problem !== undefined && h('pre', { class: 'acme-problem' }, JSON.stringify(data.problem, null, 2)),
  ];
}

function renderTimeline() {
  const { domain, timeline } = view;
  setSubject('timeline', domain ? domain.hostname : '');
  if (!domain)
    return replaceBody('timeline', [
      h('p', { class: 'muted' }, "Pick a domain to read its timeline: every event, with the DNS answers and the CA's problems."),
    ]);
  if (!timeline || timeline.key !== domainKey(domain)) return replaceBody('timeline', [h('p', { class: 'muted' }, 'Reading...')]);
  replaceBody('timeline', [
    table(
      ['#', 'At', 'Event', 'Detail'],
      timeline.events.map((event) =>
        h(
          'tr',
          { 'data-event': event.type },
          h('td', { class: 'muted' }, String(event.version)),
          h('td', { class: 'nowrap' }, when(event.at)),
          h('td', { class: `event${/Failed|RateLimited/.test(event.type) ? ' bad' : ''}` }, event.type),
          h('td', {}, Array.isArray(event.data?.answers) ? '' : eventDetail(event.data ?? {}), ...eventEvidence(event.data ?? {})),
        ),
      ),
      'timeline',
    ),
  ]);
}

function renderExecutions() {
  if (view.executions.length === 0) return replaceBody('executions', [h('p', { class: 'muted' }, 'No execution yet.')]);
  replaceBody('executions', [
    h(
      'div',
      { class: 'scroll' },
      table(
        ['Name', 'Status', 'State', 'Started'],
        view.executions.map((execution) =>
          h(
            'tr',
            { class: `selectable${execution.name === view.executionName ? ' selected' : ''}`, 'data-execution': execution.name },
            h('td', { class: 'name' }, execution.name),
            h('td', {}, badge(execution.status)),
            h('td', {}, execution.currentState ?? ''),
            h('td', { class: 'nowrap' }, when(execution.startedAt)),
          ),
        ),
        'executions',
      ),
    ),
  ]);
}

/** @param {ExecutionStep[]} steps */
function visits(steps) {
  /** @type {Map<string, ExecutionStep>} */
  const last = new Map();
  for (const step of steps) last.set(step.name, step);
  return last;
}

/** The graph view: every state, those the execution passed through coloured by how their last visit went. */
function graphView(
  /** @type {StateGraph} */ graph,
  /** @type {ExecutionDetail} */ execution,
  /** @type {ExecutionStep | undefined} */ picked,
) {
  const last = visits(execution.steps);
  const current = execution.steps.at(-1);
  const taken = new Set(execution.steps.slice(1).map((step, index) => `${execution.steps[index]?.name}>${step.name}`));
  const edges = graph.edges.map((edge) => {
    const classes = ['edge', edge.kind, edge.back ? 'back' : '', taken.has(`${edge.from}>${edge.to}`) ? 'taken' : ''];
    return s('polyline', {
      class: classes.filter(Boolean).join(' '),
      points: edge.points.map((point) => point.join(',')).join(' '),
      'marker-end': 'url(#arrow)',
    });
  });
  const nodes = graph.nodes.map((node) => {
    const visit = last.get(node.name);
    const classes = [
      'node',
      node.type.toLowerCase(),
      visit ? `visited ${visit.status}` : '',
      current?.name === node.name ? (execution.status === 'RUNNING' ? 'current' : 'last') : '',
      picked?.name === node.name ? 'picked' : '',
    ];
    const rounded = node.type === 'Choice' || node.type === 'Succeed' || node.type === 'Fail' ? node.height / 2 : 4;
    return s(
      'g',
      { class: classes.filter(Boolean).join(' '), 'data-state': node.name, transform: `translate(${node.x},${node.y})` },
      s('title', {}, `${node.name} (${node.type})${visit ? `: ${visit.status}` : ''}`),
      s('rect', { width: node.width, height: node.height, rx: rounded }),
      s('text', { x: node.width / 2, y: node.height / 2 + 4, 'text-anchor': 'middle', ...squeezed(node.name, node.width - 8) }, node.name),
    );
  });
  const arrow = s(
    'marker',
    { id: 'arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 6, markerHeight: 6, markerUnits: 'userSpaceOnUse', orient: 'auto' },
    s('path', { d: 'M0,0 L8,4 L0,8 z' }),
  );
  return s(
    'svg',
    { class: 'graph', viewBox: `0 0 ${graph.width} ${graph.height}`, width: graph.width, height: graph.height, role: 'img' },
    s('defs', {}, arrow),
    ...edges,
    ...nodes,
  );
}

/**
 * A long state name pressed into its box (about 6 px a character at the graph's font size).
 * @param {string} name @param {number} room @returns {Record<string, string | number>}
 */
const squeezed = (name, room) => (name.length * 6 > room ? { textLength: room, lengthAdjust: 'spacingAndGlyphs' } : {});

/** @param {ExecutionStep} step @param {ExecutionStep} first */
const offset = (step, first) => `+${Date.parse(step.enteredAt) - Date.parse(first.enteredAt)} ms`;

/** @param {ExecutionStep} step */
function stepStatus(step) {
  if (step.status === 'caught') return `caught, to ${step.caughtTo}`;
  return step.retries ? `${step.status} after ${step.retries} retr${step.retries === 1 ? 'y' : 'ies'}` : step.status;
}

/** @param {string} label @param {unknown} value */
const json = (label, value) => [
  h('h4', {}, label),
  h('pre', { class: `json ${label.toLowerCase()}` }, JSON.stringify(value, null, 2) ?? ''),
];

function renderExecution() {
  const { execution, graph } = view;
  setSubject('execution', view.executionName ?? '');
  if (!view.executionName)
    return replaceBody('execution', [h('p', { class: 'muted' }, 'Pick an execution to see its path through the state machine.')]);
  if (!execution || !graph || execution.name !== view.executionName)
    return replaceBody('execution', [h('p', { class: 'muted' }, 'Reading...')]);
  const steps = execution.steps;
  const picked = steps[view.step ?? steps.length - 1];
  const first = steps[0];
  const ended = execution.stoppedAt ? `, ended ${Date.parse(execution.stoppedAt) - Date.parse(execution.startedAt)} ms after` : '';
  replaceBody('execution', [
    h(
      'p',
      { class: 'summary' },
      badge(execution.status),
      ` ${execution.status === 'RUNNING' ? 'in' : 'ended in'} `,
      h('strong', { class: 'current-state' }, execution.currentState ?? ''),
      h('span', { class: 'muted' }, ` · started `, when(execution.startedAt), ended),
      execution.error && h('div', { class: 'message bad' }, execution.error),
    ),
    h(
      'div',
      { class: 'execution-body' },
      h('div', { class: 'graph-box' }, graphView(graph, execution, picked)),
      picked &&
        h(
          'div',
          { class: 'io', 'data-step': picked.index, 'data-state': picked.name },
          h('h3', {}, `${picked.name} `, h('span', { class: 'muted' }, `${picked.type}, visit ${picked.index + 1} of ${steps.length}`)),
          h('p', { class: `step-status ${picked.status}` }, stepStatus(picked)),
          ...json('Input', picked.input),
          ...(picked.output === undefined ? [] : json('Output', picked.output)),
          ...(picked.error ? json('Error', picked.error) : []),
        ),
    ),
    h('h3', {}, 'Path'),
    table(
      ['#', 'State', 'Type', 'Status', 'Entered'],
      steps.map((step) =>
        h(
          'tr',
          {
            class: `selectable step ${step.status}${step === picked ? ' selected' : ''}`,
            'data-step': step.index,
            'data-state': step.name,
          },
          h('td', { class: 'muted' }, String(step.index + 1)),
          h('td', { class: 'state-name' }, step.name),
          h('td', { class: 'muted' }, step.type),
          h('td', { class: 'step-status' }, stepStatus(step)),
          h('td', { class: 'muted nowrap' }, first ? offset(step, first) : ''),
        ),
      ),
      'path',
    ),
  ]);
}

function renderLimits() {
  const limits = view.limits;
  if (!limits) return replaceBody('limits', []);
  const period = (/** @type {number} */ seconds) =>
    seconds >= 86_400 ? `${seconds / 86_400} d` : seconds >= 3_600 ? `${seconds / 3_600} h` : `${seconds} s`;
  replaceBody('limits', [
    table(
      ['Limit', 'Capacity', 'One back every'],
      limits.limits.map((limit) =>
        h(
          'tr',
          {},
          h('td', {}, limit.name),
          h('td', {}, `${limit.capacity} per ${period(limit.periodSeconds)}`),
          h('td', {}, period(limit.refillSeconds)),
        ),
      ),
      'limits',
    ),
    limits.buckets.length === 0
      ? h('p', { class: 'muted' }, 'No order recorded yet: every bucket is full.')
      : table(
          ['Bucket', 'Key', 'Left', 'Full'],
          limits.buckets.map((bucket) =>
            h(
              'tr',
              { 'data-bucket': bucket.limit },
              h('td', {}, bucket.limit),
              h('td', { class: 'key' }, bucket.key),
              h(
                'td',
                { class: 'nowrap' },
                h('meter', { min: 0, max: bucket.capacity, value: bucket.tokensLeft }),
                ` ${bucket.tokensLeft}/${bucket.capacity}`,
              ),
              h('td', { class: 'nowrap' }, bucket.fullAt ? when(bucket.fullAt) : 'full'),
            ),
          ),
          'buckets',
        ),
  ]);
}

function renderNotices() {
  const notices = view.apps.flatMap((app) => [
    ...app.notices.map((notice) => ({ app: app.app, subject: notice.certificateName ?? app.app, notice })),
    ...app.domains.flatMap((domain) => (domain.notices ?? []).map((notice) => ({ app: app.app, subject: domain.hostname, notice }))),
    ...app.databases.flatMap(({ database, status }) =>
      (status?.notices ?? []).map((notice) => ({ app: app.app, subject: database.hostname, notice })),
    ),
  ]);
  notices.sort((a, b) => b.notice.sentAt.localeCompare(a.notice.sentAt));
  if (notices.length === 0) {
    return replaceBody('notices', [
      h('p', { class: 'muted' }, 'None yet. Owners are told when a domain keeps failing and when a certificate nears expiry.'),
    ]);
  }
  replaceBody('notices', [
    table(
      ['Sent', 'App', 'For', 'Notice'],
      notices.map(({ app, subject, notice }) =>
        h(
          'tr',
          { 'data-notice': notice.notificationId },
          h('td', { class: 'nowrap' }, when(notice.sentAt)),
          h('td', {}, app),
          h('td', {}, subject),
          h(
            'td',
            {},
            notice.type,
            notice.daysLeft !== undefined && h('span', { class: 'muted' }, ` · ${notice.daysLeft} days left`),
            notice.expiresAt && h('span', { class: 'muted' }, ' · expires ', when(notice.expiresAt)),
          ),
        ),
      ),
      'notices',
    ),
  ]);
}

function render() {
  renderApps();
  renderTimeline();
  renderExecutions();
  renderExecution();
  renderLimits();
  renderNotices();
  const problem = /** @type {HTMLElement} */ (document.getElementById('problem'));
  problem.hidden = !view.problem;
  problem.textContent = view.problem;
  const refreshed = /** @type {HTMLElement} */ (document.getElementById('refreshed'));
  refreshed.textContent = view.refreshedAt ? `updated ${view.refreshedAt.toLocaleTimeString()}` : '';
}

// ---- acting ----

async function poll() {
  const before = reads;
  try {
    await refresh();
    view.problem = '';
  } catch (error) {
    view.problem = error instanceof Error ? error.message : String(error);
  }
  render();
  setTimeout(poll, Math.max(POLL_MS, (reads - before) * MS_PER_READ));
}

/** Shows what was picked at once, then reads it. */
function pick(/** @type {() => void} */ change) {
  change();
  render();
  refreshSelection()
    .then(render)
    .catch((error) => {
      view.problem = error instanceof Error ? error.message : String(error);
      render();
    });
}

document.addEventListener('click', (event) => {
  const target = /** @type {Element} */ (event.target);
  const domainRow = target.closest('tbody[data-hostname]');
  const executionRow = target.closest('tr[data-execution]');
  const stepRow = target.closest('tr[data-step]');
  const state = target.closest('g[data-state]');
  if (domainRow instanceof HTMLElement) {
    const domain = { app: domainRow.dataset.app ?? '', hostname: domainRow.dataset.hostname ?? '' };
    // A domain's newest execution comes with its timeline.
    const newest = view.executions.find((execution) => execution.app === domain.app && execution.hostname === domain.hostname);
    pick(() => {
      view.domain = domain;
      if (newest) selectExecution(newest.name);
    });
  } else if (executionRow instanceof HTMLElement) {
    pick(() => selectExecution(executionRow.dataset.execution ?? ''));
  } else if (stepRow instanceof HTMLElement) {
    view.step = Number(stepRow.dataset.step);
    render();
  } else if (state && view.execution) {
    const visit = visits(view.execution.steps).get(state.getAttribute('data-state') ?? '');
    if (visit) {
      view.step = visit.index;
      render();
    }
  }
});

/** @param {string} name */
function selectExecution(name) {
  if (view.executionName !== name) view.step = undefined;
  view.executionName = name;
}

function start() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    fragment.delete('token');
    // The token stays out of the address bar (and anything it is copied into).
    history.replaceState(null, '', `${location.pathname}${location.search}${fragment.size ? `#${fragment}` : ''}`);
  }
  view.token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const signIn = /** @type {HTMLFormElement} */ (document.getElementById('sign-in'));
  if (!view.token) {
    signIn.hidden = false;
    signIn.addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, String(new FormData(signIn).get('token') ?? '').trim());
      location.reload();
    });
    return;
  }
  /** @type {HTMLElement} */ (document.getElementById('console')).hidden = false;
  const domain = fragment.get('domain');
  const execution = fragment.get('execution');
  if (domain && domain.includes('/'))
    view.domain = { app: domain.slice(0, domain.indexOf('/')), hostname: domain.slice(domain.indexOf('/') + 1) };
  if (execution) selectExecution(execution);
  void poll();
}

start();
