import ArgumentParser
import Foundation
import ReelCore
import ReelHTTP
import ReelStore

extension Reel {
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make, list and revoke the bearer tokens of the HTTP API (`reel coordinator --http`).",
            subcommands: [Create.self, List.self, Revoke.self])

        struct DataOption: ParsableArguments {
            @Option(help: "The coordinator's data directory.")
            var data: String = "reel-data"

            func store() throws -> Store {
                guard FileManager.default.fileExists(atPath: "\(data)/reel.sqlite") else {
                    throw ValidationError("--data: no coordinator store at \(data)/reel.sqlite (start the coordinator there first)")
                }
                return try Store(path: "\(data)/reel.sqlite")
            }
        }

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make a token and print it once (its last line); only its SHA-256 is kept.")

            @Option(help: "viewer (reads everything), submitter (submits, and sees and controls its own jobs) or admin (everything).")
            var role: String

            @Option(help: "Who the token is for: the owner name of the jobs it submits (1-64 letters, digits, '.', '_', '-').")
            var name: String

            @OptionGroup var data: DataOption

            func validate() throws {
                guard APIRole(rawValue: role) != nil else {
                    throw ValidationError("--role must be viewer, submitter or admin (got '\(role)')")
                }
                if let problem = APIToken.problem(withName: name) { throw ValidationError("--name \(problem)") }
            }

            func run() throws {
                let token = APIToken.generate()
                try data.store().createToken(name: name, role: role, hash: APIToken.hash(token), now: Date().timeIntervalSince1970)
                print("token '\(name)' (\(role)) made; it is shown once, keep it secret:")
                print(token)
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the tokens: name, role, made, revoked.")

            @OptionGroup var data: DataOption

            func run() throws {
                let formatter = ISO8601DateFormatter()
                let time = { (seconds: Double) in formatter.string(from: Date(timeIntervalSince1970: seconds)) }
                for token in try data.store().tokens() {
                    print(
                        "\(token.name)\t\(token.role)\tmade \(time(token.createdAt))\t\(token.revokedAt.map { "revoked \(time($0))" } ?? "live")"
                    )
                }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a token by name: its next request gets 401.")

            @Argument(help: "The token's name.")
            var name: String

            @OptionGroup var data: DataOption

            func run() throws {
                guard try data.store().revokeToken(name: name, now: Date().timeIntervalSince1970) else {
                    throw ReelError(.notFound, "no live token named '\(name)'")
                }
                print("token '\(name)' revoked")
            }
        }
    }

    struct OpenAPI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "openapi", abstract: "Print the HTTP API's OpenAPI 3.1 document (what /v1/openapi.json serves).")

        func run() { print(APIServer.openAPIDocument) }
    }
}
