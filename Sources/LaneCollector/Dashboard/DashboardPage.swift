/// The dashboard's page: a shell the script fills in. No data is in it, so it needs no token;
/// the script asks for one when the collector wants it.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>lanegate · border delay</title>
        <link rel="stylesheet" href="/dashboard.css">
        <script src="/dashboard.js" defer></script>
        </head>
        <body>
        <header>
          <h1>Border delay</h1>
          <span id="status" class="status" data-state="starting">starting…</span>
        </header>
        <form id="login" hidden>
          <label>Read token <input id="token" type="password" autocomplete="current-password"></label>
          <button type="submit">Show</button>
          <p>The collector needs a read token to show its figures.</p>
        </form>
        <main id="ports"></main>
        <section id="shipments" hidden>
          <h2>Open alarms</h2>
          <ul id="alarms"></ul>
          <h2>Sealed shipments, last 24 hours</h2>
          <table id="transits">
            <thead><tr><th>seal</th><th>from</th><th>to</th><th>left</th><th>arrived</th><th>time (expected), min</th><th>seal</th></tr></thead>
            <tbody></tbody>
          </table>
        </section>
        <footer>Wait: end of queue to the primary booth. Crossing: end of queue to the port's exit.
        Median of the trips completed in the last 15 minutes; ▲ marks a queue growing faster than trips show.
        Sealed shipments and alarms show for agency and admin tokens, and are looked at again every 30 seconds.</footer>
        </body>
        </html>

        """#
}
