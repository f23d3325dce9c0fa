import Foundation
import LaneCore
import LaneSimulators
import LaneTestSupport
import Testing

/// The dashboard in a real browser: headless Chromium loads it from the collector, the test
/// waits for the live figures and checks them against the API, and saves screenshots.
@Suite struct DashboardTests {
    @Test func theDashboardShowsTheLiveFiguresTheAPIGives() async throws {
        // A port whose simulated day reached 17:00 just now.
        let now = ClockAnchor.now().utcNanoseconds
        let port = await offThePool { DeliveredPort(PortDay(seed: 8, port: "bota", midnight: now - 17 * 3_600_000_000_000), until: now) }
        try await withCollector(gatewayTokens: port.tokens, ports: [port.layout]) { url, _ in
            try await port.deliver(port.batches, to: url)
            let shown = try await offThePool { () -> Result<DashboardReading, any Error> in
                Result { try DashboardReading(url: url) }
            }.get()
            print("dashboard: first contentful paint \(shown.firstPaintMilliseconds) ms; screenshots in \(shown.artifacts)")
            #expect(shown.live, "the page never said it was live")
            // The figures of the moment the page shows.
            let (_, api) = try await get("\(url)/v1/ports/bota/wait-times?at=\(shown.at)")
            let apiWaits = (jsonObject(api)["lane_types"] as? [[String: Any]] ?? []).map {
                [$0["lane_type"] as? String ?? "", ($0["wait_s"] as? Int).map(String.init) ?? ""]
            }
            #expect(apiWaits.count == 3)
            #expect(shown.waits == apiWaits, "page \(shown.waits), API \(apiWaits)")
            #expect(apiWaits.allSatisfy { !$0[1].isEmpty }, "every lane type has a wait at 17:00: \(apiWaits)")
            #expect(shown.chartPaths >= 2, "today's chart has its lines")
            #expect(shown.gatewayRows == 3)
        }
    }
}

/// What the page shows once live, read through the DevTools protocol.
struct DashboardReading {
    var live = false
    /// The moment of the figures shown (UTC nanoseconds, as text).
    var at = ""
    var waits: [[String]] = []
    var chartPaths = 0
    var gatewayRows = 0
    var firstPaintMilliseconds = 0.0
    var artifacts = ""

    init(url: String) throws {
        let browser = try HeadlessChromium()
        let page = try browser.open("\(url)/#token=\(readToken)")
        live = try browser.waitUntil(
            "document.getElementById('status')?.dataset.state === 'live' && document.querySelectorAll('.card .wait').length === 3"
                + " && document.querySelectorAll('svg.chart path').length > 0", session: page)
        let cards = try browser.evaluate(
            "JSON.stringify([...document.querySelectorAll('.card')].map(c => [c.dataset.laneType, c.querySelector('.wait').dataset.seconds]))",
            session: page) as? String ?? "[]"
        waits = (try JSONSerialization.jsonObject(with: Data(cards.utf8))) as? [[String]] ?? []
        at = try browser.evaluate("document.querySelector('section.port').dataset.at", session: page) as? String ?? ""
        chartPaths = try browser.evaluate("document.querySelectorAll('svg.chart path').length", session: page) as? Int ?? 0
        gatewayRows = try browser.evaluate("document.querySelectorAll('table.gateways tbody tr').length", session: page) as? Int ?? 0
        firstPaintMilliseconds = try browser.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1", session: page) as? Double ?? -1
        let directory = repositoryRoot.appendingPathComponent(".build/test-artifacts").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try browser.screenshot(session: page, width: 1280, height: 900).write(to: URL(fileURLWithPath: directory + "/dashboard.png"))
        try browser.screenshot(session: page, width: 412, height: 915, mobile: true).write(to: URL(fileURLWithPath: directory + "/dashboard-phone.png"))
        artifacts = directory
    }
}
