import Hummingbird
import NIOCore

/// The dashboard: one HTML page, its stylesheet and its script, embedded in the binary (no
/// CDN, no build step). It reads the same API as any client, with the session cookie.
enum Dashboard {
    static func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in asset(DashboardAssets.html, type: "text/html; charset=utf-8") }
        router.get("/dashboard.css") { _, _ in asset(DashboardAssets.css, type: "text/css; charset=utf-8") }
        router.get("/dashboard.js") { _, _ in asset(DashboardAssets.script, type: "text/javascript; charset=utf-8") }
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "no-cache",
                .contentSecurityPolicy:
                    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The dashboard's files, embedded in the binary: no CDN, no build step. Edit them here.
enum DashboardAssets {}
