import Foundation
import LaneCollector
import LaneCore
import LaneSimulators
import LaneCollectorTestSupport
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

extension DashboardTests {
    /// A seal opened between Nogales and El Paso, and another still on the road: the page lists
    /// both, the first flagged, and the open alarm it raised, as the API gives them.
    @Test func theDashboardShowsSealedShipmentsAndOpenAlarms() async throws {
        let start = ClockAnchor.now().utcNanoseconds - 6 * hour
        let gateways = GatewayTokens(pairs: [("nogales-booths", "token-of-the-nogales-booths"), ("elpaso-exit", "token-of-the-elpaso-exit")])
        try await withCollector(gatewayTokens: gateways, ports: [nogales, elPaso], transitRoutes: [nogalesToElPaso]) { url, _ in
            let sealed = sealBatch("nogales-booths", "lane1/seal", sequence: 1, start: start,
                                   [seen(1, at: 60, events: 3), seen(2, at: 4 * 3600, events: 0)])
            #expect(try await post(url, sealed, token: "token-of-the-nogales-booths").0 == 200)
            let arrived = sealBatch("elpaso-exit", "exit/seal", sequence: 1, start: start, [seen(1, at: 5 * 3600, events: 4)])
            #expect(try await post(url, arrived, token: "token-of-the-elpaso-exit").0 == 200)
            let (_, alarms) = try await get(url + "/v1/alarms?state=open")
            let alarmIDs = (jsonObject(alarms)["alarms"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(alarmIDs.count == 1)

            let shown = try await offThePool { () -> Result<(rows: [[String]], alarms: [String])?, any Error> in
                Result {
                    let browser = try HeadlessChromium()
                    let page = try browser.open("\(url)/#token=\(readToken)")
                    guard try browser.waitUntil("document.querySelectorAll('#transits tbody tr').length === 2", session: page) else { return nil }
                    let rows = try browser.evaluate(
                        "JSON.stringify([...document.querySelectorAll('#transits tbody tr')].map(r => [r.dataset.seal, r.dataset.state, r.dataset.tampered, r.querySelector('.flags').textContent]))",
                        session: page) as? String ?? "[]"
                    let ids = try browser.evaluate("JSON.stringify([...document.querySelectorAll('#alarms li')].map(l => l.dataset.id))",
                                                   session: page) as? String ?? "[]"
                    let directory = repositoryRoot.appendingPathComponent(".build/test-artifacts").path
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    try browser.screenshot(session: page, width: 1280, height: 900)
                        .write(to: URL(fileURLWithPath: directory + "/dashboard-shipments.png"))
                    return (jsonArray(rows) as? [[String]] ?? [], jsonArray(ids) as? [String] ?? [])
                }
            }.get()
            let (rows, listed) = try #require(shown, "the page never listed the two shipments")
            #expect(rows.contains(["0e1f-00000001", "arrived", "true", "tampered"]), "\(rows)")
            #expect(rows.contains(["0e1f-00000002", "under_way", "false", "intact"]), "\(rows)")
            #expect(listed == alarmIDs)
        }
    }
}

private func jsonArray(_ text: String) -> Any { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? [] }

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
