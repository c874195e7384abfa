import ArgumentParser
import ReelClient

extension Reel {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub (give it to the other side).",
            discussion: """
                The coordinator uses its .key with --curve-secret and admits the keys whose .pub files are in \
                its --allow-worker, --allow-submitter or --allow-admin folder (one role each). Workers and clients use their .key with --curve-key and the coordinator's .pub with --server-key.
                """)

        @Option(help: "Name of the key (the identity it authenticates as).")
        var name: String

        @Option(help: "Folder to write the key files to.")
        var out: String = "keys"

        func validate() throws {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ValidationError("--name: use letters, digits, '-', '_' or '.'")
            }
        }

        func run() throws {
            let paths = try KeyFiles.generate(directory: out, name: name)
            print(paths.secret)
            print(paths.public)
        }
    }
}
