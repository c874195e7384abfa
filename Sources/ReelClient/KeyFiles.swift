import Foundation
import ReelCore
import ReelZMQ
import TOMLKit

/// CURVE key files, as `reel keys` writes them: `NAME.key` (TOML with `public` and `secret`,
/// Z85, mode 0600) and `NAME.pub` (TOML with `public` only, safe to copy anywhere).
public enum KeyFiles {
    /// Generates a key pair and writes `DIR/NAME.key` and `DIR/NAME.pub`; returns their paths.
    public static func generate(directory: String, name: String) throws -> (secret: String, public: String) {
        let keys = try CurveKeyPair.generate()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let secretPath = "\(directory)/\(name).key", publicPath = "\(directory)/\(name).pub"
        guard !FileManager.default.fileExists(atPath: secretPath) else {
            throw ReelError(.usage, "\(secretPath) exists; not overwriting a key")
        }
        let secretText =
            "# Reel CURVE key pair '\(name)': keep this file secret.\npublic = \"\(Z85.encode(keys.publicKey))\"\nsecret = \"\(Z85.encode(keys.secretKey))\"\n"
        guard FileManager.default.createFile(atPath: secretPath, contents: Data(secretText.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ReelError(.usage, "cannot write \(secretPath)")
        }
        try "# Reel CURVE public key '\(name)'.\npublic = \"\(Z85.encode(keys.publicKey))\"\n"
            .write(toFile: publicPath, atomically: true, encoding: .utf8)
        return (secretPath, publicPath)
    }

    /// Reads a key pair from a `.key` file.
    public static func keyPair(_ path: String) throws -> CurveKeyPair {
        let table = try read(path)
        return CurveKeyPair(publicKey: try key(table, "public", path), secretKey: try key(table, "secret", path))
    }

    /// Reads the public key from a `.pub` or `.key` file.
    public static func publicKey(_ path: String) throws -> [UInt8] { try key(try read(path), "public", path) }

    /// Every `*.pub` in `directory` (or the one file given), keyed by key, named by file name.
    public static func allowList(_ path: String, option: String) throws -> [[UInt8]: String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReelError(.usage, "\(option): \(path) does not exist")
        }
        let files =
            isDirectory.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".pub") }.sorted().map { "\(path)/\($0)" }
            : [path]
        var allowed: [[UInt8]: String] = [:]
        for file in files { allowed[try publicKey(file)] = ((file as NSString).lastPathComponent as NSString).deletingPathExtension }
        guard !allowed.isEmpty else { throw ReelError(.usage, "\(option): no .pub files in \(path)") }
        return allowed
    }

    private static func read(_ path: String) throws -> TOMLTable {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReelError(.usage, "cannot read the key file \(path)") }
        do { return try TOMLTable(string: String(decoding: data, as: UTF8.self)) } catch {
            throw ReelError(.usage, "\(path) is not a Reel key file: \(error)")
        }
    }

    private static func key(_ table: TOMLTable, _ field: String, _ path: String) throws -> [UInt8] {
        guard let text = table[field]?.string else { throw ReelError(.usage, "\(path): field '\(field)' is missing") }
        do { return try Z85.decode(text) } catch { throw ReelError(.usage, "\(path): field '\(field)' is not a Z85 key") }
    }
}
