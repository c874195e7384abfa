extension DashboardAssets {
    /// The stylesheet: dark, dense, readable from across the room.
    static let css = #"""
        :root {
          --bg: #0f1216; --panel: #171b21; --line: #262c35; --text: #d9dee5; --dim: #8a93a0;
          --accent: #5aa9ff; --pending: #313844; --leased: #e0a93b; --done: #3fb27f; --failed: #e5534b; --rerun: #a371f7;
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--text); }
        a { color: var(--accent); text-decoration: none; }
        code { background: #0b0e12; padding: 1px 5px; border-radius: 4px; font-size: 12px; }
        h1 { font-size: 20px; margin: 0 0 14px; font-weight: 600; }
        h2 { font-size: 13px; margin: 0 0 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--dim); font-weight: 600; }
        .bar { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
        .brand { font-weight: 700; font-size: 17px; color: var(--text); letter-spacing: .02em; }
        .brand::before { content: "▶"; color: var(--accent); margin-right: 8px; }
        nav a { color: var(--dim); margin-right: 16px; padding: 4px 0; }
        nav a.on { color: var(--text); border-bottom: 2px solid var(--accent); }
        .farm { color: var(--dim); flex: 1; }
        .who { color: var(--dim); }
        .live { color: var(--failed); font-size: 12px; }
        .live.on { color: var(--done); }
        main { padding: 24px; max-width: 1400px; margin: 0 auto; }
        .card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin-bottom: 16px; min-width: 0; }
        .grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.4fr); gap: 16px; }
        @media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
        table { width: 100%; border-collapse: collapse; }
        th { text-align: left; color: var(--dim); font-weight: 500; font-size: 12px; padding: 8px; border-bottom: 1px solid var(--line); }
        td { padding: 9px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        tbody tr:hover { background: #1c2129; }
        tr.link { cursor: pointer; }
        th.wide { width: 32%; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: var(--pending); }
        .badge.running, .badge.busy { background: #1e3a5f; color: #9ccaff; }
        .badge.encoding { background: #3a2f5f; color: #cdb6ff; }
        .badge.done { background: #173a2b; color: #7ee2b0; }
        .badge.failed { background: #4a1d1b; color: #ff9b94; }
        .badge.paused, .badge.cancelled { background: #3d3320; color: #f0c56b; }
        .badge.idle { background: var(--pending); color: var(--dim); }
        .progress { height: 8px; background: var(--pending); border-radius: 4px; overflow: hidden; }
        .progress > div { height: 100%; width: 0; background: linear-gradient(90deg, #3f7fd8, var(--accent)); transition: width .4s; }
        .progress.big { height: 10px; margin: 12px 0 16px; }
        .progress.done > div { background: var(--done); }
        .pct { color: var(--dim); font-size: 12px; margin-left: 8px; }
        .cell-progress { display: flex; align-items: center; }
        .cell-progress .progress { flex: 1; }
        .job-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; }
        .sub { color: var(--dim); font-size: 12px; }
        .actions button { margin-left: 8px; }
        button { background: #222934; color: var(--text); border: 1px solid #333c49; border-radius: 6px; padding: 6px 14px; cursor: pointer; font: inherit; }
        button:hover:not(:disabled) { border-color: var(--accent); }
        button:disabled { opacity: .35; cursor: default; }
        button.danger:hover:not(:disabled) { border-color: var(--failed); color: #ff9b94; }
        .reason { background: #2a2217; border: 1px solid #4d3b1c; color: #f0c56b; padding: 8px 12px; border-radius: 6px; }
        .stage { display: grid; grid-template-columns: 90px 1fr 90px; align-items: center; gap: 10px; margin-bottom: 10px; }
        .stage .n { text-align: right; color: var(--dim); font-variant-numeric: tabular-nums; font-size: 12px; }
        .chunk-map { display: grid; gap: 2px; overflow-x: auto; padding-bottom: 4px; }
        .chunk-map i { display: block; height: 18px; min-width: 6px; border-radius: 2px; background: var(--pending); }
        .chunk-map i.leased, .legend i.leased { background: var(--leased); animation: pulse 1.2s ease-in-out infinite; }
        .chunk-map i.done, .legend i.done { background: var(--done); }
        .chunk-map i.failed, .legend i.failed { background: var(--failed); }
        .chunk-map i.rerun, .legend i.rerun { background: var(--rerun); }
        @keyframes pulse { 50% { opacity: .55; } }
        .legend { float: right; text-transform: none; letter-spacing: 0; font-weight: 400; }
        .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; background: var(--pending); vertical-align: -1px; animation: none; }
        .previews { display: flex; flex-wrap: wrap; gap: 8px; }
        .previews figure { margin: 0; background: #0b0e12; border-radius: 4px; overflow: hidden; }
        .previews img { display: block; width: 160px; height: auto; image-rendering: auto; animation: appear .4s; }
        .previews figcaption { font-size: 11px; color: var(--dim); padding: 3px 6px; }
        @keyframes appear { from { opacity: 0; } }
        video { display: block; width: 100%; max-width: 960px; max-height: 70vh; margin: 0 auto; background: #000; border-radius: 6px; }
        .kv td:first-child { color: var(--dim); }
        .kv td { font-variant-numeric: tabular-nums; }
        .events { list-style: none; margin: 0; padding: 0; max-height: 340px; overflow-y: auto; font: 12px/1.5 ui-monospace, "SFMono-Regular", Menlo, monospace; }
        .events li { padding: 2px 0; border-bottom: 1px solid #1e232b; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
        .events .t { color: var(--dim); margin-right: 8px; }
        .events .k { margin-right: 8px; }
        .events .k.task-committed { color: var(--done); } .events .k.task-requeued { color: var(--failed); } .events .k.task-leased { color: var(--leased); }
        .events .k[class*="job-"] { color: var(--accent); }
        .empty { color: var(--dim); }
        .error { color: #ff9b94; }
        .login { max-width: 460px; margin: 80px auto; }
        .login form { display: flex; gap: 8px; }
        .login input { flex: 1; background: #0b0e12; color: var(--text); border: 1px solid #333c49; border-radius: 6px; padding: 7px 10px; font: inherit; }
        """#
}
