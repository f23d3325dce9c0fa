/// The dashboard's style sheet: readable on a phone at a booth and on an office screen.
enum DashboardStyle {
    static let css = #"""
        :root { --bg: #f6f7f9; --card: #fff; --ink: #1b1f24; --muted: #5b6470; --ok: #1a7f37; --warn: #b35900; --bad: #c62828; --line: #d8dde3; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--ink); }
        header { display: flex; align-items: center; justify-content: space-between; padding: 12px 16px; background: #12324a; color: #fff; }
        h1 { font-size: 20px; margin: 0; }
        .status { font-size: 14px; padding: 2px 8px; border-radius: 10px; background: #ffffff33; }
        .status[data-state=live] { background: var(--ok); }
        .status[data-state=offline] { background: var(--bad); }
        main { padding: 12px; display: grid; gap: 16px; }
        section.port { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
        section.port h2 { margin: 0 0 8px; font-size: 18px; }
        .stale { color: var(--warn); font-size: 14px; margin-left: 8px; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
        .card h3 { margin: 0; font-size: 14px; text-transform: uppercase; color: var(--muted); letter-spacing: .04em; }
        .card .wait { font-size: 34px; font-weight: 700; }
        .card .wait small, .card .crossing small { font-size: 14px; font-weight: 400; color: var(--muted); }
        .card .crossing { font-size: 16px; }
        .card .meta { font-size: 12px; color: var(--muted); }
        .card[data-confidence=low] .wait { color: var(--warn); }
        .card[data-confidence=none] .wait { color: var(--muted); }
        .rising { color: var(--bad); font-size: 18px; vertical-align: middle; }
        svg.chart { width: 100%; height: auto; margin-top: 12px; background: #fbfcfd; border: 1px solid var(--line); border-radius: 6px; }
        svg.chart text { font-size: 11px; fill: var(--muted); }
        table.gateways { width: 100%; border-collapse: collapse; margin-top: 12px; font-size: 14px; }
        table.gateways td, table.gateways th { text-align: left; padding: 4px; border-top: 1px solid var(--line); }
        td[data-state=ok] { color: var(--ok); }
        td[data-state=behind], td[data-state=unknown] { color: var(--warn); }
        td[data-state=silent] { color: var(--bad); }
        section#shipments { margin: 0 12px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
        section#shipments h2 { margin: 0 0 8px; font-size: 18px; }
        ul#alarms { margin: 0 0 16px; padding-left: 20px; }
        ul#alarms li[data-kind=seal_tampered], ul#alarms li[data-kind=transit_overdue] { color: var(--bad); }
        ul#alarms li.none { color: var(--muted); list-style: none; }
        table#transits { width: 100%; border-collapse: collapse; font-size: 14px; }
        table#transits td, table#transits th { text-align: left; padding: 4px; border-top: 1px solid var(--line); }
        tr[data-tampered=true] .flags, tr[data-overdue=true] .flags { color: var(--bad); font-weight: 700; }
        form#login { margin: 16px; padding: 12px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
        footer { padding: 12px 16px; font-size: 12px; color: var(--muted); }

        """#
}
