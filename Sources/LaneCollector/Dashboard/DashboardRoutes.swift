import HTTPTypes
import Hummingbird
import NIOCore

/// Serves the dashboard's three files from the binary: offices and booths may be offline, so
/// nothing comes from a CDN.
extension Collector {
    func addDashboardRoutes(to router: Router<CollectorContext>) {
        let files: [(path: RouterPath, type: String, text: String)] = [
            ("/", "text/html; charset=utf-8", DashboardPage.html),
            ("/dashboard.js", "text/javascript; charset=utf-8", DashboardScript.js),
            ("/dashboard.css", "text/css; charset=utf-8", DashboardStyle.css),
        ]
        for file in files {
            let body = ByteBuffer(string: file.text)
            router.get(file.path) { _, _ in
                Response(status: .ok, headers: [
                    .contentType: file.type, .cacheControl: "no-cache",
                    .contentSecurityPolicy: "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:",
                ], body: .init(byteBuffer: body))
            }
        }
    }
}
