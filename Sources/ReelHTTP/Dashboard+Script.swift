extension DashboardAssets {
    /// The script: reads the API with the session cookie and follows `/v1/events`.
    static let script = #"""
        'use strict';
        // Reel's dashboard: reads the operator API with the session cookie and follows /v1/events.

        const $ = (id) => document.getElementById(id);
        const jobs = new Map();
        let workers = [];
        let me = null;
        let feed = null;
        let current = null; // the job shown on the job page: { id, events: [], chunkTimer }

        function element(tag, className, text) {
          const node = document.createElement(tag);
          if (className) node.className = className;
          if (text !== undefined) node.textContent = text;
          return node;
        }

        async function api(path, options = {}) {
          const headers = Object.assign({ 'X-Reel-Request': '1' }, options.headers || {});
          const response = await fetch(path, Object.assign({ credentials: 'same-origin' }, options, { headers }));
          if (response.status === 401) {
            showLogin();
            throw new Error('unauthorized');
          }
          return response;
        }

        function duration(seconds) {
          if (seconds === null || seconds === undefined || !isFinite(seconds)) return '–';
          seconds = Math.max(0, Math.round(seconds));
          if (seconds < 60) return seconds + ' s';
          if (seconds < 3600) return Math.floor(seconds / 60) + 'm ' + (seconds % 60) + 's';
          return Math.floor(seconds / 3600) + 'h ' + Math.floor((seconds % 3600) / 60) + 'm';
        }

        function plural(count, noun) { return count + ' ' + noun + (count === 1 ? '' : 's'); }

        function ago(time) { return duration(Date.now() / 1000 - time) + ' ago'; }

        function clock(time) { return new Date(time * 1000).toLocaleTimeString(); }

        function setProgress(bar, fraction, done) {
          bar.style.width = (Math.min(1, Math.max(0, fraction)) * 100).toFixed(1) + '%';
          bar.parentElement.classList.toggle('done', !!done);
        }

        // MARK: Sign-in

        function showLogin() {
          for (const id of ['jobs-view', 'job-view', 'workers-view']) $(id).hidden = true;
          $('login').hidden = false;
          $('who').textContent = '';
          if (feed) { feed.close(); feed = null; }
        }

        async function signIn(event) {
          event.preventDefault();
          const token = $('token').value.trim();
          const response = await fetch('/v1/session', { method: 'POST', headers: { Authorization: 'Bearer ' + token } });
          if (!response.ok) {
            $('login-error').textContent = 'That token is not known, or was revoked.';
            return;
          }
          $('token').value = '';
          $('login-error').textContent = '';
          me = await response.json();
          start();
        }

        // MARK: Jobs

        function renderJobs() {
          const body = $('jobs');
          const sorted = [...jobs.values()].sort((a, b) => b.id - a.id);
          $('jobs-empty').hidden = sorted.length > 0;
          const rows = new Map([...body.children].map((row) => [row.dataset.id, row]));
          let previous = null;
          for (const job of sorted) {
            let row = rows.get(String(job.id));
            if (!row) {
              row = element('tr', 'link');
              row.dataset.id = job.id;
              row.addEventListener('click', () => { location.hash = '#/jobs/' + job.id; });
              for (let i = 0; i < 7; i++) row.appendChild(element('td'));
              const holder = element('div', 'cell-progress');
              const bar = element('div', 'progress');
              bar.appendChild(element('div'));
              holder.append(bar, element('span', 'pct'));
              row.children[3].appendChild(holder);
            }
            const [name, owner, state, progress, eta, frames, submitted] = row.children;
            name.textContent = '#' + job.id + '  ' + job.name;
            owner.textContent = job.owner;
            state.replaceChildren(element('span', 'badge ' + job.state, job.state));
            setProgress(progress.firstChild.firstChild.firstChild, job.progress, job.state === 'done');
            progress.firstChild.lastChild.textContent = Math.floor(job.progress * 100) + '%';
            eta.textContent = job.state === 'done' ? '–' : duration(job.etaSeconds);
            frames.textContent = job.framesEncoded + ' / ' + job.framesTotal;
            submitted.textContent = clock(job.createdAt);
            if (row.previousSibling !== previous || row.parentElement !== body) {
              body.insertBefore(row, previous ? previous.nextSibling : body.firstChild);
            }
            previous = row;
          }
          updateFarm();
        }

        async function loadJobs() {
          let after = 0;
          for (;;) {
            const page = await (await api('/v1/jobs?limit=500&after=' + after)).json();
            for (const job of page.jobs) jobs.set(job.id, job);
            if (!page.next) break;
            after = page.next;
          }
          renderJobs();
        }

        // MARK: One job

        async function openJob(id) {
          if (current && current.id === id) return;
          current = { id, events: [], lastEvent: 0, chunkTimer: null, previews: new Map() };
          $('events').replaceChildren();
          $('previews').replaceChildren();
          $('chunk-map').replaceChildren();
          $('player').removeAttribute('src');
          $('player-card').hidden = true;
          const response = await api('/v1/jobs/' + id);
          if (!response.ok) {
            $('job-title').textContent = 'No job ' + id;
            return;
          }
          const job = await response.json();
          jobs.set(job.id, job);
          renderJob(job);
          await loadChunks();
          let after = 0;
          for (let pages = 0; pages < 20; pages++) {
            const page = await (await api('/v1/jobs/' + id + '/events?limit=1000&after=' + after)).json();
            for (const event of page.events) addEvent(event);
            if (!page.next) break;
            after = page.next;
          }
        }

        function renderJob(job) {
          if (!current || current.id !== job.id) return;
          $('job-title').textContent = '#' + job.id + '  ' + job.name;
          $('job-sub').replaceChildren(
            element('span', 'badge ' + job.state, job.state),
            document.createTextNode('  owner ' + job.owner + ' · submitted ' + clock(job.createdAt) + ' · ' +
              Math.floor(job.progress * 100) + '%' + (job.etaSeconds ? ' · ETA ' + duration(job.etaSeconds) : '')));
          setProgress($('job-progress'), job.progress, job.state === 'done');
          $('job-reason').hidden = !job.reason;
          $('job-reason').textContent = job.reason || '';
          const stages = $('stages');
          stages.replaceChildren();
          for (const stage of job.stages) {
            const row = element('div', 'stage');
            const bar = element('div', 'progress');
            bar.appendChild(element('div'));
            row.append(element('span', '', stage.name), bar, element('span', 'n', stage.done + ' / ' + stage.total));
            stages.appendChild(row);
            setProgress(bar.firstChild, stage.total ? stage.done / stage.total : 0, stage.total && stage.done === stage.total);
          }
          const writable = me && (me.role === 'admin' || (me.role === 'submitter' && me.name === job.owner));
          $('pause').disabled = !writable || job.state !== 'running';
          $('resume').disabled = !writable || !['paused', 'failed', 'cancelled'].includes(job.state);
          $('cancel').disabled = !writable || !['running', 'paused'].includes(job.state);
          if (job.state === 'done' && job.outputURL && $('player').getAttribute('src') !== job.outputURL) {
            $('player-card').hidden = false;
            $('player').setAttribute('src', job.outputURL);
          }
          renderConsistency(job.consistency);
        }

        function renderConsistency(report) {
          $('consistency-card').hidden = !report;
          if (!report) return;
          const table = $('consistency');
          table.replaceChildren();
          const add = (prefix, value) => {
            if (value && typeof value === 'object') {
              for (const key of Object.keys(value)) add(prefix ? prefix + '.' + key : key, value[key]);
              return;
            }
            const row = element('tr');
            row.append(element('td', '', prefix), element('td', '', typeof value === 'number' ? +value.toFixed(5) : String(value)));
            table.appendChild(row);
          };
          add('', report);
        }

        async function loadChunks() {
          if (!current) return;
          const id = current.id;
          const response = await api('/v1/jobs/' + id + '/chunks');
          if (!response.ok || !current || current.id !== id) return;
          const map = await response.json();
          const tiles = map.tileRows * map.tileColumns;
          const grid = $('chunk-map');
          grid.style.gridTemplateColumns = 'repeat(' + Math.max(1, map.windows) + ', minmax(6px, 1fr))';
          const cells = new Array(Math.max(1, map.windows) * tiles).fill(null);
          for (const cell of map.cells) cells[cell.tile * map.windows + cell.window] = cell;
          while (grid.children.length < cells.length) grid.appendChild(element('i'));
          cells.forEach((cell, index) => {
            const node = grid.children[index];
            node.className = cell ? cell.state : '';
            node.title = cell ? 'chunk ' + cell.chunk + ' · window ' + cell.window + ' · tile ' + cell.tile + ' · ' + cell.state +
              (cell.worker ? ' on ' + cell.worker : '') + ' · attempt ' + cell.attempt : '';
          });
          const done = map.cells.filter((cell) => cell.state === 'done' || cell.state === 'rerun').length;
          $('chunk-caption').textContent = map.windows + ' windows × ' + tiles + ' tile' + (tiles > 1 ? 's' : '') + ' · ' + done + ' of ' + map.cells.length + ' chunks committed';
          renderPreviews(map);
        }

        function renderPreviews(map) {
          // A filmstrip: the first tile of each window, as its chunk commits (at most 60, spread over the job).
          const committed = map.cells.filter((cell) => cell.tile === 0 && (cell.state === 'done' || cell.state === 'rerun'));
          const step = Math.max(1, Math.ceil(map.windows / 60));
          const shown = committed.filter((cell) => cell.window % step === 0);
          const strip = $('previews');
          for (const cell of shown) {
            const key = cell.chunk + ':' + cell.attempt;
            if (current.previews.has(key)) continue;
            const figure = element('figure');
            const image = element('img');
            image.alt = 'chunk ' + cell.chunk;
            image.loading = 'lazy';
            image.src = '/v1/jobs/' + current.id + '/chunks/' + cell.chunk + '/preview.png?attempt=' + cell.attempt;
            figure.append(image, element('figcaption', '', 'window ' + cell.window));
            figure.dataset.window = cell.window;
            const after = [...strip.children].find((other) => +other.dataset.window > cell.window);
            strip.insertBefore(figure, after || null);
            current.previews.set(key, figure);
          }
          $('preview-count').textContent = shown.length ? shown.length + ' of ' + Math.ceil(map.windows / step) : 'appear as chunks commit';
        }

        function addEvent(event) {
          if (!current || event.job !== current.id || event.id <= current.lastEvent) return;
          current.lastEvent = event.id;
          const list = $('events');
          const item = element('li');
          item.append(element('span', 't', clock(event.at)), element('span', 'k ' + event.kind, event.kind), document.createTextNode(event.detail));
          item.title = event.detail;
          list.insertBefore(item, list.firstChild);
          while (list.children.length > 300) list.removeChild(list.lastChild);
          if (event.kind.startsWith('task-') && !current.chunkTimer) {
            current.chunkTimer = setTimeout(() => { current.chunkTimer = null; loadChunks(); }, 300);
          }
        }

        async function control(event) {
          const action = event.target.dataset.action;
          if (!current || (action === 'cancel' && !confirm('Cancel job ' + current.id + '? It can be resumed later.'))) return;
          const response = await api('/v1/jobs/' + current.id + '/' + action, { method: 'POST' });
          const body = await response.json();
          if (response.ok) {
            jobs.set(body.id, body);
            renderJob(body);
            renderJobs();
          } else {
            alert(body.message);
          }
        }

        // MARK: Workers

        function renderWorkers() {
          const body = $('workers');
          body.replaceChildren();
          $('workers-empty').hidden = workers.length > 0;
          for (const worker of workers) {
            const row = element('tr');
            const cells = [
              worker.id, null, worker.leases.length ? worker.leases.join(', ') : '–', worker.tasksDone, worker.failures,
              worker.tasksPerMinute.toFixed(1), worker.backends.join(', ') + (worker.models.length ? ' · ' + worker.models.join(', ') : ''),
              worker.device || 'cpu', (worker.memoryMegabytes / 1024).toFixed(1) + ' GiB', ago(worker.lastSeen),
            ];
            for (const value of cells) row.appendChild(element('td', '', value === null ? undefined : String(value)));
            row.children[1].appendChild(element('span', 'badge ' + worker.state, worker.state));
            body.appendChild(row);
          }
          updateFarm();
        }

        async function loadWorkers() {
          const response = await api('/v1/workers');
          $('workers-error').hidden = response.ok;
          if (!response.ok) {
            $('workers-error').textContent = (await response.json()).message;
            return;
          }
          workers = (await response.json()).workers;
          renderWorkers();
        }

        function updateFarm() {
          const running = [...jobs.values()].filter((job) => job.state === 'running' || job.state === 'encoding').length;
          const busy = workers.filter((worker) => worker.state === 'busy').length;
          $('farm').textContent = (me && me.role !== 'submitter' ? plural(workers.length, 'worker') + ' (' + busy + ' busy) · ' : '') + plural(running, 'job') + ' running';
        }

        // MARK: Live updates and routing

        function follow() {
          if (feed) feed.close();
          feed = new EventSource('/v1/events');
          feed.onopen = () => $('live').classList.add('on');
          feed.onerror = () => $('live').classList.remove('on');
          feed.addEventListener('job', (message) => {
            const job = JSON.parse(message.data);
            jobs.set(job.id, job);
            renderJobs();
            renderJob(job);
          });
          feed.addEventListener('event', (message) => addEvent(JSON.parse(message.data)));
          feed.addEventListener('workers', (message) => {
            workers = JSON.parse(message.data).workers;
            renderWorkers();
          });
        }

        function route() {
          const hash = location.hash || '#/';
          const match = hash.match(/^#\/jobs\/(\d+)$/);
          const view = match ? 'job-view' : hash === '#/workers' ? 'workers-view' : 'jobs-view';
          for (const id of ['jobs-view', 'job-view', 'workers-view']) $(id).hidden = id !== view;
          $('nav-jobs').classList.toggle('on', view !== 'workers-view');
          $('nav-workers').classList.toggle('on', view === 'workers-view');
          if (match) openJob(+match[1]); else current = null;
          if (view === 'workers-view') loadWorkers();
        }

        async function start() {
          $('login').hidden = true;
          if (!me) {
            const response = await fetch('/v1/session', { method: 'GET' });
            me = response.ok ? await response.json() : null;
          }
          $('who').textContent = me ? me.name + ' · ' + me.role : '';
          $('nav-workers').hidden = !!me && me.role === 'submitter';
          await loadJobs();
          follow();
          route();
        }

        document.addEventListener('DOMContentLoaded', () => {
          $('login-form').addEventListener('submit', signIn);
          for (const id of ['pause', 'resume', 'cancel']) $(id).addEventListener('click', control);
          window.addEventListener('hashchange', route);
          start().catch(() => {});
        });
        """#
}
