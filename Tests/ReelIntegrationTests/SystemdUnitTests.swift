import Foundation
import Testing

/// The units in Deploy/systemd, checked by systemd's own verifier: any warning fails, the
/// hardening is there, and every option the units pass to `reel` exists.
@Suite struct SystemdUnitTests {
    static let units = ["reel-coordinator.service", "reel-worker@.service"]

    /// A unit's text with its ExecStart pointing at the `reel` built here: systemd-analyze
    /// refuses an ExecStart that does not exist, and the tests install nothing under /usr.
    func installedCopy(of unit: String, in directory: String) throws -> String {
        let text = try String(contentsOfFile: "\(Diffusers.repository)/Deploy/systemd/\(unit)", encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/reel "))
        let path = "\(directory)/\(unit)"
        try text.replacingOccurrences(of: "ExecStart=/usr/local/bin/reel ", with: "ExecStart=\(ReelBinary.path) ")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: units)
    func unitsVerifyWithoutAnyWarning(unit: String) throws {
        let directory = TemporaryDirectory()
        let path = try installedCopy(of: unit, in: directory.path)
        let verify = try Diffusers.run("/usr/bin/systemd-analyze", ["verify", "--man=no", path])
        #expect(verify.status == 0 && verify.output.isEmpty, "systemd-analyze verify \(unit):\n\(verify.output)")
        // The offline security review scores exposure from 0 (locked down) to 10 (none).
        let review = try Diffusers.run("/usr/bin/systemd-analyze", ["security", "--offline=yes", "--threshold=25", path])
        let score = review.output.split(separator: "\n").last { $0.contains("Overall exposure level") }
            .flatMap { line in line.split(separator: " ").compactMap { Double($0) }.last }
        #expect(score != nil && score! <= 2.5, "exposure of \(unit): \(review.output.suffix(400))")
    }

    @Test(arguments: units)
    func unitsAreHardened(unit: String) throws {
        let text = try String(contentsOfFile: "\(Diffusers.repository)/Deploy/systemd/\(unit)", encoding: .utf8)
        let settings = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        for setting in [
            "DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "Restart=always", "ProtectHome=yes",
            "CapabilityBoundingSet=",
        ] {
            #expect(settings.contains(setting), "\(unit) lacks \(setting)")
        }
        // The secret key arrives as a credential, never read from /etc by the service user.
        #expect(settings.contains { $0.hasPrefix("LoadCredential=") }, "\(unit) lacks LoadCredential")
        if unit.hasPrefix("reel-coordinator") { #expect(settings.contains("ReadWritePaths=/var/lib/reel")) }
    }

    @Test(arguments: units)
    func everyOptionTheUnitsPassExists(unit: String) throws {
        let text = try String(contentsOfFile: "\(Diffusers.repository)/Deploy/systemd/\(unit)", encoding: .utf8)
        let command = try #require(text.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let words = command.split(separator: " ").map(String.init)
        let subcommand = words[1]
        let help = try ReelBinary.run([subcommand, "--help"])
        #expect(help.status == 0)
        for option in words where option.hasPrefix("--") {
            #expect(help.out.contains(option + " ") || help.out.contains(option + "\n"), "reel \(subcommand) has no \(option)")
        }
    }
}
