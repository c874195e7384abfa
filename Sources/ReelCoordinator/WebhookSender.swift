import Crypto
import Foundation
import ReelCore
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where the coordinator sends job notices and how they are signed.
public struct WebhookSettings: Sendable {
    /// For jobs whose spec names no `notify_url`.
    public var defaultURL: String?
    /// Hosts a spec's `notify_url` may name (the default URL's host is always allowed): a
    /// submitter must not make the coordinator POST into the network it sits in.
    public var allowedHosts: Set<String>
    /// The HMAC-SHA256 key of the `X-Reel-Signature` header.
    public var secret: [UInt8]
    /// Attempts before a notice is given up, and the back-off between them (doubling from `firstDelay`, at most `maxDelay`).
    public var maxAttempts = 8
    public var firstDelaySeconds = 1.0
    public var maxDelaySeconds = 60.0

    public init(defaultURL: String?, allowedHosts: Set<String>, secret: [UInt8]) {
        self.defaultURL = defaultURL
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.secret = secret
    }

    /// The key in `path`, at least 16 bytes of text; made there (32 random bytes as hex,
    /// readable by its owner only) when the file does not exist.
    public static func secret(at path: String, create: Bool) throws -> [UInt8] {
        if !FileManager.default.fileExists(atPath: path) {
            guard create else { throw ReelError(.usage, "--notify-secret: cannot read \(path)") }
            var generator = SystemRandomNumberGenerator()
            let text = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            guard FileManager.default.createFile(atPath: path, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw ReelError(.usage, "cannot write the webhook secret \(path)")
            }
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReelError(.usage, "--notify-secret: cannot read \(path)") }
        let key = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard key.count >= 16 else { throw ReelError(.usage, "--notify-secret: \(path) holds \(key.count) bytes; a key needs at least 16") }
        return key
    }

    /// Why a spec may not name `url`, or nil.
    func problem(with url: String) -> String? {
        if let problem = WebhookURL.problem(url) { return problem }
        let host = WebhookURL.host(url) ?? ""
        let allowed = allowedHosts.union(defaultURL.flatMap(WebhookURL.host).map { [$0] } ?? [])
        return allowed.contains(host)
            ? nil
            : "host '\(host)' is not one this coordinator notifies (allowed: \(allowed.sorted().joined(separator: ", ")); see --notify-allow-host)"
    }

    /// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`: the `X-Reel-Signature` header.
    public static func signature(of body: [UInt8], secret: [UInt8]) -> String {
        "sha256="
            + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)).map { String(format: "%02x", $0) }.joined()
    }
}

/// A job notice to deliver.
struct WebhookNotice: Sendable {
    let job: Int64
    let url: String
    /// `job.done`, `job.failed` or `job.cancelled`.
    let event: String
    let body: [UInt8]
}

/// What became of one attempt to deliver a notice.
struct WebhookOutcome: Sendable {
    enum Result: Sendable {
        case delivered(status: Int)
        case failed(String, retryIn: Double)
        case abandoned(String)
    }

    let job: Int64
    let event: String
    let attempt: Int
    let result: Result
}

/// Delivers job notices over HTTP(S) off the coordinator's thread (URLSession's), retrying
/// with back-off; the coordinator collects the outcomes each turn and records them as
/// events. At most ``maxPending`` notices are in flight; past it the oldest is given up.
final class WebhookSender: Sendable {
    static let maxPending = 1000
    let settings: WebhookSettings
    private let session: URLSession
    private let outcomes = Mutex<[WebhookOutcome]>([])
    private let pending = Mutex<Int>(0)
    private let queue = DispatchQueue(label: "reel.webhooks")

    init(settings: WebhookSettings) {
        self.settings = settings
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        configuration.httpCookieStorage = nil
        session = URLSession(configuration: configuration, delegate: RefusingRedirects(), delegateQueue: nil)
    }

    func send(_ notice: WebhookNotice) {
        let admitted = pending.withLock { count -> Bool in
            guard count < Self.maxPending else { return false }
            count += 1
            return true
        }
        guard admitted else {
            record(
                WebhookOutcome(
                    job: notice.job, event: notice.event, attempt: 0, result: .abandoned("\(Self.maxPending) notices are pending")))
            return
        }
        attempt(notice, number: 1)
    }

    /// Outcomes since the last call.
    func takeOutcomes() -> [WebhookOutcome] {
        outcomes.withLock { list in
            defer { list.removeAll() }; return list
        }
    }

    private func record(_ outcome: WebhookOutcome) { outcomes.withLock { $0.append(outcome) } }

    private func attempt(_ notice: WebhookNotice, number: Int) {
        guard let url = URL(string: notice.url) else {
            finish(notice, number, .abandoned("not a URL"))
            return
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(notice.body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("reel", forHTTPHeaderField: "User-Agent")
        request.setValue(notice.event, forHTTPHeaderField: "X-Reel-Event")
        // The same on every attempt: a receiver drops the repeats.
        request.setValue("\(notice.job).\(notice.event)", forHTTPHeaderField: "X-Reel-Delivery")
        request.setValue(WebhookSettings.signature(of: notice.body, secret: settings.secret), forHTTPHeaderField: "X-Reel-Signature")
        session.dataTask(with: request) { _, response, error in
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if (200..<300).contains(status) {
                self.finish(notice, number, .delivered(status: status))
                return
            }
            let why = error.map { "\($0.localizedDescription)" } ?? "HTTP \(status)"
            guard number < self.settings.maxAttempts else {
                self.finish(notice, number, .abandoned("\(why), after \(number) attempts"))
                return
            }
            let delay = min(self.settings.maxDelaySeconds, self.settings.firstDelaySeconds * pow(2, Double(number - 1)))
            self.record(WebhookOutcome(job: notice.job, event: notice.event, attempt: number, result: .failed(why, retryIn: delay)))
            self.queue.asyncAfter(deadline: .now() + delay) { self.attempt(notice, number: number + 1) }
        }.resume()
    }

    private func finish(_ notice: WebhookNotice, _ number: Int, _ result: WebhookOutcome.Result) {
        pending.withLock { $0 -= 1 }
        record(WebhookOutcome(job: notice.job, event: notice.event, attempt: number, result: result))
    }
}

/// Answers a redirect with the redirect itself (a failed attempt): an allowed host must not
/// send a notice on to one that is not.
private final class RefusingRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
