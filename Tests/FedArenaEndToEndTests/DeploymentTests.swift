import Foundation
import Testing
import Yams

/// The deploy/ files, checked offline: the Kubernetes manifests against the API schemas
/// (PyPI's `kubernetes-validate`) and through kustomize, the compose file against the compose
/// specification (PyPI's `check-jsonschema`), the Dockerfile's runtime stage against the
/// libraries the binary links, the Slurm script run end to end with a stand-in `srun` (its
/// `shellcheck` pass is in ``DeployFilesTests``); and each file against its scenario (process
/// counts, names, ports, keys).
/// .ci/setup installs the PyPI tools in a virtual environment outside the repository
/// (`$FEDARENA_VENV`, default `~/.cache/fedarena/venv`); a test whose tool is missing is
/// skipped with a message that says so.
@Suite struct DeploymentTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    // MARK: tools

    /// A tool: `$variable`, else the project's virtual environment, else PATH (through
    /// ``DeployFilesTests/tool(_:extra:)``, the sweep files' lookup).
    static func tool(_ name: String, variable: String? = nil) -> String? {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (environment["HOME"] ?? "/root") + "/.cache"
        let venv = (environment["FEDARENA_VENV"] ?? cache + "/fedarena/venv") + "/bin/" + name
        return DeployFilesTests.tool(name, extra: [variable.flatMap { environment[$0] }, venv].compactMap { $0 })
    }

    static let kubernetesValidate = tool("kubernetes-validate", variable: "FEDARENA_KUBERNETES_VALIDATE")
    static let checkJSONSchema = tool("check-jsonschema", variable: "FEDARENA_CHECK_JSONSCHEMA")
    static let kustomize: [String]? = tool("kustomize").map { [$0, "build"] } ?? tool("kubectl").map { [$0, "kustomize"] }
    static let ldd = tool("ldd")
    static let dpkgQuery = tool("dpkg-query")

    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> (status: Int32, output: String) {
        try await ChildProcess.run(executable, arguments, environment: environment)
    }

    // MARK: YAML

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: repository + "/" + relative, encoding: .utf8)
    }

    static func mapping(_ value: Any?, _ what: String) throws -> [String: Any] {
        try #require(value as? [String: Any], "\(what) is not a mapping")
    }

    static func list(_ value: Any?, _ what: String) throws -> [Any] {
        try #require(value as? [Any], "\(what) is not a list")
    }

    static func yaml(_ relative: String) throws -> [String: Any] {
        try mapping(try Yams.load(yaml: try text(relative)), relative)
    }

    static func documents(_ text: String, _ what: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: text).map { try mapping($0, what) }
    }

    /// The `kind`/`metadata.name` document of a manifest.
    static func resource(_ documents: [[String: Any]], kind: String, name: String) throws -> [String: Any] {
        try #require(
            documents.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name },
            "no \(kind)/\(name)")
    }

    /// `a.b.c` in nested mappings.
    static func value(_ root: [String: Any], _ path: String) throws -> Any {
        try value(root, keys: path.split(separator: ".").map(String.init))
    }

    /// The value at `keys` in nested mappings (for keys with dots, like `scenario.yaml`).
    static func value(_ root: [String: Any], keys: [String]) throws -> Any {
        var current: Any = root
        for key in keys {
            current = try #require((current as? [String: Any])?[key], "no \(keys.joined(separator: " > ")) (at \(key))")
        }
        return current
    }

    /// A container's `env` as a dictionary of plain values.
    static func environment(_ container: [String: Any]) throws -> [String: String] {
        var result = [String: String]()
        for entry in try list(container["env"] ?? [Any](), "env") {
            let variable = try mapping(entry, "env entry")
            if let name = variable["name"] as? String, let value = variable["value"] { result[name] = "\(value)" }
        }
        return result
    }

    /// The port of `tcp://HOST:PORT`, and the host.
    static func endpoint(_ text: String) throws -> (host: String, port: Int) {
        let rest = try #require(text.hasPrefix("tcp://") ? String(text.dropFirst(6)) : nil, "\(text) is not tcp://HOST:PORT")
        let colon = try #require(rest.lastIndex(of: ":"))
        return (String(rest[..<colon]), try #require(Int(rest[rest.index(after: colon)...])))
    }

    /// `fedarena validate FILE` passes, and `clients.processes`.
    static func validatedProcesses(_ relative: String) async throws -> Int {
        let result = try await run(FedArenaProcess.executable, ["validate", repository + "/" + relative])
        #expect(result.status == 0, "\(relative): \(result.output)")
        let scenario = try yaml(relative)
        return try #require(try value(scenario, "clients.processes") as? Int)
    }

    // MARK: Kubernetes

    @Test func kubernetesManifestsAgreeWithTheirScenario() async throws {
        let processes = try await Self.validatedProcesses("deploy/kubernetes/scenario.yaml")
        let manifest = try Self.documents(try Self.text("deploy/kubernetes/fedarena-job.yaml"), "fedarena-job.yaml")
        let kustomization = try Self.yaml("deploy/kubernetes/kustomization.yaml")

        // The client Job: one completion per process index, restarted pods keep their index.
        let clients = try Self.resource(manifest, kind: "Job", name: "fedarena-clients")
        #expect(try Self.value(clients, "spec.completionMode") as? String == "Indexed")
        #expect(try Self.value(clients, "spec.completions") as? Int == processes)
        #expect(try Self.value(clients, "spec.parallelism") as? Int == processes)
        #expect((try Self.value(clients, "spec.backoffLimitPerIndex") as? Int ?? 0) > 0)
        #expect(try Self.value(clients, "spec.template.spec.restartPolicy") as? String == "Never")
        let coordinator = try Self.resource(manifest, kind: "Job", name: "fedarena-coordinator")
        #expect((try Self.value(coordinator, "spec.backoffLimit") as? Int ?? 0) > 0)

        // The headless Service selects the coordinator pod, on the port it binds and clients dial.
        let service = try Self.resource(manifest, kind: "Service", name: "fedarena-coordinator")
        #expect(try Self.value(service, "spec.clusterIP") as? String == "None")
        let selector = try Self.mapping(try Self.value(service, "spec.selector"), "selector") as? [String: String]
        let podLabels = try Self.mapping(try Self.value(coordinator, "spec.template.metadata.labels"), "labels") as? [String: String]
        #expect(selector != nil && selector!.allSatisfy { podLabels?[$0.key] == $0.value })
        let servicePort = try Self.mapping(try Self.list(try Self.value(service, "spec.ports"), "ports").first, "port")
        let coordinatorContainer = try Self.mapping(try Self.list(try Self.value(coordinator, "spec.template.spec.containers"), "containers").first, "container")
        let clientContainer = try Self.mapping(try Self.list(try Self.value(clients, "spec.template.spec.containers"), "containers").first, "container")
        let coordinatorEnvironment = try Self.environment(coordinatorContainer)
        let clientEnvironment = try Self.environment(clientContainer)
        let bind = try Self.endpoint(try #require(coordinatorEnvironment["FEDARENA_BIND"]))
        let connect = try Self.endpoint(try #require(clientEnvironment["FEDARENA_CONNECT"]))
        #expect(connect.host == "fedarena-coordinator")
        #expect(connect.port == servicePort["port"] as? Int && bind.port == connect.port)
        let containerPort = try Self.mapping(try Self.list(coordinatorContainer["ports"], "ports").first, "port")
        #expect(containerPort["containerPort"] as? Int == bind.port)
        #expect(coordinatorContainer["args"] as? [String] == ["coordinator"] && clientContainer["args"] as? [String] == ["client"])
        #expect(coordinatorEnvironment["FEDARENA_AUTO_RESUME"] == "true")

        // Results on the claim (an emptyDir would be lost with the pod), under FEDARENA_OUT.
        let claim = try Self.resource(manifest, kind: "PersistentVolumeClaim", name: "fedarena-results")
        #expect(claim["spec"] != nil)
        let out = try #require(coordinatorEnvironment["FEDARENA_OUT"])
        let mounts = try Self.list(coordinatorContainer["volumeMounts"], "volumeMounts").map { try Self.mapping($0, "mount") }
        let resultsMount = try #require(mounts.first { out.hasPrefix(($0["mountPath"] as? String ?? "?") + "/") }, "no mount holds \(out)")
        let volumes = try Self.list(try Self.value(coordinator, "spec.template.spec.volumes"), "volumes").map { try Self.mapping($0, "volume") }
        let resultsVolume = try #require(volumes.first { $0["name"] as? String == resultsMount["name"] as? String })
        #expect((resultsVolume["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String == "fedarena-results")
        #expect(resultsVolume["emptyDir"] == nil)
        let scenarioVolume = try #require(volumes.first { $0["configMap"] != nil })
        #expect((scenarioVolume["configMap"] as? [String: Any])?["name"] as? String == "fedarena-scenario")
        let scenarioMount = try #require(mounts.first { $0["name"] as? String == scenarioVolume["name"] as? String })
        #expect(coordinatorEnvironment["FEDARENA_SCENARIO"] == "\(scenarioMount["mountPath"]!)/scenario.yaml")

        // The kustomization makes what the manifest refers to: the ConfigMap and a key per process.
        #expect(kustomization["resources"] as? [String] == ["fedarena-job.yaml"])
        let generators = try Self.list(kustomization["secretGenerator"], "secretGenerator").map { try Self.mapping($0, "generator") }
        let clientKeys = try #require(generators.first { $0["name"] as? String == "fedarena-client-keys" })
        #expect(clientKeys["files"] as? [String] == ["keys/coordinator.pub"] + (0..<processes).map { "keys/client-\($0).key" })
        let coordinatorKeys = try #require(generators.first { $0["name"] as? String == "fedarena-coordinator-keys" })
        #expect(coordinatorKeys["files"] as? [String] == ["keys/coordinator.key", "keys/coordinator.pub", "keys/allow-list.json"])
        for (job, generator) in [(coordinator, "fedarena-coordinator-keys"), (clients, "fedarena-client-keys")] {
            let jobVolumes = try Self.list(try Self.value(job, "spec.template.spec.volumes"), "volumes").map { try Self.mapping($0, "volume") }
            #expect(jobVolumes.contains { ($0["secret"] as? [String: Any])?["secretName"] as? String == generator })
        }
        let configMaps = try Self.list(kustomization["configMapGenerator"], "configMapGenerator").map { try Self.mapping($0, "generator") }
        #expect(configMaps.contains { $0["name"] as? String == "fedarena-scenario" && $0["files"] as? [String] == ["scenario.yaml"] })
    }

    @Test(.enabled(if: kubernetesValidate != nil, "kubernetes-validate is not installed: .ci/setup installs it from PyPI into $FEDARENA_VENV (default ~/.cache/fedarena/venv)"))
    func kubernetesManifestsValidateAgainstTheSchemas() async throws {
        let validator = try #require(Self.kubernetesValidate)
        let result = try await Self.run(validator, ["--strict", Self.repository + "/deploy/kubernetes/fedarena-job.yaml"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: " passed for resource ").count - 1 == 4, "\(result.output)")
        // The same file with one misspelt field fails, so a pass means something.
        let scratch = try MultiHostTests.folder("k8s-misspelt")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let misspelt = try Self.text("deploy/kubernetes/fedarena-job.yaml").replacingOccurrences(of: "  backoffLimitPerIndex:", with: "  backoffLimitPerIndx:")
        try misspelt.write(toFile: scratch + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try await Self.run(validator, ["--strict", scratch + "/bad.yaml"])
        #expect(bad.status != 0 && bad.output.contains("backoffLimitPerIndx"), "\(bad.output)")
    }

    @Test(
        .enabled(
            if: kubernetesValidate != nil && kustomize != nil,
            "needs kustomize (or kubectl, which embeds it) and kubernetes-validate; neither is required by the build"))
    func theKustomizationBuildsValidResources() async throws {
        let validator = try #require(Self.kubernetesValidate)
        let kustomize = try #require(Self.kustomize)
        let scratch = try MultiHostTests.folder("kustomize")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for file in ["kustomization.yaml", "fedarena-job.yaml", "scenario.yaml"] {
            try FileManager.default.copyItem(atPath: Self.repository + "/deploy/kubernetes/" + file, toPath: scratch + "/" + file)
        }
        // The key folder the kustomization reads, as the instructions make it.
        let processes = try #require(try Self.value(try Self.yaml("deploy/kubernetes/scenario.yaml"), "clients.processes") as? Int)
        let generated = try await Self.run(FedArenaProcess.executable, ["keys", "generate", scratch + "/keys", "--clients", "\(processes)"])
        try #require(generated.status == 0, "\(generated.output)")
        let built = try await Self.run(kustomize[0], Array(kustomize.dropFirst()) + [scratch])
        try #require(built.status == 0, "\(built.output)")
        try built.output.write(toFile: scratch + "/built.yaml", atomically: true, encoding: .utf8)
        let result = try await Self.run(validator, ["--strict", scratch + "/built.yaml"])
        #expect(result.status == 0, "\(result.output)")

        let resources = try Self.documents(built.output, "kustomize output")
        #expect(Set(resources.map { "\($0["kind"]!)" }) == ["ConfigMap", "Secret", "Service", "PersistentVolumeClaim", "Job"])
        let configMap = try Self.resource(resources, kind: "ConfigMap", name: "fedarena-scenario")
        #expect(try Self.value(configMap, keys: ["data", "scenario.yaml"]) as? String == (try Self.text("deploy/kubernetes/scenario.yaml")))
        let secret = try Self.resource(resources, kind: "Secret", name: "fedarena-client-keys")
        let encoded = try #require(try Self.value(secret, keys: ["data", "client-0.key"]) as? String)
        // kustomize folds long base64 values over lines.
        #expect(Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) == FileManager.default.contents(atPath: scratch + "/keys/client-0.key"))
        let images = try Self.mapping(try Self.list(try Self.yaml("deploy/kubernetes/kustomization.yaml")["images"], "images").first, "image")
        let expected = "\(images["newName"]!):\(images["newTag"]!)"
        for job in resources where job["kind"] as? String == "Job" {
            let spec = try Self.mapping(try Self.value(job, "spec.template.spec"), "pod spec")
            let containers = (spec["containers"] as? [Any] ?? []) + (spec["initContainers"] as? [Any] ?? [])
            for container in containers {
                #expect(try Self.mapping(container, "container")["image"] as? String == expected)
            }
        }
    }

    // MARK: Compose

    @Test func composeFileAgreesWithItsScenario() async throws {
        let processes = try await Self.validatedProcesses("deploy/container/scenario.yaml")
        let compose = try Self.yaml("deploy/container/compose.yaml")
        let services = try Self.mapping(compose["services"], "services")
        #expect(Set(services.keys) == Set(["coordinator"] + (0..<processes).map { "client-\($0)" }))
        let coordinator = try Self.mapping(services["coordinator"], "coordinator")
        let coordinatorEnvironment = try Self.mapping(coordinator["environment"], "environment") as? [String: String] ?? [:]
        let bind = try Self.endpoint(try #require(coordinatorEnvironment["FEDARENA_BIND"]))
        #expect(coordinator["command"] as? [String] == ["coordinator"])
        #expect(coordinator["build"] != nil)
        #expect(coordinatorEnvironment["FEDARENA_AUTO_RESUME"] == "true")

        // The scenario as a config, the results on the named volume, the keys as secrets.
        let configs = try Self.list(coordinator["configs"], "configs").map { try Self.mapping($0, "config") }
        #expect(configs.contains { $0["source"] as? String == "scenario" && $0["target"] as? String == coordinatorEnvironment["FEDARENA_SCENARIO"] })
        #expect((try Self.value(compose, "configs.scenario.file")) as? String == "./scenario.yaml")
        let out = try #require(coordinatorEnvironment["FEDARENA_OUT"])
        let volumes = try Self.list(coordinator["volumes"], "volumes").compactMap { $0 as? String }
        #expect(volumes.contains { volume in
            let parts = volume.split(separator: ":").map(String.init)
            return parts.count >= 2 && parts[0] == "results" && out.hasPrefix(parts[1] + "/")
        }, "\(volumes) holds no results volume for \(out)")
        #expect(try Self.mapping(compose["volumes"], "volumes").keys.contains("results"))
        let keyFolder = try #require(coordinatorEnvironment["FEDARENA_KEYS"])
        let coordinatorSecrets = try Self.list(coordinator["secrets"], "secrets").map { try Self.mapping($0, "secret") }
        #expect(Set(coordinatorSecrets.compactMap { $0["target"] as? String })
            == Set(["coordinator.key", "coordinator.pub", "allow-list.json"].map { keyFolder + "/" + $0 }))

        let image = coordinator["image"] as? String
        let secrets = try Self.mapping(compose["secrets"], "secrets")
        for index in 0..<processes {
            let client = try Self.mapping(services["client-\(index)"], "client-\(index)")
            let environment = try Self.mapping(client["environment"], "environment") as? [String: String] ?? [:]
            #expect(client["image"] as? String == image)
            #expect(client["command"] as? [String] == ["client"])
            #expect(environment["FEDARENA_PROCESS_INDEX"] == "\(index)")
            let connect = try Self.endpoint(try #require(environment["FEDARENA_CONNECT"]))
            #expect(connect.host == "coordinator" && connect.port == bind.port)
            // Its own key only, where FEDARENA_SECRET_KEY points.
            let entries = try Self.list(client["secrets"], "secrets")
            let keys = entries.compactMap { $0 as? [String: Any] }.filter { ($0["source"] as? String)?.hasPrefix("client-") == true }
            #expect(keys.count == 1 && keys.first?["source"] as? String == "client-\(index).key")
            let target = try #require(keys.first?["target"] as? String)
            #expect(environment["FEDARENA_SECRET_KEY"] == "/run/secrets/" + target)
            #expect((try Self.value(secrets, keys: ["client-\(index).key", "file"])) as? String == "./keys/client-\(index).key")
        }
    }

    @Test(.enabled(if: checkJSONSchema != nil, "check-jsonschema is not installed: .ci/setup installs it from PyPI into $FEDARENA_VENV (default ~/.cache/fedarena/venv)"))
    func composeFileValidatesAgainstTheComposeSpecification() async throws {
        let checker = try #require(Self.checkJSONSchema)
        let result = try await Self.run(checker, ["--builtin-schema", "vendor.compose-spec", Self.repository + "/deploy/container/compose.yaml"])
        #expect(result.status == 0, "\(result.output)")
        let scratch = try MultiHostTests.folder("compose-misspelt")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let misspelt = try Self.text("deploy/container/compose.yaml").replacingOccurrences(of: "    restart: on-failure", with: "    restarts: on-failure")
        try misspelt.write(toFile: scratch + "/compose.yaml", atomically: true, encoding: .utf8)
        let bad = try await Self.run(checker, ["--builtin-schema", "vendor.compose-spec", scratch + "/compose.yaml"])
        #expect(bad.status != 0 && bad.output.contains("restarts"), "\(bad.output)")
    }

    // MARK: Dockerfile

    /// The Dockerfile's stages: the image each starts from and its instructions, with line
    /// continuations joined and `ARG`s of the global scope substituted.
    struct Stage {
        var from: String
        var name: String?
        var instructions: [(keyword: String, text: String)] = []

        func all(_ keyword: String) -> [String] { instructions.filter { $0.keyword == keyword }.map(\.text) }
    }

    static func dockerfileStages() throws -> [Stage] {
        var joined = [String]()
        var pending = ""
        for raw in try text("deploy/container/Dockerfile").split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (line.isEmpty || line.hasPrefix("#")) { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
            } else {
                joined.append(pending + line)
                pending = ""
            }
        }
        var arguments = [String: String]()
        var stages = [Stage]()
        for line in joined {
            let keyword = String(line.prefix { !$0.isWhitespace }).uppercased()
            let rest = line.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
            if keyword == "FROM" {
                var image = rest
                for (name, value) in arguments { image = image.replacingOccurrences(of: "${\(name)}", with: value) }
                let parts = image.split(separator: " ").map(String.init)
                stages.append(Stage(from: parts[0], name: parts.count == 3 && parts[1].uppercased() == "AS" ? parts[2] : nil))
            } else if stages.isEmpty, keyword == "ARG", let equals = rest.firstIndex(of: "=") {
                arguments[String(rest[..<equals])] = String(rest[rest.index(after: equals)...])
            } else if !stages.isEmpty {
                stages[stages.count - 1].instructions.append((keyword, rest))
            }
        }
        return stages
    }

    /// The packages of the runtime stage's `apt-get install`.
    static func runtimePackages() throws -> [String] {
        let runtime = try #require(try dockerfileStages().last)
        let install = try #require(runtime.all("RUN").first { $0.contains("apt-get install") })
        let words = install.split(separator: " ").map(String.init)
        let start = try #require(words.firstIndex(of: "install"))
        return words[(start + 1)...].prefix { $0 != "&&" }.filter { !$0.hasPrefix("-") }
    }

    @Test func dockerfileBuildsWithSwiftAndRunsSlimAsAnUnprivilegedUser() throws {
        let stages = try Self.dockerfileStages()
        try #require(stages.count == 2, "\(stages.map(\.from))")
        let build = stages[0]
        let runtime = stages[1]
        #expect(build.from.hasPrefix("swift:6.") && build.from.hasSuffix("-bookworm"), "\(build.from): an official Swift 6 image on Debian 12")
        #expect(build.all("RUN").contains { $0.contains("swift build -c release") && $0.contains("--static-swift-stdlib") })
        #expect(runtime.from == "debian:12-slim")
        let packages = try Self.runtimePackages()
        for package in ["libzmq5", "libopenblas0", "dataset-fashion-mnist"] {
            #expect(packages.contains(package), "the runtime stage does not install \(package): \(packages)")
        }
        #expect(runtime.all("COPY").contains { $0.hasPrefix("--from=\(build.name ?? "0") ") && $0.contains("fedarena") })
        let user = try #require(runtime.all("USER").last)
        #expect(!["root", "0"].contains(user.split(separator: ":").first.map(String.init) ?? "root"), "USER \(user)")
        let entrypoint = try #require(runtime.all("ENTRYPOINT").last)
        #expect(entrypoint.contains("tini") && entrypoint.contains("/usr/local/bin/fedarena"))
        // The paths the manifests rely on: the uid, the results folder, the data.
        #expect(runtime.all("ARG").contains("FEDARENA_UID=10001"))
        #expect(runtime.all("VOLUME").contains { $0.contains("/results") })
        #expect(runtime.all("ENV").contains { $0.contains("FEDARENA_DATA=/usr/share/datasets/fashion-mnist") })
    }

    /// The Debian package that owns `path` (trying its /usr-merged twin), or `nil`.
    static func owner(of path: String) async throws -> String? {
        let dpkg = try #require(dpkgQuery)
        var candidates = [path, URL(fileURLWithPath: path).resolvingSymlinksInPath().path]
        for candidate in candidates {
            if candidate.hasPrefix("/usr/lib/") { candidates.append(String(candidate.dropFirst(4))) }
            if candidate.hasPrefix("/lib/") { candidates.append("/usr" + candidate) }
        }
        for candidate in candidates {
            let result = try await run(dpkg, ["-S", candidate])
            if result.status == 0, let line = result.output.split(separator: "\n").first, let colon = line.firstIndex(of: ":") {
                return String(line[..<colon])
            }
        }
        return nil
    }

    /// The installed packages that `roots` pull in (Depends and Pre-Depends, every installed
    /// alternative), the roots included.
    static func dependencyClosure(of roots: [String]) async throws -> Set<String> {
        let dpkg = try #require(dpkgQuery)
        var seen = Set<String>()
        var queue = roots
        while let package = queue.popLast() {
            let name = String(package.split(separator: ":").first ?? Substring(package))
            guard seen.insert(name).inserted else { continue }
            let result = try await run(dpkg, ["-W", "-f=${Depends}, ${Pre-Depends}", name])
            guard result.status == 0 else { continue }  // not installed here (another alternative)
            for clause in result.output.split(separator: ",") {
                for alternative in clause.split(separator: "|") {
                    let word = alternative.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                    if !word.isEmpty { queue.append(word) }
                }
            }
        }
        return seen
    }

    @Test(.enabled(if: ldd != nil && dpkgQuery != nil, "needs ldd and dpkg-query (a Debian machine, as the runtime image is)"))
    func theRuntimeStageInstallsEveryLibraryTheBinaryLinks() async throws {
        let linked = try await Self.run(try #require(Self.ldd), [FedArenaProcess.executable])
        try #require(linked.status == 0, "\(linked.output)")
        var needed = Set<String>()
        for line in linked.output.split(separator: "\n") {
            #expect(!line.contains("not found"), "\(line)")
            let fields = line.split(separator: " ").map(String.init)
            let path = fields.firstIndex(of: "=>").map { fields.indices.contains($0 + 1) ? fields[$0 + 1] : "" } ?? fields.first { $0.hasPrefix("/") } ?? ""
            // The Swift runtime is linked statically in the image (--static-swift-stdlib).
            guard path.hasPrefix("/"), !path.contains("/lib/swift/") else { continue }
            let package = try await #require(try Self.owner(of: path), "no Debian package owns \(path)")
            needed.insert(String(package.split(separator: ":").first!))
        }
        #expect(needed.contains("libzmq5") && needed.contains("zlib1g"), "\(needed)")
        let provided = try await Self.dependencyClosure(of: try Self.runtimePackages())
        #expect(needed.subtracting(provided).isEmpty, "the runtime stage lacks \(needed.subtracting(provided).sorted()) (needed: \(needed.sorted()))")
    }

    // MARK: Slurm

    /// A free TCP port on loopback (bound and released: the script needs a fixed port).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        try #require(bound == 0)
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        try #require(named == 0)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The sbatch script run as Slurm would, with stand-ins for `srun` (starts a step's tasks
    /// here, SLURM_PROCID 0..<ntasks, and forwards SIGTERM) and `scontrol` (one node,
    /// localhost): the real binaries run the scenario over loopback, and a requeued job (the
    /// same job id again) finds its finished run and exits 0.
    @Test(.timeLimit(.minutes(5)))
    func slurmScriptRunsAndARequeueFindsTheFinishedRun() async throws {
        let scratch = try MultiHostTests.folder("slurm")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let bin = scratch + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try """
            #!/usr/bin/env bash
            # Stand-in srun: runs --ntasks copies of the command here with SLURM_PROCID set.
            ntasks=1
            while [ $# -gt 0 ]; do
              case "$1" in
                --ntasks=*) ntasks=${1#--ntasks=} ;;
                --*) ;;
                *) break ;;
              esac
              shift
            done
            pids=()
            for ((task = 0; task < ntasks; task++)); do
              SLURM_PROCID=$task "$@" &
              pids+=("$!")
            done
            trap 'kill -TERM "${pids[@]}" 2>/dev/null' TERM INT
            status=0
            for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
            exit "$status"
            """.write(toFile: bin + "/srun", atomically: true, encoding: .utf8)
        try "#!/usr/bin/env bash\n# Stand-in scontrol: one node.\necho localhost\n".write(toFile: bin + "/scontrol", atomically: true, encoding: .utf8)
        for tool in ["srun", "scontrol"] { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/" + tool) }
        let file = scratch + "/scenario.yaml"
        try MultiHostTests.scenario(endpoint: "tcp://127.0.0.1:0").write(toFile: file, atomically: true, encoding: .utf8)
        let port = try Self.freePort()
        let environment = StartedProcesses.environment([
            "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            "FEDARENA": FedArenaProcess.executable, "FEDARENA_PORT": "\(port)", "FEDARENA_BIND": "tcp://127.0.0.1:\(port)",
            "FEDARENA_OUT": scratch + "/run", "FEDARENA_CLIENT_GRACE": "3",
            "SLURM_JOB_ID": "4242", "SLURM_NTASKS": "3", "SLURM_JOB_NODELIST": "localhost",
        ])
        let processes = StartedProcesses(folder: scratch)
        defer { processes.stopAll() }
        let script = Self.repository + "/deploy/slurm/fedarena.sbatch"
        let first = try processes.start("job", "/bin/bash", [script, file], environment: environment)
        #expect(try await processes.wait(first, timeout: 240) == 0, "\(first.stdout)\n\(first.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch + "/run/summary.json"))) as? [String: Any]
        #expect(summary?["rounds_completed"] as? Int == 3)
        #expect(summary?["dropouts"] as? Int == 0)
        let scenario = try String(contentsOfFile: scratch + "/run/scenario.yaml", encoding: .utf8)
        #expect(scenario.contains("processes: 2"), "clients.processes = ntasks - 1")
        // The job made the key folder in the run folder, and the clients used CURVE.
        #expect(FileManager.default.fileExists(atPath: scratch + "/run/keys/allow-list.json"))
        #expect(first.stderr.components(separatedBy: "connecting to tcp://localhost:\(port), CURVE").count - 1 == 2, "\(first.stderr)")

        let requeued = try processes.start("requeued", "/bin/bash", [script, file], environment: environment)
        #expect(try await processes.wait(requeued, timeout: 120) == 0, "\(requeued.stdout)\n\(requeued.stderr)")
        #expect(requeued.stderr.contains("already holds this scenario's finished run"), "\(requeued.stderr)")
    }
}
