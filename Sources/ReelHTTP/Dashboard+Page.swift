extension DashboardAssets {
    /// The page: the bar, the sign-in form and the three views (jobs, one job, workers).
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Reel</title>
        <link rel="stylesheet" href="/dashboard.css">
        <script src="/dashboard.js" defer></script>
        </head>
        <body>
        <header class="bar">
          <a class="brand" href="#/">Reel</a>
          <nav>
            <a href="#/" id="nav-jobs">Jobs</a>
            <a href="#/workers" id="nav-workers">Workers</a>
          </nav>
          <div class="farm" id="farm"></div>
          <div class="who" id="who"></div>
          <span class="live" id="live" title="live updates">●</span>
        </header>
        <main id="main">
          <section id="login" class="card login" hidden>
            <h1>Sign in</h1>
            <p>Paste an API token (<code>reel token create --role viewer --name NAME</code>).</p>
            <form id="login-form">
              <input id="token" type="password" autocomplete="off" placeholder="reel_…" aria-label="API token">
              <button type="submit">Open</button>
            </form>
            <p class="error" id="login-error"></p>
          </section>
          <section id="jobs-view" hidden>
            <h1>Jobs</h1>
            <table class="jobs">
              <thead><tr><th>Job</th><th>Owner</th><th>State</th><th class="wide">Progress</th><th>ETA</th><th>Frames</th><th>Submitted</th></tr></thead>
              <tbody id="jobs"></tbody>
            </table>
            <p class="empty" id="jobs-empty" hidden>No jobs yet. Submit one with <code>reel submit</code> or <code>POST /v1/jobs</code>.</p>
          </section>
          <section id="job-view" hidden>
            <div class="job-head">
              <div>
                <h1 id="job-title"></h1>
                <div class="sub" id="job-sub"></div>
              </div>
              <div class="actions">
                <button id="pause" data-action="pause">Pause</button>
                <button id="resume" data-action="resume">Resume</button>
                <button id="cancel" data-action="cancel" class="danger">Cancel</button>
              </div>
            </div>
            <div class="progress big"><div id="job-progress"></div></div>
            <p class="reason" id="job-reason" hidden></p>
            <div class="grid2">
              <div class="card">
                <h2>Stages</h2>
                <div id="stages"></div>
              </div>
              <div class="card">
                <h2>Chunk map <span class="legend"><i class="pending"></i>pending <i class="leased"></i>leased <i class="done"></i>done <i class="failed"></i>failed <i class="rerun"></i>re-run</span></h2>
                <div id="chunk-map" class="chunk-map"></div>
                <div class="sub" id="chunk-caption"></div>
              </div>
            </div>
            <div class="card" id="player-card" hidden>
              <h2>Video</h2>
              <video id="player" controls preload="metadata"></video>
            </div>
            <div class="card">
              <h2>Previews <span class="sub" id="preview-count"></span></h2>
              <div id="previews" class="previews"></div>
            </div>
            <div class="grid2">
              <div class="card" id="consistency-card" hidden>
                <h2>Consistency</h2>
                <table class="kv" id="consistency"></table>
              </div>
              <div class="card">
                <h2>Events</h2>
                <ol id="events" class="events"></ol>
              </div>
            </div>
          </section>
          <section id="workers-view" hidden>
            <h1>Workers</h1>
            <table class="workers">
              <thead><tr><th>Worker</th><th>State</th><th>Leases</th><th>Done</th><th>Failures</th><th>Per minute</th><th>Backends</th><th>Device</th><th>Memory</th><th>Last seen</th></tr></thead>
              <tbody id="workers"></tbody>
            </table>
            <p class="empty" id="workers-empty" hidden>No workers. Start one with <code>reel worker --connect ENDPOINT</code>.</p>
            <p class="error" id="workers-error" hidden></p>
          </section>
        </main>
        </body>
        </html>
        """#
}
