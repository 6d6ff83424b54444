import Foundation
import Testing

/// The cluster files of a sweep, checked offline: `shellcheck` on the Slurm script,
/// `kubernetes-validate --strict` on the manifest (PyPI's package, which .ci/setup installs in
/// a virtual environment), and the manifest's sweep expanded by the built binary.
@Suite struct DeployFilesTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// An executable on PATH, or at one of `extra` paths.
    static func tool(_ name: String, extra: [String] = []) -> String? {
        let environment = ProcessInfo.processInfo.environment
        let folders = (environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/\(name)" }
        return (extra + folders).first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let shellcheck = tool("shellcheck")
    static let kubernetesValidate: String? = {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (environment["HOME"] ?? "/root") + "/.cache"
        return tool(
            "kubernetes-validate",
            extra: [environment["FEDARENA_KUBERNETES_VALIDATE"], (environment["FEDARENA_VENV"] ?? cache + "/fedarena/venv") + "/bin/kubernetes-validate"]
                .compactMap { $0 })
    }()

    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await ChildProcess.run(executable, arguments)
    }

    @Test(.enabled(if: shellcheck != nil, "shellcheck is not installed here; .ci/setup installs Debian's shellcheck and CI runs this test"))
    func slurmScriptsPassShellcheck() async throws {
        let checker = try #require(Self.shellcheck)
        for script in ["deploy/slurm/sweep.sbatch", "deploy/slurm/fedarena.sbatch"] {
            let result = try await Self.run(checker, ["--shell=bash", Self.repository + "/" + script])
            #expect(result.status == 0, "\(script): \(result.output)")
        }
        // The checker does fail on a real mistake (an unquoted variable, SC2086).
        let scratch = try SweepProcess.folder("shellcheck")
        try "#!/usr/bin/env bash\nrm -rf $1/x\n".write(toFile: scratch + "/bad.sh", atomically: true, encoding: .utf8)
        let bad = try await Self.run(checker, [scratch + "/bad.sh"])
        #expect(bad.status != 0 && bad.output.contains("SC2086"), "\(bad.output)")
    }

    @Test(.enabled(if: kubernetesValidate != nil, "kubernetes-validate is not installed here; .ci/setup installs it from PyPI in a venv and CI runs this test"))
    func kubernetesManifestsValidateAgainstTheSchemas() async throws {
        let validator = try #require(Self.kubernetesValidate)
        for manifest in ["deploy/kubernetes/sweep-job.yaml", "deploy/kubernetes/fedarena-job.yaml"] {
            let result = try await Self.run(validator, ["--strict", Self.repository + "/" + manifest])
            #expect(result.status == 0, "\(manifest): \(result.output)")
            #expect(!result.output.contains("ERROR"), "\(manifest): \(result.output)")
        }
        // A misspelt field fails under --strict, so a pass means something.
        let scratch = try SweepProcess.folder("kubernetes-validate")
        try """
            apiVersion: batch/v1
            kind: Job
            metadata: { name: x }
            spec:
              completionz: 3
              template: { spec: { restartPolicy: Never, containers: [ { name: c, image: i } ] } }
            """.write(toFile: scratch + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try await Self.run(validator, ["--strict", scratch + "/bad.yaml"])
        #expect(bad.status != 0, "\(bad.output)")
    }

    /// The ConfigMap's sweep is valid and has as many cells as the Indexed Job's completions.
    @Test func theManifestsSweepHasOneCompletionPerCell() async throws {
        let manifest = try String(contentsOfFile: Self.repository + "/deploy/kubernetes/sweep-job.yaml", encoding: .utf8)
        let lines = manifest.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "sweep.yaml: |" })
        var sweep = [String]()
        for line in lines[(start + 1)...] {
            guard line.hasPrefix("    ") || line.trimmingCharacters(in: .whitespaces).isEmpty else { break }
            sweep.append(String(line.dropFirst(min(4, line.count))))
        }
        let scratch = try SweepProcess.folder("manifest-sweep")
        try sweep.joined(separator: "\n").write(toFile: scratch + "/sweep.yaml", atomically: true, encoding: .utf8)
        let count = try await SweepProcess.run(["sweep", scratch + "/sweep.yaml", "--count"], outputPath: scratch + "/count.txt")
        #expect(count.status == 0, "\(count.output)")
        let completions = try #require(lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("completions:") })
        #expect(completions.trimmingCharacters(in: .whitespaces) == "completions: \(count.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
