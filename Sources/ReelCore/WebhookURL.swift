import Foundation

/// A webhook address: `http://` or `https://`, a host, at most 2048 bytes.
public enum WebhookURL {
    public static let maxBytes = 2048

    /// Why `text` cannot be a webhook address, or nil.
    public static func problem(_ text: String) -> String? {
        guard text.utf8.count <= maxBytes else { return "must be at most \(maxBytes) bytes (got \(text.utf8.count))" }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.user == nil, url.password == nil
        else { return "must be an http:// or https:// URL with a host and no credentials (got '\(text.prefix(100))')" }
        return nil
    }

    /// The host of a valid address, lowercased.
    public static func host(_ text: String) -> String? { URLComponents(string: text)?.host?.lowercased() }
}
