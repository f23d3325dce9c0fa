/// The dashboard's script: lists the ports, follows each one's live stream (server-sent events
/// read through fetch, so the read token travels in a header and never in a URL), and draws
/// today's medians and 95th percentiles per 15 minutes against volume, by hand, in SVG; and,
/// for a reader who may see them, the open alarms and the sealed shipments between ports.
enum DashboardScript {
    static let js = #"""
        "use strict";
        const TOKEN_KEY = "lanegate-read-token";
        const hash = new URLSearchParams(location.hash.slice(1));
        if (hash.get("token")) {
          localStorage.setItem(TOKEN_KEY, hash.get("token"));
          history.replaceState(null, "", location.pathname + location.search);
        }
        const headers = () => (localStorage.getItem(TOKEN_KEY) ? { Authorization: "Bearer " + localStorage.getItem(TOKEN_KEY) } : {});
        const status = (state, text) => { const s = document.getElementById("status"); s.dataset.state = state; s.textContent = text; };
        const ns = (ms) => (BigInt(Math.floor(ms)) * 1000000n).toString();
        const minutes = (s) => (s === null || s === undefined ? "–" : Math.round(s / 60).toString());
        const el = (tag, attrs = {}, ...children) => {
          const e = document.createElementNS(tag === "svg" || attrs.svg ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
          for (const [k, v] of Object.entries(attrs)) if (k !== "svg") e.setAttribute(k, v);
          for (const c of children) e.append(c);
          return e;
        };

        async function api(path) {
          const r = await fetch(path, { headers: headers() });
          if (r.status === 401) { askToken(); throw new Error("a read token is needed"); }
          if (!r.ok) throw new Error(path + ": " + r.status);
          return r.json();
        }

        function askToken() {
          const form = document.getElementById("login");
          form.hidden = false;
          status("offline", "read token needed");
          form.onsubmit = (e) => { e.preventDefault(); localStorage.setItem(TOKEN_KEY, document.getElementById("token").value); location.reload(); };
        }

        function renderLive(section, live) {
          const cards = section.querySelector(".cards");
          cards.replaceChildren(...live.lane_types.map((t) => {
            const age = t.age_s === null ? "no trips yet" : "newest " + minutes(t.age_s) + " min ago";
            return el("div", { class: "card", "data-lane-type": t.lane_type, "data-confidence": t.confidence },
              el("h3", {}, t.lane_type),
              el("div", { class: "wait", "data-seconds": t.wait_s === null ? "" : String(t.wait_s) },
                minutes(t.wait_s), el("small", {}, " min wait"), t.rising ? el("span", { class: "rising", title: "queue growing" }, " ▲") : ""),
              el("div", { class: "crossing", "data-seconds": t.crossing_s === null ? "" : String(t.crossing_s) },
                minutes(t.crossing_s), el("small", {}, " min crossing")),
              el("div", { class: "meta" }, `${t.lanes_open}/${t.lanes} lanes open · ${t.wait_samples} trips · ${t.confidence} · ${age}`));
          }));
          section.querySelector(".stale").textContent = live.stale ? "some gateways are behind: figures may be incomplete" : "";
          const rows = live.gateways.map((g) => el("tr", {},
            el("td", {}, g.id), el("td", { "data-state": g.state }, g.state),
            el("td", {}, g.last_seen_utc_ns === null ? "never" : new Date(g.last_seen_utc_ns / 1e6).toLocaleTimeString()),
            el("td", {}, g.backlog === null ? "–" : String(g.backlog)),
            el("td", {}, g.clock ? `${g.clock.sync} ±${(g.clock.max_error_us / 1000).toFixed(1)} ms` : "–"),
            el("td", { "data-lost": String(g.lost_reported ?? 0) }, g.gap_events ? `${g.gap_events} (${g.lost_reported} lost)` : "none")));
          section.querySelector("tbody").replaceChildren(...rows);
          section.dataset.updated = String(Date.now());
        }

        async function drawChart(section, port) {
          const midnight = new Date(); midnight.setHours(0, 0, 0, 0);
          const stats = await api(`/v1/ports/${encodeURIComponent(port.id)}/stats?bin=15m&from=${ns(midnight.getTime())}&to=${ns(Date.now())}`);
          const W = 960, H = 240, L = 40, B = 20, day = 86400e3;
          const x = (t) => L + ((t / 1e6 - midnight.getTime()) / day) * (W - L - 8);
          const top = Math.max(10, ...stats.bins.map((b) => b.p95_s / 60));
          const y = (m) => H - B - (m / top) * (H - B - 10);
          const volumeTop = Math.max(1, ...stats.bins.map((b) => b.count));
          const svg = el("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "today's wait per 15 minutes" });
          for (const b of stats.bins) {
            const h = (b.count / volumeTop) * (H - B - 10) * 0.35;
            svg.append(el("rect", { svg: true, x: x(b.start_utc_ns), y: H - B - h, width: (W - L) / 96 / port.lane_types.length, height: h, fill: "#c9d6e2" }));
          }
          const colours = ["#12324a", "#b35900", "#1a7f37", "#6a1b9a", "#c62828"];
          port.lane_types.forEach((type, i) => {
            const bins = stats.bins.filter((b) => b.lane_type === type);
            const path = (key) => bins.map((b, j) => `${j ? "L" : "M"}${x(b.start_utc_ns + 450e9).toFixed(1)},${y(b[key] / 60).toFixed(1)}`).join("");
            if (bins.length) {
              svg.append(el("path", { svg: true, d: path("median_s"), fill: "none", stroke: colours[i % 5], "stroke-width": 2 }));
              svg.append(el("path", { svg: true, d: path("p95_s"), fill: "none", stroke: colours[i % 5], "stroke-dasharray": "4 3" }));
            }
            svg.append(el("text", { svg: true, x: L + 60 + i * 150, y: 14, fill: colours[i % 5] }, `${type} median, p95`));
          });
          for (let h = 0; h <= 24; h += 3) svg.append(el("text", { svg: true, x: x(midnight.getTime() * 1e6 + h * 3600e9) - 6, y: H - 4 }, `${h}h`));
          for (const m of [0, top / 2, top]) svg.append(el("text", { svg: true, x: 2, y: y(m) + 4 }, `${Math.round(m)} min`));
          section.querySelector("svg.chart").replaceWith(svg);
        }

        async function follow(section, port) {
          for (;;) {
            try {
              const r = await fetch(`/v1/ports/${encodeURIComponent(port.id)}/live`, { headers: headers() });
              if (!r.ok) throw new Error("live stream: " + r.status);
              status("live", "live");
              const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
              let buffer = "", charted = 0;
              for (;;) {
                const { value, done } = await reader.read();
                if (done) break;
                buffer += value;
                let end;
                while ((end = buffer.indexOf("\n\n")) >= 0) {
                  const message = buffer.slice(0, end); buffer = buffer.slice(end + 2);
                  const data = message.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
                  if (!data) continue;
                  renderLive(section, JSON.parse(data));
                  // The moment, exact: JSON numbers lose nanoseconds in JavaScript.
                  section.dataset.at = (data.match(/"at_utc_ns":(\d+)/) || [])[1] || "";
                  if (Date.now() - charted > 60e3) { charted = Date.now(); drawChart(section, port).catch(() => {}); }
                }
              }
            } catch (e) { console.warn(e); }
            status("offline", "reconnecting…");
            await new Promise((resolve) => setTimeout(resolve, 5000));
          }
        }

        const clock = (utcNs) => (utcNs === null || utcNs === undefined ? "–" : new Date(utcNs / 1e6).toLocaleString());

        // False when the reader may not see them (a public token): the section stays hidden.
        async function shipments() {
          let transits, alarms;
          try { [transits, alarms] = await Promise.all([api("/v1/transits"), api("/v1/alarms?state=open")]); } catch (e) { return false; }
          document.getElementById("alarms").replaceChildren(...alarms.alarms.map((a) =>
            el("li", { "data-kind": a.kind, "data-id": a.id }, el("strong", {}, a.kind.replace("_", " ")), ` ${a.detail} · ${clock(a.utc_ns)}`)));
          if (!alarms.alarms.length) document.getElementById("alarms").append(el("li", { class: "none" }, "none"));
          document.querySelector("#transits tbody").replaceChildren(...transits.transits.map((t) => {
            const flags = [t.tampered ? "tampered" : t.opened ? "opened" : "intact", t.overdue ? "overdue" : ""].filter(Boolean).join(", ");
            return el("tr", { "data-seal": t.seal, "data-state": t.state, "data-tampered": String(t.tampered), "data-overdue": String(t.overdue) },
              el("td", {}, t.seal), el("td", {}, t.origin.port), el("td", {}, t.destination ? t.destination.port : "under way"),
              el("td", {}, clock(t.origin.last_utc_ns)), el("td", {}, t.destination ? clock(t.destination.first_utc_ns) : "–"),
              el("td", {}, `${minutes(t.elapsed_s)} (${minutes(t.expected_s)})`), el("td", { class: "flags" }, flags));
          }));
          document.getElementById("shipments").hidden = false;
          document.getElementById("shipments").dataset.updated = String(Date.now());
          return true;
        }

        async function main() {
          let ports;
          try { ports = await api("/v1/ports"); } catch (e) { if (document.getElementById("login").hidden) status("offline", String(e.message)); return; }
          if (!ports.length) { status("offline", "no ports configured (lanegate-collector --ports)"); return; }
          const main = document.getElementById("ports");
          for (const port of ports) {
            const section = el("section", { class: "port", id: "port-" + port.id },
              el("h2", {}, `${port.name} · ${port.direction}`, el("span", { class: "stale" })),
              el("div", { class: "cards" }),
              el("svg", { class: "chart" }),
              el("table", { class: "gateways" },
                el("thead", {}, el("tr", {}, el("th", {}, "gateway"), el("th", {}, "state"), el("th", {}, "last contact"), el("th", {}, "backlog"),
                  el("th", {}, "clock"), el("th", {}, "gaps"))),
                el("tbody")));
            main.append(section);
            follow(section, port);
          }
          if (await shipments()) setInterval(shipments, 30e3);
        }
        main();

        """#
}
